/* SPDX-License-Identifier: ISC */
/*
 * The operation table.  Every message the worker sends is checked here
 * before anything else happens: known type, exact payload size, a
 * connection that exists, a listener role that permits the operation,
 * NUL-terminated strings and in-range fields.  Any violation kills the
 * worker; the broker carries on and starts a new one.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "broker.h"
#include "owner_auth.h"
#include "privsep/log.h"
#include "privsep/utf8.h"
#include "privsep/validate.h"
#include "reader.h"
#include "rotate.h"
#include "seal.h"
#include "stats.h"
#include "hasher.h"
#include "tokens.h"
#include "waiters.h"
#include "writer.h"

struct ops_ctx {
	struct broker		*b;
	struct bconn		*bc;
	const struct chan_msg	*m;
	char			 why[128];	/* set on a violation */
};

typedef int (*ops_fn)(struct ops_ctx *);

struct ops_entry {
	uint32_t	 oe_type;
	int		 oe_role;	/* 0: not tied to a connection */
	size_t		 oe_size;
	ops_fn		 oe_fn;
};

static int	ops_init_done(struct ops_ctx *);
static int	ops_pong(struct ops_ctx *);
static int	ops_conn_done(struct ops_ctx *);
static int	ops_http_sent(struct ops_ctx *);
static int	ops_guest_ident(struct ops_ctx *);
static int	ops_guest_meta(struct ops_ctx *);
static int	ops_guest_pw_get(struct ops_ctx *);
static int	ops_guest_pw_put(struct ops_ctx *);
static int	ops_guest_token(struct ops_ctx *);
static int	ops_store_status(int, int);
static void	ops_route(const struct ops_ctx *, struct route *);
static int	ops_owner_inst_put(struct ops_ctx *);
static int	ops_owner_inst_get(struct ops_ctx *);
static int	ops_owner_inst_del(struct ops_ctx *);
static int	ops_owner_inst_list(struct ops_ctx *);
static int	ops_owner_pw_get(struct ops_ctx *);
static int	ops_owner_pw_del(struct ops_ctx *);
static int	ops_owner_status(struct ops_ctx *);
static int	ops_owner_auth(struct ops_ctx *);
static int	ops_owner_metrics(struct ops_ctx *);
static int	ops_owner_keys(struct ops_ctx *);
static int	ops_owner_pw_verify(struct ops_ctx *);
static int	ops_owner_key_retire(struct ops_ctx *);
static int	ops_defer(struct ops_ctx *);
static void	ops_run(struct broker *, struct chan_msg *, int);
static int	ops_guest_ok(struct ops_ctx *, const struct msg_guest *);
static int	ops_pw_utf8(const struct msg_guest_pw_put *);

static const struct ops_entry ops_table[] = {
	{ MSG_INIT_DONE, 0, 0, ops_init_done },
	{ MSG_PONG, 0, 0, ops_pong },
	{ MSG_CONN_DONE, -1, 0, ops_conn_done },
	{ MSG_HTTP_SENT, -1, sizeof(struct msg_status), ops_http_sent },
	{ MSG_GUEST_IDENT, ROLE_GUEST, sizeof(struct msg_guest),
	    ops_guest_ident },
	{ MSG_GUEST_META, ROLE_GUEST, sizeof(struct msg_guest),
	    ops_guest_meta },
	{ MSG_GUEST_PW_GET, ROLE_GUEST, sizeof(struct msg_guest),
	    ops_guest_pw_get },
	{ MSG_GUEST_PW_PUT, ROLE_GUEST, sizeof(struct msg_guest_pw_put),
	    ops_guest_pw_put },
	{ MSG_GUEST_TOKEN, ROLE_GUEST, sizeof(struct msg_guest_token),
	    ops_guest_token },
	{ MSG_OWNER_INST_PUT, ROLE_OWNER, sizeof(struct msg_instance),
	    ops_owner_inst_put },
	{ MSG_OWNER_INST_GET, ROLE_OWNER, sizeof(struct msg_id),
	    ops_owner_inst_get },
	{ MSG_OWNER_INST_DEL, ROLE_OWNER, sizeof(struct msg_id),
	    ops_owner_inst_del },
	{ MSG_OWNER_INST_LIST, ROLE_OWNER, sizeof(struct msg_list),
	    ops_owner_inst_list },
	{ MSG_OWNER_PW_GET, ROLE_OWNER, sizeof(struct msg_pw_get),
	    ops_owner_pw_get },
	{ MSG_OWNER_PW_DEL, ROLE_OWNER, sizeof(struct msg_id),
	    ops_owner_pw_del },
	{ MSG_OWNER_STATUS, ROLE_OWNER, 0, ops_owner_status },
	{ MSG_OWNER_AUTH, ROLE_OWNER, sizeof(struct msg_owner_auth),
	    ops_owner_auth },
	{ MSG_OWNER_METRICS, ROLE_OWNER, 0, ops_owner_metrics },
	{ MSG_OWNER_KEYS, ROLE_OWNER, 0, ops_owner_keys },
	{ MSG_OWNER_PW_VERIFY, ROLE_OWNER, sizeof(struct msg_pw_verify),
	    ops_owner_pw_verify },
	{ MSG_OWNER_KEY_ROTATE, ROLE_OWNER, 0, ops_owner_keys },
	{ MSG_OWNER_KEY_REWRAP, ROLE_OWNER, 0, ops_owner_keys },
	{ MSG_OWNER_KEY_RETIRE, ROLE_OWNER, sizeof(struct msg_key_id),
	    ops_owner_key_retire },
};

static void
ops_audit(struct ops_ctx *c, const char *op, const char *instance,
    unsigned int status, const uint8_t *fp)
{
	audit_op(c->b, c->bc->bc_listener, c->bc->bc_peer, op, instance,
	    status, fp);
}

static int
ops_violation(struct ops_ctx *c, const char *why)
{
	(void)snprintf(c->why, sizeof(c->why), "%s", why);
	return -1;
}

static int
ops_answer(struct ops_ctx *c, const void *p, size_t len)
{
	if (chan_send(&c->b->b_chan, c->m->m_hdr.ch_type + 1,
	    c->m->m_hdr.ch_reqid, c->m->m_hdr.ch_connid, p, len, -1) == -1)
		return ops_violation(c, "channel full");
	broker_conn_answered(c->b, c->m->m_hdr.ch_connid);
	return 0;
}

static int
ops_answer_status(struct ops_ctx *c, unsigned int status)
{
	struct msg_status	ms;

	memset(&ms, 0, sizeof(ms));
	ms.ms_status = status;
	return ops_answer(c, &ms, sizeof(ms));
}

void
ops_dispatch(struct broker *b, struct chan_msg *m)
{
	ops_run(b, m, 0);
}

