/* SPDX-License-Identifier: ISC */
/*
 * The guest's operations: who it is, its metadata, its password and its
 * session tokens.  The identity it claims is checked by ident.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "broker.h"
#include "hasher.h"
#include "ops.h"
#include "privsep/log.h"
#include "privsep/utf8.h"
#include "privsep/validate.h"
#include "seal.h"
#include "tokens.h"
#include "writer.h"

static int	ops_pw_utf8(const struct msg_guest_pw_put *);

/*
 * The claimed identity is shaped right for the connection's mode.  In
 * direct mode the worker has nothing to claim: headers cannot change who
 * the guest is.
 */
int
ops_guest_ok(struct ops_ctx *c, const struct msg_guest *g)
{
	if (!chan_str_ok(g->mg_instance, sizeof(g->mg_instance)) ||
	    !chan_str_ok(g->mg_tenant, sizeof(g->mg_tenant)) ||
	    !chan_str_ok(g->mg_sig, sizeof(g->mg_sig)) ||
	    !chan_str_ok(g->mg_token, sizeof(g->mg_token)))
		return ops_violation(c, "unterminated identity field");
	if ((g->mg_flags & ~(GUEST_F_TENANT_LONG | GUEST_F_TOKEN_BAD)) != 0)
		return ops_violation(c, "unknown identity flags");
	/* A direct guest may show a session token, and claim nothing else. */
	if (c->bc->bc_ident == IDENT_DIRECT &&
	    ((g->mg_flags & GUEST_F_TENANT_LONG) != 0 ||
	    g->mg_instance[0] != '\0' ||
	    g->mg_tenant[0] != '\0' || g->mg_sig[0] != '\0'))
		return ops_violation(c, "identity claimed in direct mode");
	return 0;
}

/* What the audit line names: only an id that is shaped like one. */
static const char *
ops_audit_id(const struct msg_guest *g, const struct store_inst *inst,
    int status)
{
	if (status == 200)
		return inst->ri_id;
	return valid_uuid(g->mg_instance) ? g->mg_instance : "";
}

static int
ops_guest_common(struct ops_ctx *c, struct msg_guest *g,
    struct store_inst *inst, int *status)
{
	if (chan_get(c->m, g, sizeof(*g)) == -1 || ops_guest_ok(c, g) == -1)
		return -1;
	*status = ident_guest(c->b, c->bc, g, inst, 1);
	return 0;
}

int
ops_guest_ident(struct ops_ctx *c)
{
	struct msg_guest	g;
	struct store_inst	inst;
	int			status;

	if (ops_guest_common(c, &g, &inst, &status) == -1)
		return -1;
	ops_audit(c, "guest.ident", ops_audit_id(&g, &inst, status),
	    (unsigned)status, NULL);
	return ops_answer_status(c, (unsigned)status);
}

int
ops_guest_meta(struct ops_ctx *c)
{
	struct msg_guest	g;
	struct msg_instance_ans	ma;
	struct store_inst	inst;
	char			id[ID_LEN + 1];
	int			status;

	if (ops_guest_common(c, &g, &inst, &status) == -1)
		return -1;
	/* Identified by its row; meta_data.json wants the keys too. */
	if (status == 200) {
		memcpy(id, inst.ri_id, sizeof(id));
		status = ops_store_status(store_instance_get(c->b->b_store,
		    id, &inst), 200);
	}
	ops_audit(c, "guest.meta",
	    ops_audit_id(&g, &inst, status), (unsigned)status, NULL);
	ops_inst_answer(&ma, status, &inst);
	return ops_answer(c, &ma, sizeof(ma));
}

int
ops_guest_pw_get(struct ops_ctx *c)
{
	struct msg_guest	g;
	struct store_inst	inst;
	struct msg_pw		mw;
	int			status, present, r;

	memset(&mw, 0, sizeof(mw));
	if (ops_guest_common(c, &g, &inst, &status) == -1)
		return -1;
	if (status == 200)
		status = ops_pw_read(c->b, &inst, &mw, &present);
	ops_audit(c, "guest.pw.get", ops_audit_id(&g, &inst, status),
	    (unsigned)status, NULL);
	mw.mw_status = (uint32_t)status;
	r = ops_answer(c, &mw, sizeof(mw));
	sodium_memzero(&mw, sizeof(mw));
	return r;
}

