/* SPDX-License-Identifier: ISC */
/*
 * The owner's operations: instances, passwords, keys, status and
 * metrics, and the owner TLS listener's credentials.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "broker.h"
#include "hasher.h"
#include "ops.h"
#include "privsep/log.h"
#include "privsep/validate.h"
#include "reader.h"
#include "rotate.h"
#include "seal.h"
#include "stats.h"
#include "waiters.h"
#include "writer.h"

static int
ops_get_id(struct ops_ctx *c, struct msg_id *mi)
{
	if (chan_get(c->m, mi, sizeof(*mi)) == -1 ||
	    !chan_str_ok(mi->md_id, sizeof(mi->md_id)) ||
	    !valid_uuid(mi->md_id))
		return ops_violation(c, "bad instance id");
	return 0;
}

int
ops_owner_inst_put(struct ops_ctx *c)
{
	static struct msg_instance	 mi;
	struct wjob			*j;

	if (chan_get(c->m, &mi, sizeof(mi)) == -1 || !valid_instance(&mi))
		return ops_violation(c, "invalid instance");
	j = ops_job(WJ_INST_PUT, mi.mn_id);
	ops_inst_from_wire(j->wj_inst, &mi);
	if (!ident_nets_ok(c->b, j->wj_inst)) {
		ops_audit(c, "owner.instance.put", j->wj_id, 400, NULL);
		ops_job_free(j);
		return ops_answer_status(c, 400);
	}
	j->wj_inst->ri_created = 0;
	return ops_submit(c, j, "owner.instance.put");
}

int
ops_owner_inst_get(struct ops_ctx *c)
{
	struct msg_id		mi;
	struct msg_instance_ans	ma;
	struct store_inst	inst;
	int			status;

	if (ops_get_id(c, &mi) == -1)
		return -1;
	status = ops_store_status(store_instance_get(c->b->b_store, mi.md_id,
	    &inst), 200);
	ops_audit(c, "owner.instance.get", mi.md_id, (unsigned)status, NULL);
	ops_inst_answer(&ma, status, &inst);
	return ops_answer(c, &ma, sizeof(ma));
}

int
ops_owner_inst_del(struct ops_ctx *c)
{
	struct msg_id	mi;

	if (ops_get_id(c, &mi) == -1)
		return -1;
	return ops_submit(c, ops_job(WJ_INST_DEL, mi.md_id),
	    "owner.instance.delete");
}

int
ops_owner_inst_list(struct ops_ctx *c)
{
	struct msg_list		ml;
	static struct msg_list_ans mla;
	static struct store_list sl;

	memset(&mla, 0, sizeof(mla));
	memset(&sl, 0, sizeof(sl));
	if (chan_get(c->m, &ml, sizeof(ml)) == -1 ||
	    !chan_str_ok(ml.mls_after, sizeof(ml.mls_after)) ||
	    (ml.mls_after[0] != '\0' && !valid_uuid(ml.mls_after)))
		return ops_violation(c, "bad list cursor");
	mla.mla_status = (uint32_t)ops_store_status(
	    store_instance_list(c->b->b_store, ml.mls_after, &sl), 200);
	if (ml.mls_after[0] == '\0')
		ops_audit(c, "owner.instance.list", "", mla.mla_status, NULL);
	if (mla.mla_status == 200)
		ops_list_to_wire(&mla, &sl);
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
	struct store_inst	inst;
	struct msg_pw		mw;
	struct wjob		*j;
	struct rjob		*j2;
	int			status, present = 0;

	/* Nobody left to answer: a one-time value stays for the next. */
	if (!ops_route_live(b, rt))
		return;
	if (reader_on()) {
		j2 = reader_job(AHEAD_ID, RT_PW_GET);
		j2->rj_ah.ah_want = AHEAD_WANT_PW;
		memcpy(j2->rj_ah.ah_key, id, strnlen(id, ID_LEN));
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
		ops_job_free(j);
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

int
ops_owner_pw_get(struct ops_ctx *c)
{
	struct msg_pw_get	mq;
	struct route		rt;

	if (chan_get(c->m, &mq, sizeof(mq)) == -1 ||
	    !chan_str_ok(mq.mq_id, sizeof(mq.mq_id)) ||
	    !valid_uuid(mq.mq_id) || mq.mq_wait > PW_WAIT_MAX)
		return ops_violation(c, "bad password read");
	ops_route(c, &rt);
	ops_pw_get_for(c->b, &rt, mq.mq_id,
	    broker_conn_wait(c->b, c->bc, mq.mq_wait));
	return 0;
}

int
ops_owner_pw_del(struct ops_ctx *c)
{
	struct msg_id	mi;

	if (ops_get_id(c, &mi) == -1)
		return -1;
	return ops_submit(c, ops_job(WJ_PW_DEL, mi.md_id), "owner.pw.clear");
}

/* GET /keys, POST /keys/rotate, POST /keys/rewrap: the ring afterwards. */
int
ops_owner_keys(struct ops_ctx *c)
{
	struct msg_keys_ans	 mk;
	char			 err[CONF_ERR_MAX];
	unsigned int		 status = 200;

	if (c->m->m_hdr.ch_type == MSG_OWNER_KEY_ROTATE &&
	    rotate_new_key(c->b, err, sizeof(err)) == -1) {
		log_warnx("key rotation: %s", err);
		status = 409;
	}
	if (c->m->m_hdr.ch_type == MSG_OWNER_KEY_REWRAP)
		rotate_start(c->b);
	rotate_fill(c->b, &mk);
	if (status != 200)
		mk.mka_status = status;
	ops_audit(c, c->oe->oe_name, "", mk.mka_status, NULL);
	return ops_answer(c, &mk, sizeof(mk));
}

/* rotate_retire's answer as an HTTP status. */
unsigned int
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
int
ops_owner_key_retire(struct ops_ctx *c)
{
	struct msg_key_id	mk;
	struct wjob		*j;
	char			err[CONF_ERR_MAX] = "";
	unsigned int		status;

	if (chan_get(c->m, &mk, sizeof(mk)) == -1)
		return ops_violation(c, "bad key id");
	status = ops_retire_status(rotate_retire_check(c->b, mk.mki_id, err,
	    sizeof(err)));
	if (status == 204) {
		j = ops_job(WJ_KEY_COUNT, "");
		j->wj_key = mk.mki_id;
		return ops_submit(c, j, "key.retire");
	}
	if (err[0] != '\0')
		log_warnx("retire key %u: %s", mk.mki_id, err);
	ops_audit(c, "key.retire", "", status, NULL);
	return ops_answer_status(c, status);
}

int
ops_owner_metrics(struct ops_ctx *c)
{
	static struct msg_metrics_ans	mm;

	memset(&mm, 0, sizeof(mm));
	/* Counted first, so a scrape sees itself. */
	ops_audit(c, "owner.metrics", "", 200, NULL);
	stats_fill(c->b, &mm);
	mm.mm_status = 200;
	return ops_answer(c, &mm, sizeof(mm));
}

int
ops_owner_status(struct ops_ctx *c)
{
	static struct msg_status_ans	mt;
	struct msg_keys_ans		mk;
	struct broker			*b = c->b;
	const struct listener		*l;
	size_t				 i;
	int				 store_ok;

	memset(&mt, 0, sizeof(mt));
	for (i = 0; i < b->b_nlisten && i < MET_LISTENERS; i++) {
		l = &b->b_listen[i];
		(void)snprintf(mt.mst_lname[i], sizeof(mt.mst_lname[i]),
		    "%s", l->l_name);
		(void)snprintf(mt.mst_lmode[i], sizeof(mt.mst_lmode[i]),
		    "%s", l->l_role == ROLE_OWNER ? "owner" :
		    l->l_ident == IDENT_DIRECT ? "direct" : "proxy");
	}
	mt.mst_nlisten = (uint32_t)i;
	/* The ring as GET /keys shows it: ids and what each seals. */
	rotate_fill(b, &mk);
	for (i = 0; i < mk.mka_n; i++) {
		mt.mst_keyids[i] = mk.mka_id[i];
		mt.mst_keyvalues[i] = mk.mka_records[i];
	}
	mt.mst_nkeyids = mk.mka_n;
	/* The store's state is part of the answer, not its status. */
	mt.mst_status = 200;
	store_ok = store_counts(b->b_store, &mt.mst_instances,
	    &mt.mst_passwords) == STORE_OK && mk.mka_status == 200;
	mt.mst_listeners = (uint32_t)b->b_nlisten;
	mt.mst_worker_restarts = b->b_restarts;
	mt.mst_worker_pid = (uint32_t)b->b_wpid;
	mt.mst_key_newest = keyring_newest(&b->b_keys)->k_id;
	mt.mst_keys = (uint32_t)b->b_keys.kr_n;
	mt.mst_uptime = (int64_t)(time(NULL) - b->b_started);
	(void)snprintf(mt.mst_store, sizeof(mt.mst_store), "%s",
	    store_name(b->b_store));
	(void)snprintf(mt.mst_store_state, sizeof(mt.mst_store_state),
	    "%s", store_ok ? "ok" : "unavailable");
	(void)snprintf(mt.mst_version, sizeof(mt.mst_version), "%s",
	    SEALMD_VERSION);
	return ops_answer(c, &mt, sizeof(mt));
}

/* Credentials of a request on the owner TLS listener (tlsauth.c). */
int
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

/*
 * POST /servers/ID/os-server-password/verify: the candidate against the
 * stored verifier, on the hasher thread.  204 match, 403 not; 404 when
 * nothing is stored, 409 when a value (not a verifier) is.
 */
int
ops_owner_pw_verify(struct ops_ctx *c)
{
	static struct msg_pw_verify	 mv;
	struct store_inst		 inst;
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
	if ((r = store_instance_head(c->b->b_store, mv.mv_id, 0,
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
	/* h is set whenever status is 200: said for the analyzer, which
	 * cannot see ops_store_status in ops.c. */
	if (status == 200 && h != NULL) {
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
 * POST /instances:batch (msg.h): BEGIN, up to BATCH_MAX entries, END.
 * The worker is trusted with none of it: a batch begun twice, an entry
 * outside a batch or past the limit, or an END whose count is not what
 * came, is a violation.  Only allowed owners' batches get room.
 */
int
ops_owner_batch_begin(struct ops_ctx *c)
{
	struct obatch	*ob;

	if (c->bc->bc_batch != NULL)
		return ops_violation(c, "a batch begun twice");
	if ((ob = calloc(1, sizeof(*ob))) == NULL)
		fatal("calloc");
	c->bc->bc_batch = ob;
	if (!ops_owner_allowed(c))
		ob->ob_status = 403;
	else if (c->b->b_nbatch >= BROKER_BATCHES_MAX)
		ob->ob_status = 503;
	else {
		/* Not zeroed: 10 MB a batch, and each entry is written whole
		 * (ops_inst_from_wire) before anything reads it. */
		if ((ob->ob_inst = reallocarray(NULL, BATCH_MAX,
		    sizeof(*ob->ob_inst))) == NULL)
			fatal("reallocarray");
		c->b->b_nbatch++;
	}
	return 0;
}

int
ops_owner_batch_entry(struct ops_ctx *c)
{
	static struct msg_instance	 mi;
	struct obatch			*ob = c->bc->bc_batch;

	if (ob == NULL)
		return ops_violation(c, "a batch entry outside a batch");
	if (ob->ob_n >= BATCH_MAX)
		return ops_violation(c, "a batch over its limit");
	if (chan_get(c->m, &mi, sizeof(mi)) == -1 || !valid_instance(&mi))
		return ops_violation(c, "invalid instance");
	/* A refused batch is read to its end, and kept nowhere. */
	if (ob->ob_inst != NULL) {
		ops_inst_from_wire(&ob->ob_inst[ob->ob_n], &mi);
		ob->ob_inst[ob->ob_n].ri_created = 0;
	}
	ob->ob_n++;
	return 0;
}

/*
 * One audit line per entry: the entry at fault (index bad) has its own
 * status, every other one status; for a batch refused whole, the same.
 */
void
ops_batch_audit(struct broker *b, const struct route *rt,
    const struct store_inst *inst, size_t n, unsigned int status,
    size_t bad, unsigned int bad_status)
{
	size_t	i;

	for (i = 0; i < n; i++)
		audit_op(b, rt->rt_listener, rt->rt_peer,
		    "owner.instance.batch", inst[i].ri_id,
		    i == bad ? bad_status : status, NULL);
}

/*
 * A batch is complete: refused now (403, 503, or 400 for addresses on
 * networks this broker does not serve, as a single PUT), or handed to
 * the writer in one job that stores every entry or none.
 */
int
ops_owner_batch_end(struct ops_ctx *c)
{
	static struct msg_batch_ans	 ma;
	struct msg_batch_end		 me;
	struct obatch			*ob = c->bc->bc_batch;
	struct route			 rt;
	struct wjob			*j;
	uint32_t			 i;

	if (ob == NULL)
		return ops_violation(c, "a batch end outside a batch");
	if (chan_get(c->m, &me, sizeof(me)) == -1 || me.mbe_n != ob->ob_n)
		return ops_violation(c, "a batch end with the wrong count");
	memset(&ma, 0, sizeof(ma));
	ops_route(c, &rt);
	if (ob->ob_status == 0 && !ops_owner_allowed(c))
		ob->ob_status = 403;
	for (i = 0; ob->ob_status == 0 && i < ob->ob_n; i++)
		if (!ident_nets_ok(c->b, &ob->ob_inst[i]) &&
		    ma.mba_nerr < BATCH_ERR_MAX) {
			ma.mba_err[ma.mba_nerr].index = i;
			ma.mba_err[ma.mba_nerr++].status = 400;
		}
	if (ma.mba_nerr > 0) {
		ma.mba_status = 400;
		for (i = 0; i < ob->ob_n; i++)
			audit_op(c->b, rt.rt_listener, rt.rt_peer,
			    "owner.instance.batch", ob->ob_inst[i].ri_id,
			    ident_nets_ok(c->b, &ob->ob_inst[i]) ? 424 : 400,
			    NULL);
	} else if (ob->ob_status != 0) {
		ma.mba_status = ob->ob_status;
		if (ob->ob_inst != NULL)
			ops_batch_audit(c->b, &rt, ob->ob_inst, ob->ob_n,
			    ob->ob_status, ob->ob_n, 0);
		else
			ops_audit(c, "owner.instance.batch", "",
			    ob->ob_status, NULL);
	} else if (ob->ob_n == 0)
		ma.mba_status = 200;
	else {
		j = ops_job(WJ_INST_BATCH, "");
		j->wj_batch = ob->ob_inst;
		j->wj_n = ob->ob_n;
		if ((j->wj_createds = calloc(ob->ob_n,
		    sizeof(*j->wj_createds))) == NULL)
			fatal("calloc");
		j->wj_rt = rt;
		j->wj_audit = "owner.instance.batch";
		ob->ob_inst = NULL;
		broker_batch_free(c->b, c->bc);
		if (writer_submit(j) == 0)
			return 0;
		log_warnx("store writer queue full");
		ops_batch_audit(c->b, &rt, j->wj_batch, j->wj_n, 503,
		    j->wj_n, 0);
		ops_job_free(j);
		c->b->b_nbatch--;
		ma.mba_status = 503;
	}
	broker_batch_free(c->b, c->bc);
	return ops_answer(c, &ma, sizeof(ma));
}