/* replay: read ahead and run again, already counted on its connection. */
static void
ops_run(struct broker *b, struct chan_msg *m, int replay)
{
	const struct ops_entry	*oe = NULL;
	struct ops_ctx		 c;
	size_t			 i;

	memset(&c, 0, sizeof(c));
	c.b = b;
	c.m = m;
	for (i = 0; i < sizeof(ops_table) / sizeof(ops_table[0]); i++)
		if (ops_table[i].oe_type == m->m_hdr.ch_type)
			oe = &ops_table[i];
	if (oe == NULL) {
		supervise_kill(b, "unknown message type %u", m->m_hdr.ch_type);
		return;
	}
	if (buf_left(&m->m_payload) != oe->oe_size) {
		supervise_kill(b, "message type %u: %zu bytes, want %zu",
		    m->m_hdr.ch_type, buf_left(&m->m_payload), oe->oe_size);
		return;
	}
	if (oe->oe_role != 0) {
		if (b->b_wstate != WORKER_UP &&
		    b->b_wstate != WORKER_STOPPING) {
			supervise_kill(b, "message type %u before init",
			    m->m_hdr.ch_type);
			return;
		}
		if ((c.bc = broker_conn_get(b, m->m_hdr.ch_connid)) == NULL) {
			if (!replay && broker_conn_gone(b, m->m_hdr.ch_connid,
			    m->m_hdr.ch_type))
				return;
			supervise_kill(b, "message type %u on unknown "
			    "connection %u", m->m_hdr.ch_type,
			    m->m_hdr.ch_connid);
			return;
		}
		if (oe->oe_role != -1 && oe->oe_role != c.bc->bc_role) {
			supervise_kill(b, "message type %u not permitted on %s "
			    "connection", m->m_hdr.ch_type,
			    c.bc->bc_role == ROLE_GUEST ? "a guest" :
			    "an owner");
			return;
		}
		/* Past a limit, the connection is closed, the op dropped.
		 * Reports (done, an answer sent) are not operations. */
		if (!replay && oe->oe_role != -1 &&
		    broker_conn_op(b, c.bc) == -1)
			return;
		/* Its answer is the broker's, not the worker's alone. */
		if (oe->oe_role != -1)
			c.bc->bc_asked = 1;
	} else if (m->m_hdr.ch_connid != 0) {
		supervise_kill(b, "message type %u with a connection id",
		    m->m_hdr.ch_type);
		return;
	}
	if (reader_on() && ops_defer(&c) == 0)
		return;
	if (oe->oe_fn(&c) == -1)
		supervise_kill(b, "message type %u: %s", m->m_hdr.ch_type,
		    c.why);
}

/*
 * With a reader, a message that reads the store waits for its reads: the
 * plan comes from the message as it stands, unchecked, and the handler
 * checks it as ever when it runs again on what was read.  1: it reads
 * nothing, run it now.
 */
static int
ops_defer(struct ops_ctx *c)
{
	union reader_msg	 u;
	struct buf		 peek = c->m->m_payload;
	struct rjob		*j;
	enum rj_plan		 plan = RJ_ID;
	const char		*key = "";
	int			 want = 0;
	size_t			 len = buf_left(&peek);

	memset(&u, 0, sizeof(u));
	if (len > sizeof(u) || buf_get(&peek, &u, len) == -1)
		return 1;
	switch (c->m->m_hdr.ch_type) {
	case MSG_GUEST_META:
		want = RJ_WANT_INST;
		/* FALLTHROUGH */
	case MSG_GUEST_PW_GET:
	case MSG_GUEST_PW_PUT:	/* Nova's 409 before anything is sealed */
		if (want == 0)
			want = RJ_WANT_PW;
		/* FALLTHROUGH */
	case MSG_GUEST_IDENT:
	case MSG_GUEST_TOKEN:
		/* Malformed, or refused before its lookup: nothing to
		 * read, answer now. */
		if (ops_guest_ok(c, &u.g) == -1 ||
		    !ident_would_read(c->b, c->bc, &u.g,
		    c->m->m_hdr.ch_type != MSG_GUEST_TOKEN)) {
			sodium_memzero(&u, sizeof(u));
			return 1;
		}
		if (c->bc->bc_ident == IDENT_DIRECT) {
			plan = RJ_ADDR;
			key = c->bc->bc_addr;
		} else
			key = u.g.mg_instance;
		break;
	case MSG_OWNER_INST_GET:
		want = RJ_WANT_INST;
		key = u.i.mi_id;
		break;
	case MSG_OWNER_PW_GET:
		want = RJ_WANT_PW;
		key = u.q.mq_id;
		break;
	case MSG_OWNER_PW_VERIFY:
		want = RJ_WANT_PW;
		key = u.v.mv_id;
		break;
	case MSG_OWNER_INST_LIST:
		plan = RJ_LIST;
		key = u.l.ml_after;
		break;
	case MSG_OWNER_STATUS:
	case MSG_OWNER_METRICS:
	case MSG_OWNER_KEYS:
	case MSG_OWNER_KEY_ROTATE:
	case MSG_OWNER_KEY_REWRAP:
		plan = RJ_COUNTS;
		break;
	default:
		sodium_memzero(&u, sizeof(u));
		return 1;
	}
	j = reader_job(plan, RT_MSG);
	j->rj_want = want;
	/* Unterminated, it finds nothing; the handler refuses it. */
	(void)snprintf(j->rj_key, sizeof(j->rj_key), "%.*s",
	    (int)strnlen(key, sizeof(j->rj_key) - 1), key);
	ops_route(c, &j->rj_rt);
	j->rj_hdr = c->m->m_hdr;
	j->rj_len = len;
	memcpy(j->rj_payload, &u, len);
	sodium_memzero(&u, sizeof(u));
	reader_submit(j);
	return 0;
}

static int
ops_init_done(struct ops_ctx *c)
{
	if (c->b->b_wstate != WORKER_STARTING)
		return ops_violation(c, "init done twice");
	c->b->b_wstate = WORKER_UP;
	log_info("worker %d ready", (int)c->b->b_wpid);
	/* Ping at once: READY=1 waits for a worker that answers. */
	c->b->b_next_ping_ms = 0;
	return 0;
}

static int
ops_pong(struct ops_ctx *c)
{
	if (c->b->b_ping_sent_ms == 0 ||
	    c->m->m_hdr.ch_reqid != c->b->b_ping_id)
		return ops_violation(c, "unexpected pong");
	broker_pong(c->b);
	return 0;
}

static int
ops_conn_done(struct ops_ctx *c)
{
	broker_conn_free(c->b, c->bc->bc_id);
	return 0;
}

/* An HTTP answer went out: metrics by listener and status. */
static int
ops_http_sent(struct ops_ctx *c)
{
	struct msg_status	ms;

	if (chan_get(c->m, &ms, sizeof(ms)) == -1 || ms.ms_status < 200 ||
	    ms.ms_status > 599)
		return ops_violation(c, "bad answer status");
	stats_http(c->bc->bc_listener, ms.ms_status, !c->bc->bc_asked);
	c->bc->bc_asked = 0;
	return 0;
}

/*
 * The claimed identity is shaped right for the connection's mode.  In
 * direct mode the worker has nothing to claim: headers cannot change who
 * the guest is.
 */