/*
 * post_window: a value may be posted only so long after the instance was
 * registered or its password cleared; after that a late process inside
 * the guest cannot squat the slot.
 */
static int
ops_window_closed(struct ops_ctx *c, const struct store_inst *inst)
{
	uint32_t	window;
	int64_t		start;

	window = c->b->b_listen[c->bc->bc_listener].l_guard.cg_post_window;
	if (window == 0)
		return 0;
	start = inst->ri_cleared > inst->ri_created ? inst->ri_cleared :
	    inst->ri_created;
	return (int64_t)time(NULL) > start + (int64_t)window;
}

/*
 * PUT /openstack/api/token: a session token for the guest this
 * connection proves (its address, or its verified instance).
 */
int
ops_guest_token(struct ops_ctx *c)
{
	struct msg_guest_token	mt;
	struct msg_token_ans	ma;
	struct store_inst	inst;
	int			status, r;

	memset(&ma, 0, sizeof(ma));
	if (chan_get(c->m, &mt, sizeof(mt)) == -1 ||
	    ops_guest_ok(c, &mt.mgt_guest) == -1)
		return -1;
	if (mt.mgt_ttl == 0 || mt.mgt_ttl > TOKEN_TTL_MAX)
		return ops_violation(c, "token ttl out of range");
	if (c->b->b_listen[c->bc->bc_listener].l_guard.cg_tokens ==
	    GUARD_TOKENS_OFF)
		return ops_violation(c, "token asked where tokens are off");
	status = ident_guest(c->b, c->bc, &mt.mgt_guest, &inst, 0);
	if (status == 200 && tokens_issue(c->bc->bc_ident,
	    ident_bind(c->bc, &mt.mgt_guest), mt.mgt_ttl, broker_wall_ms(),
	    ma.mta_token, sizeof(ma.mta_token)) == -1)
		status = 500;
	ops_audit(c, "guest.token", ops_audit_id(&mt.mgt_guest, &inst, status),
	    (unsigned)status, NULL);
	ma.mta_status = (uint32_t)status;
	r = ops_answer(c, &ma, sizeof(ma));
	sodium_memzero(&ma, sizeof(ma));
	return r;
}

