/* SPDX-License-Identifier: ISC */
/*
 * What comes back from the writer, reader and hasher threads, answered
 * on the event loop; and the broker's own writes: registrations seeded
 * from the configuration, and the sweep of expired values.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "broker.h"
#include "hasher.h"
#include "ops.h"
#include "privsep/log.h"
#include "reader.h"
#include "rotate.h"
#include "seal.h"
#include "store/store_replay.h"
#include "waiters.h"
#include "writer.h"

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

/* Registrations seeded from [instance UUID] sections, at every start. */
int
ops_seed_instances(struct broker *b)
{
	static struct store_inst	 inst;
	struct wjob			*j;
	size_t				 i;
	int				 created, r;

	/* A reload does not wait on a database: the writer seeds, and its
	 * audit lines say how each went. */
	for (i = 0; reader_on() && i < b->b_conf->c_ninstances; i++) {
		j = ops_job(WJ_INST_PUT, b->b_conf->c_instances[i].mn_id);
		ops_inst_from_wire(j->wj_inst, &b->b_conf->c_instances[i]);
		j->wj_rt.rt_listener = -1;
		(void)snprintf(j->wj_rt.rt_peer, sizeof(j->wj_rt.rt_peer),
		    "config");
		j->wj_audit = "config.instance.put";
		if (writer_submit(j) == -1) {
			log_warnx("instance %s from the configuration: the "
			    "store writer is full", j->wj_id);
			ops_job_free(j);
			return -1;
		}
	}
	for (i = 0; !reader_on() && i < b->b_conf->c_ninstances; i++) {
		ops_inst_from_wire(&inst, &b->b_conf->c_instances[i]);
		r = store_instance_put(b->b_store, &inst, &created);
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
	ops_job_free(j);
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
		ops_job_free(j);
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
			if (seal_value(&b->b_keys, h->hj_id,
			    (const uint8_t *)h->hj_verifier,
			    strlen(h->hj_verifier), PW_KIND_VERIFIER,
			    &j->wj_pw) == -1 || writer_submit(j) == -1) {
				ops_job_free(j);
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
		j = reader_job(AHEAD_EXPIRED, RT_SWEEP);
		j->rj_ah.ah_now = (int64_t)time(NULL);
		j->rj_ah.ah_ttl = (int64_t)b->b_conf->c_pw_ttl;
		j->rj_ah.ah_max = OPS_SWEEP_BATCH;
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
		store_replay_begin(&b->b_store, &j->rj_ah);
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
			ops_pw_get_for(b, &j->rj_rt, j->rj_ah.ah_key,
			    j->rj_wait);
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
			if (j->rj_ah.ah_r == STORE_OK &&
			    j->rj_ah.ah_pw_r == STORE_OK)
				waiters_wake(b, j->rj_ah.ah_key);
			break;
		}
		store_replay_end(&b->b_store);
		reader_free(j);
	}
	sodium_memzero(&m.m_hdr, sizeof(m.m_hdr));
	buf_init(&m.m_payload, NULL, 0);
}

/*
 * A bulk registration has committed, or failed whole: one audit line per
 * entry (the one at fault with its status, 424 for the others), and its
 * answer.  A failure the store pins on no entry (*bad past the end) is
 * every entry's.
 */
static void
ops_batch_done(struct broker *b, struct wjob *j)
{
	static struct msg_batch_ans	ma;
	size_t				i;
	int				status;

	memset(&ma, 0, sizeof(ma));
	status = ops_store_status(j->wj_result, 200);
	if (status == 200)
		for (i = 0; i < j->wj_n; i++) {
			audit_op(b, j->wj_rt.rt_listener, j->wj_rt.rt_peer,
			    j->wj_audit, j->wj_batch[i].ri_id,
			    j->wj_createds[i] ? 201 : 200, NULL);
			ma.mba_created += j->wj_createds[i] ? 1 : 0;
		}
	else if (status == 409 && j->wj_bad < j->wj_n) {
		ops_batch_audit(b, &j->wj_rt, j->wj_batch, j->wj_n, 424,
		    j->wj_bad, 409);
		ma.mba_nerr = 1;
		ma.mba_err[0].index = (uint32_t)j->wj_bad;
		ma.mba_err[0].status = 409;
	} else {
		status = status == 409 ? 503 : status;
		ops_batch_audit(b, &j->wj_rt, j->wj_batch, j->wj_n,
		    (unsigned)status, j->wj_n, 0);
	}
	ma.mba_status = (uint32_t)status;
	b->b_nbatch--;
	ops_send_route(b, &j->wj_rt, &ma, sizeof(ma));
	ops_job_free(j);
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
			ops_job_free(j);
			continue;
		}
		if (j->wj_op == WJ_INST_BATCH) {
			ops_batch_done(b, j);
			continue;
		}
		if (j->wj_op == WJ_KEY_COUNT) {
			ops_retire_done(b, j);
			ops_job_free(j);
			continue;
		}
		if (j->wj_op == WJ_PW_REWRAP) {
			rotate_done(b, j);
			audit_op(b, -1, j->wj_rt.rt_peer, j->wj_audit, j->wj_id,
			    j->wj_result == STORE_OK ? 200 : 409, NULL);
			ops_job_free(j);
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
		ops_job_free(j);
	}
}