static int
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
ops_audit_id(const struct msg_guest *g, const struct msg_instance *inst,
    int status)
{
	if (status == 200)
		return inst->mn_id;
	return valid_uuid(g->mg_instance) ? g->mg_instance : "";
}

static int
ops_guest_common(struct ops_ctx *c, struct msg_guest *g,
    struct msg_instance *inst, int *status)
{
	if (chan_get(c->m, g, sizeof(*g)) == -1 || ops_guest_ok(c, g) == -1)
		return -1;
	*status = ident_guest(c->b, c->bc, g, inst, 1);
	return 0;
}

static int
ops_guest_ident(struct ops_ctx *c)
{
	struct msg_guest	g;
	struct msg_instance	inst;
	int			status;

	if (ops_guest_common(c, &g, &inst, &status) == -1)
		return -1;
	ops_audit(c, "guest.ident", ops_audit_id(&g, &inst, status),
	    (unsigned)status, NULL);
	return ops_answer_status(c, (unsigned)status);
}

static int
ops_guest_meta(struct ops_ctx *c)
{
	struct msg_guest	g;
	struct msg_instance_ans	ma;
	char			id[ID_LEN + 1];
	int			status;

	memset(&ma, 0, sizeof(ma));
	if (ops_guest_common(c, &g, &ma.ma_inst, &status) == -1)
		return -1;
	/* Identified by its row; meta_data.json wants the keys too. */
	if (status == 200) {
		memcpy(id, ma.ma_inst.mn_id, sizeof(id));
		status = ops_store_status(store_instance_get(c->b->b_store,
		    id, &ma.ma_inst), 200);
	}
	ops_audit(c, "guest.meta",
	    ops_audit_id(&g, &ma.ma_inst, status), (unsigned)status, NULL);
	if (status != 200)
		memset(&ma.ma_inst, 0, sizeof(ma.ma_inst));
	ma.ma_status = (uint32_t)status;
	return ops_answer(c, &ma, sizeof(ma));
}

/* How long a value of inst lives: its own TTL or the default; 0: ever. */
static int64_t
ops_ttl(const struct broker *b, const struct msg_instance *inst)
{
	if (inst->mn_pw_ttl > 0)
		return inst->mn_pw_ttl;
	return inst->mn_pw_ttl == 0 ? (int64_t)b->b_conf->c_pw_ttl : 0;
}

static int
ops_one_time(const struct broker *b, const struct msg_instance *inst)
{
	return inst->mn_one_time == 1 ||
	    (inst->mn_one_time == 0 && b->b_conf->c_one_time);
}

static int
ops_mode(const struct broker *b, const struct msg_instance *inst)
{
	return inst->mn_mode != PW_MODE_DEFAULT ? inst->mn_mode :
	    b->b_conf->c_mode;
}

static int
ops_expired(const struct store_pw *sp, int64_t ttl)
{
	return ttl > 0 && sp->sp_set_at + ttl <= (int64_t)time(NULL);
}

/* A value past its TTL is gone for good: have the writer delete it. */
static void
ops_expire(const char *id, int64_t set_at)
{
	struct wjob	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("calloc");
	j->wj_op = WJ_PW_EXPIRE;
	(void)snprintf(j->wj_id, sizeof(j->wj_id), "%s", id);
	j->wj_set_at = set_at;
	j->wj_audit = "pw.expire";
	j->wj_rt.rt_listener = -1;
	(void)snprintf(j->wj_rt.rt_peer, sizeof(j->wj_rt.rt_peer), "broker");
	if (writer_submit(j) == -1)
		free(j);	/* the sweep will find it again */
}

/* Open every chunk of sp into mw; 200, or 500 if any does not open. */
static int
ops_pw_open(struct broker *b, const char *id, struct store_pw *sp,
    struct msg_pw *mw)
{
	size_t	i, len, off = 0;
	int	status = 200;

	mw->mw_len = 0;
	/* Opened even when it is a verifier: the seal vouches for its kind. */
	for (i = 0; i < sp->sp_nchunks; i++) {
		if (off + PW_CHUNK_LEN > sizeof(mw->mw_value) ||
		    seal_open(&b->b_keys, id, (uint8_t)i,
		    (uint8_t)sp->sp_nchunks, sp->sp_kind, sp->sp_set_at,
		    &sp->sp_chunk[i], mw->mw_value + off, &len) == -1) {
			log_warnx("stored value of %s does not open "
			    "(chunk %zu, key %u): %s", id, i,
			    sp->sp_chunk[i].ss_key_id,
			    seal_why(&b->b_keys, &sp->sp_chunk[i]));
			sodium_memzero(mw, sizeof(*mw));
			status = 500;
			break;
		}
		off += len;
	}
	/* A verifier is never handed out: say there is one, nothing more. */
	if (status == 200 && sp->sp_kind == PW_KIND_VERIFIER) {
		sodium_memzero(mw->mw_value, sizeof(mw->mw_value));
		mw->mw_flags |= PW_F_VERIFIER;
	} else if (status == 200)
		mw->mw_len = (uint32_t)off;
	sodium_memzero(sp, sizeof(*sp));
	return status;
}

/*
 * Read inst's value.  Returns 200 with the value, 200 with len 0 when
 * none is set or it has expired, or 500/503.
 */
static int
ops_pw_read(struct broker *b, const struct msg_instance *inst,
    struct msg_pw *mw, int *present)
{
	struct store_pw	sp;
	int		r, status;

	*present = 0;
	mw->mw_len = 0;
	r = store_pw_get(b->b_store, inst->mn_id, &sp);
	if (r == STORE_NOTFOUND)
		return 200;
	if (r != STORE_OK)
		return 503;
	if (ops_expired(&sp, ops_ttl(b, inst))) {
		ops_expire(inst->mn_id, sp.sp_set_at);
		sodium_memzero(&sp, sizeof(sp));
		return 200;
	}
	status = ops_pw_open(b, inst->mn_id, &sp, mw);
	*present = status == 200 && (mw->mw_len > 0 ||
	    (mw->mw_flags & PW_F_VERIFIER));
	return status;
}