/* Every chunk but the last is full; the digest covers the whole value. */
static int
ops_chunks_ok(struct ops_ctx *c, const struct msg_guest_pw_put *mp)
{
	crypto_generichash_state	st;
	uint8_t				digest[PW_DIGEST_LEN];
	size_t				i;

	if (mp->mp_reject != 0 && mp->mp_reject != 400 &&
	    mp->mp_reject != 411)
		return ops_violation(c, "bad reject status");
	if (mp->mp_nchunks > PW_CHUNKS ||
	    (mp->mp_reject != 0 && mp->mp_nchunks != 0))
		return ops_violation(c, "bad chunk count");
	for (i = 0; i < PW_CHUNKS; i++) {
		if (i >= mp->mp_nchunks) {
			if (mp->mp_len[i] != 0)
				return ops_violation(c, "length on an unused "
				    "chunk");
		} else if (i + 1 < mp->mp_nchunks) {
			if (mp->mp_len[i] != PW_CHUNK_LEN)
				return ops_violation(c, "short inner chunk");
		} else if (mp->mp_len[i] == 0 ||
		    mp->mp_len[i] > PW_CHUNK_LEN)
			return ops_violation(c, "bad last chunk length");
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	for (i = 0; i < mp->mp_nchunks; i++)
		crypto_generichash_update(&st, mp->mp_chunk[i],
		    mp->mp_len[i]);
	crypto_generichash_final(&st, digest, sizeof(digest));
	if (sodium_memcmp(digest, mp->mp_digest, sizeof(digest)) != 0)
		return ops_violation(c, "chunk digest mismatch");
	/* The worker answers 400 to anything else: one would break its GETs. */
	if (!ops_pw_utf8(mp))
		return ops_violation(c, "value is not UTF-8");
	return 0;
}

/* The value of a checked PUT, in one piece (the chunks are canonical). */
static size_t
ops_pw_join(const struct msg_guest_pw_put *mp, uint8_t value[PW_MAX])
{
	size_t	i, off = 0;

	for (i = 0; i < mp->mp_nchunks; i++) {
		memcpy(value + off, mp->mp_chunk[i], mp->mp_len[i]);
		off += mp->mp_len[i];
	}
	return off;
}

/* Whole: a character may span two chunks. */
static int
ops_pw_utf8(const struct msg_guest_pw_put *mp)
{
	uint8_t		value[PW_MAX];
	struct buf	b;
	int		ok;

	buf_init(&b, value, ops_pw_join(mp, value));
	ok = utf8_valid(&b);
	sodium_memzero(value, sizeof(value));
	return ok;
}

/*
 * Verifier mode: the value goes to the hasher, never to the store; its
 * verifier is sealed and written when the hash is done (ops_hash_done).
 */
static int
ops_pw_hash(struct ops_ctx *c, const char *id,
    const struct msg_guest_pw_put *mp)
{
	struct hjob	*h;

	if ((h = sodium_malloc(sizeof(*h))) == NULL)
		fatal("sodium_malloc");
	memset(h, 0, sizeof(*h));
	h->hj_op = HJ_HASH;
	(void)snprintf(h->hj_id, sizeof(h->hj_id), "%s", id);
	ops_route(c, &h->hj_rt);
	h->hj_len = ops_pw_join(mp, h->hj_value);
	h->hj_ops = c->b->b_conf->c_vops;
	h->hj_mem = c->b->b_conf->c_vmem;
	if (hasher_submit(h) == 0)
		return 0;
	sodium_free(h);
	log_warnx("hasher queue full");
	ops_audit(c, "guest.pw.put", id, 503, NULL);
	return ops_answer_status(c, 503);
}

int
ops_guest_pw_put(struct ops_ctx *c)
{
	struct msg_guest_pw_put	 mp;
	struct store_inst	 inst;
	struct msg_pw		 cur;
	struct wjob		*j;
	uint8_t			 value[PW_MAX];
	size_t			 len;
	int			 status, present, r;

	if (chan_get(c->m, &mp, sizeof(mp)) == -1 ||
	    ops_guest_ok(c, &mp.mp_guest) == -1 ||
	    ops_chunks_ok(c, &mp) == -1) {
		sodium_memzero(&mp, sizeof(mp));
		return -1;
	}
	status = ident_guest(c->b, c->bc, &mp.mp_guest, &inst, 1);
	/* Nova's order: the conflict, then the size, then the write. */
	if (status == 200) {
		status = ops_pw_read(c->b, &inst, &cur, &present);
		sodium_memzero(&cur, sizeof(cur));
		if (status == 200 && present)
			status = 409;
	}
	if (status == 200 && ops_window_closed(c, &inst))
		status = 403;
	if (status == 200 && mp.mp_reject != 0)
		status = (int)mp.mp_reject;
	if (status == 200 && mp.mp_nchunks > 0) {
		if (ops_mode(c->b, &inst) == PW_MODE_VERIFIER) {
			r = ops_pw_hash(c, inst.ri_id, &mp);
			sodium_memzero(&mp, sizeof(mp));
			return r;
		}
		j = ops_job(WJ_PW_PUT, inst.ri_id);
		len = ops_pw_join(&mp, value);
		r = seal_value(&c->b->b_keys, inst.ri_id, value, len,
		    PW_KIND_VALUE, &j->wj_pw);
		sodium_memzero(value, sizeof(value));
		if (r == 0) {
			sodium_memzero(&mp, sizeof(mp));
			return ops_submit(c, j, "guest.pw.put");
		}
		ops_job_free(j);
		status = 500;
	}
	ops_audit(c, "guest.pw.put",
	    ops_audit_id(&mp.mp_guest, &inst, status), (unsigned)status, NULL);
	sodium_memzero(&mp, sizeof(mp));
	return ops_answer_status(c, (unsigned)status);
}