static int
ops_guest_pw_get(struct ops_ctx *c)
{
	struct msg_guest	g;
	struct msg_instance	inst;
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
ops_window_closed(struct ops_ctx *c, const struct msg_instance *inst)
{
	uint32_t	window;
	int64_t		start;

	window = c->b->b_listen[c->bc->bc_listener].l_guard.cg_post_window;
	if (window == 0)
		return 0;
	start = inst->mn_cleared > inst->mn_created ? inst->mn_cleared :
	    inst->mn_created;
	return (int64_t)time(NULL) > start + (int64_t)window;
}

/*
 * PUT /openstack/api/token: a session token for the guest this
 * connection proves (its address, or its verified instance).
 */
static int
ops_guest_token(struct ops_ctx *c)
{
	struct msg_guest_token	mt;
	struct msg_token_ans	ma;
	struct msg_instance	inst;
	int			status, r;

	memset(&ma, 0, sizeof(ma));
	if (chan_get(c->m, &mt, sizeof(mt)) == -1 ||
	    ops_guest_ok(c, &mt.mt_guest) == -1)
		return -1;
	if (mt.mt_ttl == 0 || mt.mt_ttl > TOKEN_TTL_MAX)
		return ops_violation(c, "token ttl out of range");
	if (c->b->b_listen[c->bc->bc_listener].l_guard.cg_tokens ==
	    GUARD_TOKENS_OFF)
		return ops_violation(c, "token asked where tokens are off");
	status = ident_guest(c->b, c->bc, &mt.mt_guest, &inst, 0);
	if (status == 200 && tokens_issue(c->bc->bc_ident,
	    ident_bind(c->bc, &mt.mt_guest), mt.mt_ttl, broker_wall_ms(),
	    ma.ma_token, sizeof(ma.ma_token)) == -1)
		status = 500;
	ops_audit(c, "guest.token", ops_audit_id(&mt.mt_guest, &inst, status),
	    (unsigned)status, NULL);
	ma.ma_status = (uint32_t)status;
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

/* Seal every chunk; the writer commits them all, or none (set-once). */
static int
ops_pw_seal(struct broker *b, const char *id, const uint8_t *value,
    size_t len, uint32_t kind, struct store_pw *sp)
{
	size_t	i, n;
	int	r = 0;

	memset(sp, 0, sizeof(*sp));
	sp->sp_nchunks = (uint32_t)((len + PW_CHUNK_LEN - 1) / PW_CHUNK_LEN);
	sp->sp_kind = kind;
	sp->sp_set_at = (int64_t)time(NULL);
	if (sp->sp_nchunks == 0 || sp->sp_nchunks > PW_CHUNKS)
		return -1;
	for (i = 0; i < sp->sp_nchunks && r == 0; i++) {
		n = len - i * PW_CHUNK_LEN < PW_CHUNK_LEN ?
		    len - i * PW_CHUNK_LEN : PW_CHUNK_LEN;
		r = seal_chunk(&b->b_keys, id, (uint8_t)i,
		    (uint8_t)sp->sp_nchunks, sp->sp_kind, sp->sp_set_at,
		    value + i * PW_CHUNK_LEN, n, &sp->sp_chunk[i]);
	}
	if (r == 0)
		r = seal_fingerprint(&b->b_keys, value, len, sp->sp_fp);
	return r;
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

/*
 * Hand a write to the writer thread.  The answer goes out when its batch
 * has committed (ops_write_done).  A full queue is 503 at once.
 */
/* Where this request's answer goes, for an answer that comes later. */
static void
ops_route(const struct ops_ctx *c, struct route *rt)
{
	rt->rt_type = c->m->m_hdr.ch_type + 1;
	rt->rt_reqid = c->m->m_hdr.ch_reqid;
	rt->rt_connid = c->m->m_hdr.ch_connid;
	rt->rt_serial = c->bc->bc_serial;
	rt->rt_listener = c->bc->bc_listener;
	memcpy(rt->rt_peer, c->bc->bc_peer, sizeof(rt->rt_peer));
}

/*
 * The connection rt answers is still the one that asked.  Its 32-bit id
 * may belong to a newer connection by now (the worker's death frees them
 * all; the generation wraps): the serial never repeats.  The broker's own
 * requests are answered to nobody.
 */
int
ops_route_live(struct broker *b, const struct route *rt)
{
	const struct bconn	*bc;

	if (rt->rt_listener == -1 || b->b_chan.c_fd == -1)
		return 0;
	bc = broker_conn_get(b, rt->rt_connid);
	return bc != NULL && bc->bc_serial == rt->rt_serial;
}

/* A late answer; dropped when the connection it was for is gone. */
static void
ops_send_route(struct broker *b, const struct route *rt, const void *p,
    size_t len)
{
	if (!ops_route_live(b, rt))
		return;
	if (chan_send(&b->b_chan, rt->rt_type, rt->rt_reqid, rt->rt_connid,
	    p, len, -1) == -1)
		supervise_kill(b, "channel full");
	else
		broker_conn_answered(b, rt->rt_connid);
}

static int
ops_submit(struct ops_ctx *c, struct wjob *j, const char *audit)
{
	ops_route(c, &j->wj_rt);
	j->wj_audit = audit;
	if (writer_submit(j) == 0)
		return 0;
	log_warnx("store writer queue full");
	ops_audit(c, audit, j->wj_id, 503, NULL);
	sodium_memzero(j, sizeof(*j));
	free(j);
	return ops_answer_status(c, 503);
}

static struct wjob *
ops_job(enum wjob_op op, const char *id)
{
	struct wjob	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("calloc");
	j->wj_op = op;
	(void)snprintf(j->wj_id, sizeof(j->wj_id), "%s", id);
	return j;
}

static int
ops_guest_pw_put(struct ops_ctx *c)
{
	struct msg_guest_pw_put	 mp;
	struct msg_instance	 inst;
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
			r = ops_pw_hash(c, inst.mn_id, &mp);
			sodium_memzero(&mp, sizeof(mp));
			return r;
		}
		j = ops_job(WJ_PW_PUT, inst.mn_id);
		len = ops_pw_join(&mp, value);
		r = ops_pw_seal(c->b, inst.mn_id, value, len, PW_KIND_VALUE,
		    &j->wj_pw);
		sodium_memzero(value, sizeof(value));
		if (r == 0) {
			sodium_memzero(&mp, sizeof(mp));
			return ops_submit(c, j, "guest.pw.put");
		}
		sodium_memzero(j, sizeof(*j));
		free(j);
		status = 500;
	}
	ops_audit(c, "guest.pw.put",
	    ops_audit_id(&mp.mp_guest, &inst, status), (unsigned)status, NULL);
	sodium_memzero(&mp, sizeof(mp));
	return ops_answer_status(c, (unsigned)status);
}

/*
 * Owner operations: refused with 403 unless the peer is allowed.  On the
 * unix socket, its SO_PEERCRED credentials are held against the allow
 * list as it is now, so a reload that drops them revokes open
 * connections too.
 */
static int
ops_owner_denied(struct ops_ctx *c, const char *op, const char *id)
{
	if (c->bc->bc_tls == 0)
		c->bc->bc_authorized = owner_auth_allowed(c->bc->bc_uid,
		    c->bc->bc_gid);
	if (c->bc->bc_authorized)
		return 0;
	ops_audit(c, op, valid_uuid(id) ? id : "", 403, NULL);
	return 1;
}

static int
ops_get_id(struct ops_ctx *c, struct msg_id *mi)
{
	if (chan_get(c->m, mi, sizeof(*mi)) == -1 ||
	    !chan_str_ok(mi->mi_id, sizeof(mi->mi_id)) ||
	    !valid_uuid(mi->mi_id))
		return ops_violation(c, "bad instance id");
	return 0;
}

static int
ops_store_status(int r, int ok)
{
	switch (r) {
	case STORE_OK:
		return ok;
	case STORE_NOTFOUND:
		return 404;
	case STORE_CONFLICT:
		return 409;
	default:
		return 503;
	}
}

static int
ops_owner_inst_put(struct ops_ctx *c)
{
	struct wjob	*j;

	j = ops_job(WJ_INST_PUT, "");
	if (chan_get(c->m, &j->wj_inst, sizeof(j->wj_inst)) == -1 ||
	    !valid_instance(&j->wj_inst)) {
		free(j);
		return ops_violation(c, "invalid instance");
	}
	memcpy(j->wj_id, j->wj_inst.mn_id, sizeof(j->wj_id));
	if (ops_owner_denied(c, "owner.instance.put", j->wj_id)) {
		free(j);
		return ops_answer_status(c, 403);
	}
	if (!ident_nets_ok(c->b, &j->wj_inst)) {
		ops_audit(c, "owner.instance.put", j->wj_id, 400, NULL);
		free(j);
		return ops_answer_status(c, 400);
	}
	j->wj_inst.mn_created = 0;
	return ops_submit(c, j, "owner.instance.put");
}

static int
ops_owner_inst_get(struct ops_ctx *c)
{
	struct msg_id		mi;
	struct msg_instance_ans	ma;
	int			status = 403;

	memset(&ma, 0, sizeof(ma));
	if (ops_get_id(c, &mi) == -1)
		return -1;
	if (!ops_owner_denied(c, "owner.instance.get", mi.mi_id)) {
		status = ops_store_status(store_instance_get(c->b->b_store,
		    mi.mi_id, &ma.ma_inst), 200);
		ops_audit(c, "owner.instance.get", mi.mi_id,
		    (unsigned)status, NULL);
	}
	if (status != 200)
		memset(&ma.ma_inst, 0, sizeof(ma.ma_inst));
	ma.ma_status = (uint32_t)status;
	return ops_answer(c, &ma, sizeof(ma));
}

static int
ops_owner_inst_del(struct ops_ctx *c)
{
	struct msg_id	mi;

	if (ops_get_id(c, &mi) == -1)
		return -1;
	if (ops_owner_denied(c, "owner.instance.delete", mi.mi_id))
		return ops_answer_status(c, 403);
	return ops_submit(c, ops_job(WJ_INST_DEL, mi.mi_id),
	    "owner.instance.delete");
}

static int
ops_owner_inst_list(struct ops_ctx *c)
{
	struct msg_list		ml;
	static struct msg_list_ans mla;

	memset(&mla, 0, sizeof(mla));
	if (chan_get(c->m, &ml, sizeof(ml)) == -1 ||
	    !chan_str_ok(ml.ml_after, sizeof(ml.ml_after)) ||
	    (ml.ml_after[0] != '\0' && !valid_uuid(ml.ml_after)))
		return ops_violation(c, "bad list cursor");
	if (ops_owner_denied(c, "owner.instance.list", ""))
		mla.mla_status = 403;
	else {
		mla.mla_status = (uint32_t)ops_store_status(
		    store_instance_list(c->b->b_store, ml.ml_after, &mla), 200);
		if (ml.ml_after[0] == '\0')
			ops_audit(c, "owner.instance.list", "",
			    mla.mla_status, NULL);
	}
	if (mla.mla_status != 200)
		mla.mla_n = mla.mla_more = 0;
	return ops_answer(c, &mla, sizeof(mla));
}

/*
 * An owner GET, answered now or later: for a request as it comes, for a
 * waiter woken by a POST, or for one whose time is up (wait 0).  A
 * one-time value goes through the writer, which reads and removes it.
 */
void
ops_pw_get_for(struct broker *b, const struct route *rt, const char *id,
    uint32_t wait)
{
	struct msg_instance	inst;
	struct msg_pw		mw;
	struct wjob		*j;
	struct rjob		*j2;
	int			status, present = 0;

	/* Nobody left to answer: a one-time value stays for the next. */
	if (!ops_route_live(b, rt))
		return;
	if (reader_on()) {
		j2 = reader_job(RJ_ID, RT_PW_GET);
		j2->rj_want = RJ_WANT_PW;
		memcpy(j2->rj_key, id, strnlen(id, ID_LEN));
		j2->rj_rt = *rt;
		j2->rj_wait = wait;
		reader_submit(j2);
		return;
	}
	memset(&mw, 0, sizeof(mw));
	status = ops_store_status(store_instance_head(b->b_store, id, 0,
	    &inst), 200);
	/* A verifier is not a value to read once: it stays. */
	if (status == 200 && ops_one_time(b, &inst) &&
	    ops_mode(b, &inst) != PW_MODE_VERIFIER) {
		j = ops_job(WJ_PW_TAKE, id);
		j->wj_ttl = ops_ttl(b, &inst);
		j->wj_wait = wait;
		j->wj_rt = *rt;
		j->wj_audit = "owner.pw.get";
		if (writer_submit(j) == 0)
			return;
		free(j);
		status = 503;
	}
	if (status == 200)
		status = ops_pw_read(b, &inst, &mw, &present);
	if (status == 200 && !present && wait > 0) {
		if (waiters_add(rt, id, broker_now_ms() +
		    (uint64_t)wait * 1000) == 0)
			return;
		log_warnx("owner GET with wait: %d waiters already",
		    WAITERS_MAX);
		status = 503;
	}
	audit_op(b, rt->rt_listener, rt->rt_peer, "owner.pw.get", id,
	    (unsigned)status, NULL);
	mw.mw_status = (uint32_t)status;
	ops_send_route(b, rt, &mw, sizeof(mw));
	sodium_memzero(&mw, sizeof(mw));
}

static int
ops_owner_pw_get(struct ops_ctx *c)
{
	struct msg_pw_get	mq;
	struct msg_pw		mw;
	struct route		rt;

	if (chan_get(c->m, &mq, sizeof(mq)) == -1 ||
	    !chan_str_ok(mq.mq_id, sizeof(mq.mq_id)) ||
	    !valid_uuid(mq.mq_id) || mq.mq_wait > PW_WAIT_MAX)
		return ops_violation(c, "bad password read");
	if (ops_owner_denied(c, "owner.pw.get", mq.mq_id)) {
		memset(&mw, 0, sizeof(mw));
		mw.mw_status = 403;
		return ops_answer(c, &mw, sizeof(mw));
	}
	ops_route(c, &rt);
	ops_pw_get_for(c->b, &rt, mq.mq_id,
	    broker_conn_wait(c->b, c->bc, mq.mq_wait));
	return 0;
}

static int
ops_owner_pw_del(struct ops_ctx *c)
{
	struct msg_id	mi;

	if (ops_get_id(c, &mi) == -1)
		return -1;
	if (ops_owner_denied(c, "owner.pw.clear", mi.mi_id))
		return ops_answer_status(c, 403);
	return ops_submit(c, ops_job(WJ_PW_DEL, mi.mi_id), "owner.pw.clear");
}

/* GET /keys, POST /keys/rotate, POST /keys/rewrap: the ring afterwards. */
static int
ops_owner_keys(struct ops_ctx *c)
{
	struct msg_keys_ans	 mk;
	const char		*op;
	char			 err[CONF_ERR_MAX];
	unsigned int		 status = 200;

	switch (c->m->m_hdr.ch_type) {
	case MSG_OWNER_KEY_ROTATE:
		op = "key.rotate";
		break;
	case MSG_OWNER_KEY_REWRAP:
		op = "key.rewrap";
		break;
	default:
		op = "owner.keys";
		break;
	}
	if (ops_owner_denied(c, op, "")) {
		memset(&mk, 0, sizeof(mk));
		mk.mk_status = 403;
		return ops_answer(c, &mk, sizeof(mk));
	}
	if (c->m->m_hdr.ch_type == MSG_OWNER_KEY_ROTATE &&
	    rotate_new_key(c->b, err, sizeof(err)) == -1) {
		log_warnx("key rotation: %s", err);
		status = 409;
	}
	if (c->m->m_hdr.ch_type == MSG_OWNER_KEY_REWRAP)
		rotate_start(c->b);
	rotate_fill(c->b, &mk);
	if (status != 200)
		mk.mk_status = status;
	ops_audit(c, op, "", mk.mk_status, NULL);
	return ops_answer(c, &mk, sizeof(mk));
}

/* rotate_retire's answer as an HTTP status. */
static unsigned int
ops_retire_status(int r)
{
	switch (r) {
	case 0:
		return 204;
	case 1:
		return 404;
	case 2:
		return 409;
	default:
		return 503;
	}
}

/* The writer counts the key's values, after the writes queued before. */
static int
ops_owner_key_retire(struct ops_ctx *c)
{
	struct msg_key_id	mk;
	struct wjob		*j;
	char			err[CONF_ERR_MAX] = "";
	unsigned int		status;

	if (chan_get(c->m, &mk, sizeof(mk)) == -1)
		return ops_violation(c, "bad key id");
	if (ops_owner_denied(c, "key.retire", ""))
		return ops_answer_status(c, 403);
	status = ops_retire_status(rotate_retire_check(c->b, mk.mk_id, err,
	    sizeof(err)));
	if (status == 204) {
		j = ops_job(WJ_KEY_COUNT, "");
		j->wj_key = mk.mk_id;
		return ops_submit(c, j, "key.retire");
	}
	if (err[0] != '\0')
		log_warnx("retire key %u: %s", mk.mk_id, err);
	ops_audit(c, "key.retire", "", status, NULL);
	return ops_answer_status(c, status);
}

/* The count is in: retire the key, or say why not. */
static void
ops_retire_done(struct broker *b, const struct wjob *j)
{
	struct msg_status	ms;
	char			err[CONF_ERR_MAX] = "";

	memset(&ms, 0, sizeof(ms));
	ms.ms_status = ops_retire_status(rotate_retire(b, j, err,
	    sizeof(err)));
	if (err[0] != '\0')
		log_warnx("retire key %u: %s", j->wj_key, err);
	audit_op(b, j->wj_rt.rt_listener, j->wj_rt.rt_peer, j->wj_audit, "",
	    ms.ms_status, NULL);
	ops_send_route(b, &j->wj_rt, &ms, sizeof(ms));
}

static int
ops_owner_metrics(struct ops_ctx *c)
{
	static struct msg_metrics_ans	mm;

	memset(&mm, 0, sizeof(mm));
	if (ops_owner_denied(c, "owner.metrics", ""))
		mm.mm_status = 403;
	else {
		/* Counted first, so a scrape sees itself. */
		ops_audit(c, "owner.metrics", "", 200, NULL);
		stats_fill(c->b, &mm);
		mm.mm_status = 200;
	}
	return ops_answer(c, &mm, sizeof(mm));
}

static int
ops_owner_status(struct ops_ctx *c)
{
	static struct msg_status_ans	mt;
	struct msg_keys_ans		mk;
	struct broker			*b = c->b;
	const struct listener		*l;
	size_t				 i;
	int				 store_ok;

	memset(&mt, 0, sizeof(mt));
	if (ops_owner_denied(c, "owner.status", ""))
		mt.mt_status = 403;
	else {
		for (i = 0; i < b->b_nlisten && i < MET_LISTENERS; i++) {
			l = &b->b_listen[i];
			(void)snprintf(mt.mt_lname[i], sizeof(mt.mt_lname[i]),
			    "%s", l->l_name);
			(void)snprintf(mt.mt_lmode[i], sizeof(mt.mt_lmode[i]),
			    "%s", l->l_role == ROLE_OWNER ? "owner" :
			    l->l_ident == IDENT_DIRECT ? "direct" : "proxy");
		}
		mt.mt_nlisten = (uint32_t)i;
		/* The ring as GET /keys shows it: ids and what each seals. */
		rotate_fill(b, &mk);
		for (i = 0; i < mk.mk_n; i++) {
			mt.mt_keyids[i] = mk.mk_id[i];
			mt.mt_keyvalues[i] = mk.mk_records[i];
		}
		mt.mt_nkeyids = mk.mk_n;
		/* The store's state is part of the answer, not its status. */
		mt.mt_status = 200;
		store_ok = store_counts(b->b_store, &mt.mt_instances,
		    &mt.mt_passwords) == STORE_OK && mk.mk_status == 200;
		mt.mt_listeners = (uint32_t)b->b_nlisten;
		mt.mt_worker_restarts = b->b_restarts;
		mt.mt_worker_pid = (uint32_t)b->b_wpid;
		mt.mt_key_newest = keyring_newest(&b->b_keys)->k_id;
		mt.mt_keys = (uint32_t)b->b_keys.kr_n;
		mt.mt_uptime = (int64_t)(time(NULL) - b->b_started);
		(void)snprintf(mt.mt_store, sizeof(mt.mt_store), "%s",
		    store_name(b->b_store));
		(void)snprintf(mt.mt_store_state, sizeof(mt.mt_store_state),
		    "%s", store_ok ? "ok" : "unavailable");
		(void)snprintf(mt.mt_version, sizeof(mt.mt_version), "%s",
		    SEALMD_VERSION);
	}
	return ops_answer(c, &mt, sizeof(mt));
}

/* Credentials of a request on the owner TLS listener (tlsauth.c). */
static int
ops_owner_auth(struct ops_ctx *c)
{
	struct msg_owner_auth	mo;
	unsigned int		status;
	int			r;

	if (chan_get(c->m, &mo, sizeof(mo)) == -1)
		return ops_violation(c, "bad credentials");
	r = tlsauth_check(c->b, c->bc, &mo, &status, c->why, sizeof(c->why));
	sodium_memzero(&mo, sizeof(mo));
	if (r == -1)
		return -1;
	return ops_answer_status(c, status);
}

/* Registrations seeded from [instance UUID] sections, at every start. */
int
ops_seed_instances(struct broker *b)
{
	struct wjob	*j;
	size_t		 i;
	int		 created, r;

	/* A reload does not wait on a database: the writer seeds, and its
	 * audit lines say how each went. */
	for (i = 0; reader_on() && i < b->b_conf->c_ninstances; i++) {
		j = ops_job(WJ_INST_PUT, b->b_conf->c_instances[i].mn_id);
		j->wj_inst = b->b_conf->c_instances[i];
		j->wj_rt.rt_listener = -1;
		(void)snprintf(j->wj_rt.rt_peer, sizeof(j->wj_rt.rt_peer),
		    "config");
		j->wj_audit = "config.instance.put";
		if (writer_submit(j) == -1) {
			log_warnx("instance %s from the configuration: the "
			    "store writer is full", j->wj_id);
			free(j);
			return -1;
		}
	}
	for (i = 0; !reader_on() && i < b->b_conf->c_ninstances; i++) {
		r = store_instance_put(b->b_store, &b->b_conf->c_instances[i],
		    &created);
		if (r != STORE_OK) {
			log_warnx("instance %s from the configuration: %s",
			    b->b_conf->c_instances[i].mn_id,
			    r == STORE_CONFLICT ? "an address belongs to "
			    "another instance" : "store error");
			return -1;
		}
	}
	return 0;
}

/*
 * The owner of a one-time read left while it ran (hung up, or its worker
 * died), or the value did not open: it goes back, with its seal,
 * fingerprint and age, unless a new one was posted meanwhile.  The
 * writer's answer wakes waiters.
 */
static void
ops_take_undo(struct broker *b, struct wjob *j, int took)
{
	if (took) {
		j->wj_op = WJ_PW_PUT;
		j->wj_audit = "pw.one_time_restore";
		memset(&j->wj_rt, 0, sizeof(j->wj_rt));
		j->wj_rt.rt_listener = -1;
		(void)snprintf(j->wj_rt.rt_peer, sizeof(j->wj_rt.rt_peer),
		    "broker");
		if (writer_submit(j) == 0)
			return;
		log_warnx("one-time value of %s: taken but not handed "
		    "out, and lost: the store writer is full", j->wj_id);
		audit_op(b, -1, "broker", "pw.one_time_clear", j->wj_id, 200,
		    NULL);
	}
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/*
 * A one-time read is done: the value, if any, is already removed.  It is
 * opened here, where the keys are, and answered as a GET.  Expired, it
 * counts as none.  One that does not open is answered 500 and goes back:
 * its key may only be missing for now.
 */
static void
ops_take_done(struct broker *b, struct wjob *j)
{
	struct msg_pw	mw;
	struct store_pw	sealed;
	int		status, took;

	memset(&mw, 0, sizeof(mw));
	status = ops_store_status(j->wj_result, 200);
	took = status == 200 && j->wj_pw.sp_nchunks > 0;
	if (!ops_route_live(b, &j->wj_rt)) {
		ops_take_undo(b, j, took);
		return;
	}
	if (took && !ops_expired(&j->wj_pw, j->wj_ttl)) {
		sealed = j->wj_pw;
		status = ops_pw_open(b, j->wj_id, &j->wj_pw, &mw);
		if (status != 200)
			j->wj_pw = sealed;
		sodium_memzero(&sealed, sizeof(sealed));
	} else if (status == 200 && j->wj_wait > 0 &&
	    waiters_add(&j->wj_rt, j->wj_id, broker_now_ms() +
	    (uint64_t)j->wj_wait * 1000) == 0) {
		/* Nothing to take yet: wait for the guest's POST. */
		sodium_memzero(j, sizeof(*j));
		free(j);
		return;
	}
	audit_op(b, j->wj_rt.rt_listener, j->wj_rt.rt_peer, j->wj_audit,
	    j->wj_id, (unsigned)status, NULL);
	if (took && status == 200)
		audit_op(b, -1, "broker", "pw.one_time_clear", j->wj_id, 200,
		    NULL);
	mw.mw_status = (uint32_t)status;
	ops_send_route(b, &j->wj_rt, &mw, sizeof(mw));
	sodium_memzero(&mw, sizeof(mw));
	ops_take_undo(b, j, took && status != 200);
}

/*
 * POST /servers/ID/os-server-password/verify: the candidate against the
 * stored verifier, on the hasher thread.  204 match, 403 not; 404 when
 * nothing is stored, 409 when a value (not a verifier) is.
 */
static int
ops_owner_pw_verify(struct ops_ctx *c)
{
	static struct msg_pw_verify	 mv;
	struct msg_instance		 inst;
	struct store_pw			 sp;
	struct hjob			*h = NULL;
	uint8_t				 chunk[PW_CHUNK_LEN];
	size_t				 i, len, off = 0;
	int				 status = 200, r;

	if (chan_get(c->m, &mv, sizeof(mv)) == -1 ||
	    !chan_str_ok(mv.mv_id, sizeof(mv.mv_id)) ||
	    !valid_uuid(mv.mv_id) || mv.mv_len > PW_MAX) {
		sodium_memzero(&mv, sizeof(mv));
		return ops_violation(c, "bad verify request");
	}
	if (ops_owner_denied(c, "owner.pw.verify", mv.mv_id))
		status = 403;
	else if ((r = store_instance_head(c->b->b_store, mv.mv_id, 0,
	    &inst)) != STORE_OK)
		status = ops_store_status(r, 200);
	else if ((r = store_pw_get(c->b->b_store, mv.mv_id, &sp)) != STORE_OK)
		status = ops_store_status(r, 200);
	else if (sp.sp_kind != PW_KIND_VERIFIER ||
	    ops_expired(&sp, ops_ttl(c->b, &inst)))
		status = sp.sp_kind != PW_KIND_VERIFIER ? 409 : 404;
	else {
		if ((h = sodium_malloc(sizeof(*h))) == NULL)
			fatal("sodium_malloc");
		memset(h, 0, sizeof(*h));
		for (i = 0; i < sp.sp_nchunks; i++) {
			if (seal_open(&c->b->b_keys, mv.mv_id, (uint8_t)i,
			    (uint8_t)sp.sp_nchunks, sp.sp_kind, sp.sp_set_at,
			    &sp.sp_chunk[i], chunk, &len) == -1 ||
			    off + len >= sizeof(h->hj_verifier)) {
				status = 500;
				break;
			}
			memcpy(h->hj_verifier + off, chunk, len);
			off += len;
		}
		h->hj_verifier[off] = '\0';
		sodium_memzero(chunk, sizeof(chunk));
	}
	sodium_memzero(&sp, sizeof(sp));
	if (status == 200) {
		h->hj_op = HJ_VERIFY;
		memcpy(h->hj_id, mv.mv_id, sizeof(h->hj_id));
		ops_route(c, &h->hj_rt);
		memcpy(h->hj_value, mv.mv_value, mv.mv_len);
		h->hj_len = mv.mv_len;
		sodium_memzero(mv.mv_value, sizeof(mv.mv_value));
		if (hasher_submit(h) == 0)
			return 0;
		status = 503;
	}
	if (h != NULL)
		sodium_free(h);
	ops_audit(c, "owner.pw.verify", mv.mv_id, (unsigned)status, NULL);
	sodium_memzero(&mv, sizeof(mv));
	return ops_answer_status(c, (unsigned)status);
}

/*
 * The hasher is done.  A new verifier is sealed and written like a value
 * (the fingerprint is of the verifier: a keyed hash of the password would
 * be a shortcut past Argon2); a verification is answered.
 */
void
ops_hash_done(struct broker *b)
{
	struct msg_status	 ms;
	struct hjob		*h, *next;
	struct wjob		*j;
	int			 status;

	for (h = hasher_done(); h != NULL; h = next) {
		next = h->hj_next;
		status = 0;
		if (h->hj_op == HJ_VERIFY)
			status = h->hj_match == 1 ? 204 :
			    h->hj_match == 0 ? 403 : 500;
		else if (h->hj_match != 1)
			status = 500;
		else {
			j = ops_job(WJ_PW_PUT, h->hj_id);
			j->wj_rt = h->hj_rt;
			j->wj_audit = "guest.pw.put";
			if (ops_pw_seal(b, h->hj_id,
			    (const uint8_t *)h->hj_verifier,
			    strlen(h->hj_verifier), PW_KIND_VERIFIER,
			    &j->wj_pw) == -1 || writer_submit(j) == -1) {
				sodium_memzero(j, sizeof(*j));
				free(j);
				status = 503;
			}
		}
		if (status != 0) {
			audit_op(b, h->hj_rt.rt_listener, h->hj_rt.rt_peer,
			    h->hj_op == HJ_VERIFY ? "owner.pw.verify" :
			    "guest.pw.put", h->hj_id, (unsigned)status, NULL);
			memset(&ms, 0, sizeof(ms));
			ms.ms_status = (uint32_t)status;
			ops_send_route(b, &h->hj_rt, &ms, sizeof(ms));
		}
		sodium_free(h);
	}
}

/* Delete values past their TTL, a batch at a time, every few seconds. */
void
ops_expire_sweep(struct broker *b)
{
	char		ids[OPS_SWEEP_BATCH][ID_LEN + 1];
	int64_t		set_at[OPS_SWEEP_BATCH];
	struct rjob	*j;
	size_t		n, i;

	if (reader_on()) {
		j = reader_job(RJ_EXPIRED, RT_SWEEP);
		j->rj_now = (int64_t)time(NULL);
		j->rj_ttl = (int64_t)b->b_conf->c_pw_ttl;
		j->rj_max = OPS_SWEEP_BATCH;
		reader_submit(j);
		return;
	}
	if (store_pw_expired(b->b_store, (int64_t)time(NULL),
	    (int64_t)b->b_conf->c_pw_ttl, ids, set_at, OPS_SWEEP_BATCH,
	    &n) != STORE_OK)
		return;
	for (i = 0; i < n; i++)
		ops_expire(ids[i], set_at[i]);
}

/*
 * Reads done ahead: each request runs now, on what was read.  A message
 * of a connection closed meanwhile (by its worker's death too) is
 * dropped, even if a new connection has its id by now.
 */
void
ops_read_done(struct broker *b)
{
	static struct chan_msg	 m;
	struct rjob		*j, *next;

	for (j = reader_done(); j != NULL; j = next) {
		next = j->rj_next;
		reader_replay_begin(b, j);
		switch (j->rj_then) {
		case RT_MSG:
			if ((b->b_wstate != WORKER_UP &&
			    b->b_wstate != WORKER_STOPPING) ||
			    !ops_route_live(b, &j->rj_rt))
				break;
			m.m_hdr = j->rj_hdr;
			m.m_fd = -1;
			buf_init(&m.m_payload, j->rj_payload, j->rj_len);
			ops_run(b, &m, 1);
			break;
		case RT_PW_GET:
			ops_pw_get_for(b, &j->rj_rt, j->rj_key, j->rj_wait);
			break;
		case RT_SWEEP:
			ops_expire_sweep(b);
			break;
		case RT_ROTATE:
			b->b_rewrap_reading = 0;
			rotate_step(b);
			break;
		case RT_NOTIFY:
			broker_notify_status(b, j->rj_state);
			break;
		case RT_WAIT_POLL:
			if (j->rj_r == STORE_OK && j->rj_pw_r == STORE_OK)
				waiters_wake(b, j->rj_key);
			break;
		}
		reader_replay_end(b);
		reader_free(j);
	}
	sodium_memzero(&m.m_hdr, sizeof(m.m_hdr));
	buf_init(&m.m_payload, NULL, 0);
}

/*
 * Answers for writes whose batch has committed (or failed).  The audit
 * line is written even when the connection, or the worker, is gone: the
 * write happened.  Answers for an older worker's connections are dropped.
 */
void
ops_write_done(struct broker *b)
{
	struct msg_status	 ms;
	struct wjob		*j, *next;
	int			 ok, status;

	/* Reads after an answer must see its commit: a new snapshot. */
	store_read_end(b->b_store);
	for (j = writer_done(); j != NULL; j = next) {
		next = j->wj_next;
		if (j->wj_op == WJ_PW_TAKE) {
			ops_take_done(b, j);
			continue;
		}
		if (j->wj_op == WJ_PW_EXPIRE) {
			if (j->wj_result == STORE_OK)
				audit_op(b, -1, j->wj_rt.rt_peer, j->wj_audit,
				    j->wj_id, 200, NULL);
			free(j);
			continue;
		}
		if (j->wj_op == WJ_KEY_COUNT) {
			ops_retire_done(b, j);
			free(j);
			continue;
		}
		if (j->wj_op == WJ_PW_REWRAP) {
			rotate_done(b, j);
			audit_op(b, -1, j->wj_rt.rt_peer, j->wj_audit, j->wj_id,
			    j->wj_result == STORE_OK ? 200 : 409, NULL);
			sodium_memzero(j, sizeof(*j));
			free(j);
			continue;
		}
		ok = j->wj_op == WJ_PW_PUT ? 200 :
		    j->wj_op == WJ_INST_PUT ? (j->wj_created ? 201 : 200) : 204;
		status = ops_store_status(j->wj_result, ok);
		audit_op(b, j->wj_rt.rt_listener, j->wj_rt.rt_peer,
		    j->wj_audit, j->wj_id, (unsigned)status,
		    j->wj_op == WJ_PW_PUT && status == 200 ?
		    j->wj_pw.sp_fp : NULL);
		memset(&ms, 0, sizeof(ms));
		ms.ms_status = (uint32_t)status;
		ops_send_route(b, &j->wj_rt, &ms, sizeof(ms));
		/* A value arrived: owners waiting for it get it now. */
		if (j->wj_op == WJ_PW_PUT && status == 200)
			waiters_wake(b, j->wj_id);
		sodium_memzero(j, sizeof(*j));
		free(j);
	}
}
