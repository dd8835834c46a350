/* SPDX-License-Identifier: ISC */
/*
 * The operation table.  Every message the worker sends is checked here
 * before anything else happens: known type, exact payload size, a
 * connection that exists, a listener role that permits the operation,
 * NUL-terminated strings and in-range fields.  Any violation kills the
 * worker; the broker carries on and starts a new one.  The handlers are
 * in ops_guest.c and ops_owner.c, the completions in ops_done.c.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "broker.h"
#include "ops.h"
#include "owner_auth.h"
#include "privsep/log.h"
#include "privsep/validate.h"
#include "reader.h"
#include "seal.h"
#include "stats.h"
#include "writer.h"

static int	ops_init_done(struct ops_ctx *);
static int	ops_pong(struct ops_ctx *);
static int	ops_conn_done(struct ops_ctx *);
static int	ops_http_sent(struct ops_ctx *);
static int	ops_defer(struct ops_ctx *);
static int	ops_owner_gate(struct ops_ctx *);

/*
 * One row per message type; every gate is a column, checked in ops_run
 * and nowhere else, as OpenSSH's mon_table.  The handlers do the work.
 */
#define OWNER(t, size, ans, fl, name, ahead, want, key, fn)		\
	{ t, ROLE_OWNER, size, ans, OPS_F_OWNER_AUTH | (fl), name,	\
	    ahead, want, key, fn }
#define GUEST(t, size, ans, fl, ahead, want, fn)			\
	{ t, ROLE_GUEST, size, ans, fl, NULL, ahead, want, 0, fn }

static const struct ops_entry ops_table[] = {
	{ MSG_INIT_DONE, 0, 0, 0, OPS_F_ONCE, "init done", OPS_A_NONE, 0,
	    0, ops_init_done },
	{ MSG_PONG, 0, 0, 0, 0, NULL, OPS_A_NONE, 0, 0, ops_pong },
	{ MSG_CONN_DONE, -1, 0, 0, 0, NULL, OPS_A_NONE, 0, 0,
	    ops_conn_done },
	{ MSG_HTTP_SENT, -1, sizeof(struct msg_status), 0, 0, NULL,
	    OPS_A_NONE, 0, 0, ops_http_sent },
	GUEST(MSG_GUEST_IDENT, sizeof(struct msg_guest),
	    sizeof(struct msg_status), 0, OPS_A_GUEST, 0, ops_guest_ident),
	GUEST(MSG_GUEST_META, sizeof(struct msg_guest),
	    sizeof(struct msg_instance_ans), 0, OPS_A_GUEST, AHEAD_WANT_INST,
	    ops_guest_meta),
	GUEST(MSG_GUEST_PW_GET, sizeof(struct msg_guest),
	    sizeof(struct msg_pw), 0, OPS_A_GUEST, AHEAD_WANT_PW,
	    ops_guest_pw_get),
	/* Read ahead for Nova's 409 before anything is sealed. */
	GUEST(MSG_GUEST_PW_PUT, sizeof(struct msg_guest_pw_put),
	    sizeof(struct msg_status), OPS_F_WRITE, OPS_A_GUEST, AHEAD_WANT_PW,
	    ops_guest_pw_put),
	GUEST(MSG_GUEST_TOKEN, sizeof(struct msg_guest_token),
	    sizeof(struct msg_token_ans), 0, OPS_A_TOKEN, 0,
	    ops_guest_token),
	OWNER(MSG_OWNER_INST_PUT, sizeof(struct msg_instance),
	    sizeof(struct msg_status), OPS_F_NAMES_ID | OPS_F_WRITE,
	    "owner.instance.put",
	    OPS_A_NONE, 0, offsetof(struct msg_instance, mn_id),
	    ops_owner_inst_put),
	OWNER(MSG_OWNER_INST_GET, sizeof(struct msg_id),
	    sizeof(struct msg_instance_ans), OPS_F_NAMES_ID,
	    "owner.instance.get", OPS_A_ID, AHEAD_WANT_INST,
	    offsetof(struct msg_id, md_id), ops_owner_inst_get),
	OWNER(MSG_OWNER_INST_DEL, sizeof(struct msg_id),
	    sizeof(struct msg_status), OPS_F_NAMES_ID | OPS_F_WRITE,
	    "owner.instance.delete", OPS_A_NONE, 0,
	    offsetof(struct msg_id, md_id), ops_owner_inst_del),
	OWNER(MSG_OWNER_INST_LIST, sizeof(struct msg_list),
	    sizeof(struct msg_list_ans), 0, "owner.instance.list",
	    OPS_A_LIST, 0, offsetof(struct msg_list, mls_after),
	    ops_owner_inst_list),
	OWNER(MSG_OWNER_PW_GET, sizeof(struct msg_pw_get),
	    sizeof(struct msg_pw), OPS_F_NAMES_ID, "owner.pw.get", OPS_A_ID,
	    AHEAD_WANT_PW, offsetof(struct msg_pw_get, mq_id),
	    ops_owner_pw_get),
	OWNER(MSG_OWNER_PW_DEL, sizeof(struct msg_id),
	    sizeof(struct msg_status), OPS_F_NAMES_ID | OPS_F_WRITE,
	    "owner.pw.clear",
	    OPS_A_NONE, 0, offsetof(struct msg_id, md_id), ops_owner_pw_del),
	OWNER(MSG_OWNER_STATUS, 0, sizeof(struct msg_status_ans), 0,
	    "owner.status", OPS_A_COUNTS, 0, 0, ops_owner_status),
	/* Not gated: it is how a TLS owner proves itself (tlsauth.c). */
	{ MSG_OWNER_AUTH, ROLE_OWNER, sizeof(struct msg_owner_auth),
	    sizeof(struct msg_status), 0, NULL, OPS_A_NONE, 0, 0,
	    ops_owner_auth },
	OWNER(MSG_OWNER_METRICS, 0, sizeof(struct msg_metrics_ans), 0,
	    "owner.metrics", OPS_A_COUNTS, 0, 0, ops_owner_metrics),
	OWNER(MSG_OWNER_KEYS, 0, sizeof(struct msg_keys_ans), 0,
	    "owner.keys", OPS_A_COUNTS, 0, 0, ops_owner_keys),
	OWNER(MSG_OWNER_PW_VERIFY, sizeof(struct msg_pw_verify),
	    sizeof(struct msg_status), OPS_F_NAMES_ID, "owner.pw.verify",
	    OPS_A_ID, AHEAD_WANT_PW, offsetof(struct msg_pw_verify, mv_id),
	    ops_owner_pw_verify),
	OWNER(MSG_OWNER_KEY_ROTATE, 0, sizeof(struct msg_keys_ans), 0,
	    "key.rotate", OPS_A_COUNTS, 0, 0, ops_owner_keys),
	OWNER(MSG_OWNER_KEY_REWRAP, 0, sizeof(struct msg_keys_ans), 0,
	    "key.rewrap", OPS_A_COUNTS, 0, 0, ops_owner_keys),
	OWNER(MSG_OWNER_KEY_RETIRE, sizeof(struct msg_key_id),
	    sizeof(struct msg_status), 0, "key.retire", OPS_A_NONE, 0, 0,
	    ops_owner_key_retire),
	/* One operation: the handlers judge the peer, at BEGIN and END. */
	{ MSG_OWNER_BATCH_BEGIN, ROLE_OWNER, 0, 0, 0,
	    "owner.instance.batch", OPS_A_NONE, 0, 0, ops_owner_batch_begin },
	{ MSG_OWNER_BATCH_ENTRY, ROLE_OWNER, sizeof(struct msg_instance), 0,
	    OPS_F_BATCH, "owner.instance.batch", OPS_A_NONE, 0, 0,
	    ops_owner_batch_entry },
	{ MSG_OWNER_BATCH_END, ROLE_OWNER, sizeof(struct msg_batch_end),
	    sizeof(struct msg_batch_ans), OPS_F_BATCH, "owner.instance.batch",
	    OPS_A_NONE, 0, 0, ops_owner_batch_end },
};

/* Every answer starts with its status: a refusal is that, then zeroes. */
union ops_ans {
	struct msg_status	s;
	struct msg_instance_ans	i;
	struct msg_list_ans	l;
	struct msg_pw		p;
	struct msg_keys_ans	k;
	struct msg_metrics_ans	m;
	struct msg_status_ans	t;
	struct msg_token_ans	a;
};

void
ops_audit(struct ops_ctx *c, const char *op, const char *instance,
    unsigned int status, const uint8_t *fp)
{
	audit_op(c->b, c->bc->bc_listener, c->bc->bc_peer, op, instance,
	    status, fp);
}

int
ops_violation(struct ops_ctx *c, const char *why)
{
	(void)snprintf(c->why, sizeof(c->why), "%s", why);
	return -1;
}

int
ops_answer(struct ops_ctx *c, const void *p, size_t len)
{
	if (len != c->oe->oe_answer)
		fatalx("answer to type %u: %zu bytes, want %zu",
		    c->oe->oe_type, len, c->oe->oe_answer);
	if (chan_send(&c->b->b_chan, c->m->m_hdr.ch_type + 1,
	    c->m->m_hdr.ch_reqid, c->m->m_hdr.ch_connid, p, len, -1) == -1)
		return ops_violation(c, "channel full");
	broker_conn_answered(c->b, c->m->m_hdr.ch_connid);
	return 0;
}

int
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

/*
 * 1: m waits until the reads read with it are answered (broker.c): it is
 * a write, which waits for a commit anyway, or a connection's message
 * behind one of its own that waits, so that a connection's messages keep
 * their order.  What the table refuses runs at once: a violation does
 * not wait.
 */
int
ops_later(struct broker *b, const struct chan_msg *m)
{
	const struct ops_entry	*oe;
	const struct bconn	*bc;

	if ((oe = ops_entry(m->m_hdr.ch_type)) == NULL || oe->oe_role == 0 ||
	    buf_left(&m->m_payload) != oe->oe_size ||
	    (bc = broker_conn_get(b, m->m_hdr.ch_connid)) == NULL)
		return 0;
	return bc->bc_later > 0 || (oe->oe_flags & OPS_F_WRITE) != 0;
}

/* replay: read ahead and run again, already counted on its connection. */
void
ops_run(struct broker *b, struct chan_msg *m, int replay)
{
	const struct ops_entry	*oe;
	struct ops_ctx		 c;
	int			 r;

	memset(&c, 0, sizeof(c));
	c.b = b;
	c.m = m;
	if ((c.oe = oe = ops_entry(m->m_hdr.ch_type)) == NULL) {
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
		 * Reports (done, an answer sent) are not operations, nor
		 * is each part of a batch: its BEGIN counts for it. */
		if (!replay && oe->oe_role != -1 &&
		    (oe->oe_flags & OPS_F_BATCH) == 0 &&
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
	if ((oe->oe_flags & OPS_F_ONCE) && b->b_wstate != WORKER_STARTING) {
		supervise_kill(b, "message type %u: %s twice",
		    m->m_hdr.ch_type, oe->oe_name);
		return;
	}
	/* A refused owner is answered now: nothing read, nothing run. */
	if ((r = ops_owner_gate(&c)) == 0 &&
	    (!reader_on() || ops_defer(&c) == 1))
		r = oe->oe_fn(&c);
	if (r == -1)
		supervise_kill(b, "message type %u: %s", m->m_hdr.ch_type,
		    c.why);
}

const struct ops_entry *
ops_entry(uint32_t type)
{
	size_t	i;

	for (i = 0; i < sizeof(ops_table) / sizeof(ops_table[0]); i++)
		if (ops_table[i].oe_type == type)
			return &ops_table[i];
	return NULL;
}

/*
 * Owner operations: refused with 403 unless the peer is allowed.  On the
 * unix socket, its SO_PEERCRED credentials are held against the allow
 * list as it is now, so a reload that drops them revokes open
 * connections too.  The audit line names the instance only if the id is
 * shaped like one.  1: refused and answered; -1: a violation.
 */
static int
ops_owner_gate(struct ops_ctx *c)
{
	static union ops_ans	 ans;
	struct buf		 peek = c->m->m_payload;
	char			 id[ID_LEN + 1] = "";

	if ((c->oe->oe_flags & OPS_F_OWNER_AUTH) == 0 ||
	    ops_owner_allowed(c))
		return 0;
	if ((c->oe->oe_flags & OPS_F_NAMES_ID) &&
	    (buf_skip(&peek, c->oe->oe_key) == -1 ||
	    buf_get(&peek, id, sizeof(id)) == -1 ||
	    !chan_str_ok(id, sizeof(id))))
		return ops_violation(c, "bad instance id");
	ops_audit(c, c->oe->oe_name, valid_uuid(id) ? id : "", 403, NULL);
	memset(&ans, 0, sizeof(ans));
	ans.s.ms_status = 403;
	return ops_answer(c, &ans, c->oe->oe_answer) == -1 ? -1 : 1;
}

/* The peer may use the owner API, by the allow list as it is now. */
int
ops_owner_allowed(struct ops_ctx *c)
{
	if (c->bc->bc_tls == 0)
		c->bc->bc_authorized = owner_auth_allowed(c->bc->bc_uid,
		    c->bc->bc_gid);
	return c->bc->bc_authorized;
}

/*
 * With a reader, a message that reads the store waits for its reads: the
 * plan is its row's, the key comes from the message as it stands,
 * unchecked, and the handler checks it as ever when it runs again on
 * what was read.  1: it reads nothing, run it now.
 */
static int
ops_defer(struct ops_ctx *c)
{
	const struct ops_entry	*oe = c->oe;
	union reader_msg	 u;
	struct buf		 peek = c->m->m_payload;
	struct rjob		*j;
	enum ahead_plan		 plan = AHEAD_ID;
	char			 id[ID_LEN + 1] = "";
	const char		*key = "";
	size_t			 len = buf_left(&peek);

	if (oe->oe_ahead == OPS_A_NONE || len > sizeof(u))
		return 1;
	memset(&u, 0, sizeof(u));
	if (buf_get(&peek, &u, len) == -1)
		return 1;
	switch (oe->oe_ahead) {
	case OPS_A_GUEST:
	case OPS_A_TOKEN:
		/* Malformed, or refused before its lookup: nothing to
		 * read, answer now. */
		if (ops_guest_ok(c, &u.g) == -1 ||
		    !ident_would_read(c->b, c->bc, &u.g,
		    oe->oe_ahead == OPS_A_GUEST)) {
			sodium_memzero(&u, sizeof(u));
			return 1;
		}
		if (c->bc->bc_ident == IDENT_DIRECT) {
			plan = AHEAD_ADDR;
			key = c->bc->bc_addr;
		} else
			key = u.g.mg_instance;
		break;
	case OPS_A_LIST:
		plan = AHEAD_LIST;
		/* FALLTHROUGH */
	case OPS_A_ID:
		/* Unterminated, it reads nothing; the handler refuses it. */
		peek = c->m->m_payload;
		if (buf_skip(&peek, oe->oe_key) == -1 ||
		    buf_get(&peek, id, sizeof(id)) == -1 ||
		    !chan_str_ok(id, sizeof(id))) {
			sodium_memzero(&u, sizeof(u));
			return 1;
		}
		key = id;
		break;
	case OPS_A_COUNTS:
		plan = AHEAD_COUNTS;
		break;
	case OPS_A_NONE:
		break;
	}
	j = reader_job(plan, RT_MSG);
	j->rj_ah.ah_want = oe->oe_want;
	(void)snprintf(j->rj_ah.ah_key, sizeof(j->rj_ah.ah_key), "%s", key);
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

int
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

/* Where this request's answer goes, for an answer that comes later. */
void
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
void
ops_send_route(struct broker *b, const struct route *rt, const void *p,
    size_t len)
{
	const struct ops_entry	*oe;

	if (!ops_route_live(b, rt))
		return;
	if ((oe = ops_entry(rt->rt_type - 1)) == NULL ||
	    len != oe->oe_answer)
		fatalx("late answer type %u: %zu bytes", rt->rt_type, len);
	if (chan_send(&b->b_chan, rt->rt_type, rt->rt_reqid, rt->rt_connid,
	    p, len, -1) == -1)
		supervise_kill(b, "channel full");
	else
		broker_conn_answered(b, rt->rt_connid);
}

struct wjob *
ops_job(enum wjob_op op, const char *id)
{
	struct wjob	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("calloc");
	j->wj_op = op;
	(void)snprintf(j->wj_id, sizeof(j->wj_id), "%s", id);
	if (op == WJ_INST_PUT && (j->wj_inst = calloc(1,
	    sizeof(*j->wj_inst))) == NULL)
		fatal("calloc");
	return j;
}

/*
 * With what it owns.  Not wiped: a job holds sealed values, the audit
 * fingerprint, ids and registrations, never a value in the clear or a
 * key.
 */
void
ops_job_free(struct wjob *j)
{
	free(j->wj_inst);
	free(j->wj_batch);
	free(j->wj_createds);
	free(j);
}

/*
 * Hand a write to the writer thread.  The answer goes out when its batch
 * has committed (ops_write_done).  A full queue is 503 at once.
 */
int
ops_submit(struct ops_ctx *c, struct wjob *j, const char *audit)
{
	ops_route(c, &j->wj_rt);
	j->wj_audit = audit;
	if (writer_submit(j) == 0)
		return 0;
	log_warnx("store writer queue full");
	ops_audit(c, audit, j->wj_id, 503, NULL);
	ops_job_free(j);
	return ops_answer_status(c, 503);
}


/*
 * Wire and store registrations, the one place each way: field by field,
 * every string cut to its field and NUL-terminated.  The lengths match
 * (store.h takes the wire's), so nothing is ever cut in practice.
 */
#define OPS_STR(d, s) ops_strcpy((d), sizeof(d), (s), sizeof(s))
_Static_assert(sizeof(struct store_key) == sizeof(struct msg_key) &&
    sizeof(((struct store_inst *)0)->ri_addr) ==
    sizeof(((struct msg_instance *)0)->mn_addr),
    "store and wire registrations differ");

static void
ops_strcpy(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t	n;

	n = strnlen(src, srclen);
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
ops_inst_from_wire(struct store_inst *si, const struct msg_instance *mi)
{
	size_t	i;

	memset(si, 0, sizeof(*si));
	OPS_STR(si->ri_id, mi->mn_id);
	OPS_STR(si->ri_project, mi->mn_project);
	OPS_STR(si->ri_hostname, mi->mn_hostname);
	si->ri_naddr = mi->mn_naddr < INST_ADDRS_MAX ? mi->mn_naddr :
	    INST_ADDRS_MAX;
	for (i = 0; i < si->ri_naddr; i++)
		OPS_STR(si->ri_addr[i], mi->mn_addr[i]);
	si->ri_nkeys = mi->mn_nkeys < INST_KEYS_MAX ? mi->mn_nkeys :
	    INST_KEYS_MAX;
	for (i = 0; i < si->ri_nkeys; i++) {
		OPS_STR(si->ri_keys[i].rk_name, mi->mn_keys[i].mk_name);
		OPS_STR(si->ri_keys[i].rk_data, mi->mn_keys[i].mk_data);
	}
	si->ri_created = mi->mn_created;
	si->ri_cleared = mi->mn_cleared;
	si->ri_pw_ttl = mi->mn_pw_ttl;
	si->ri_one_time = mi->mn_one_time;
	si->ri_mode = mi->mn_mode;
}

void
ops_inst_to_wire(struct msg_instance *mi, const struct store_inst *si)
{
	size_t	i;

	memset(mi, 0, sizeof(*mi));
	OPS_STR(mi->mn_id, si->ri_id);
	OPS_STR(mi->mn_project, si->ri_project);
	OPS_STR(mi->mn_hostname, si->ri_hostname);
	mi->mn_naddr = si->ri_naddr < INST_ADDRS_MAX ? si->ri_naddr :
	    INST_ADDRS_MAX;
	for (i = 0; i < mi->mn_naddr; i++)
		OPS_STR(mi->mn_addr[i], si->ri_addr[i]);
	mi->mn_nkeys = si->ri_nkeys < INST_KEYS_MAX ? si->ri_nkeys :
	    INST_KEYS_MAX;
	for (i = 0; i < mi->mn_nkeys; i++) {
		OPS_STR(mi->mn_keys[i].mk_name, si->ri_keys[i].rk_name);
		OPS_STR(mi->mn_keys[i].mk_data, si->ri_keys[i].rk_data);
	}
	mi->mn_created = si->ri_created;
	mi->mn_cleared = si->ri_cleared;
	mi->mn_pw_ttl = si->ri_pw_ttl;
	mi->mn_one_time = si->ri_one_time;
	mi->mn_mode = si->ri_mode;
}

/* ops_inst_answer zeroes what precedes the record, which must end it. */
_Static_assert(offsetof(struct msg_instance_ans, mia_inst) +
    sizeof(struct msg_instance) == sizeof(struct msg_instance_ans),
    "mia_inst must be the answer's last member");

/*
 * An instance answer, sent whole: every byte defined, padding too, and
 * the 9 KB record zeroed once (ops_inst_to_wire does it), not twice.
 */
void
ops_inst_answer(struct msg_instance_ans *ma, int status,
    const struct store_inst *si)
{
	if (status == 200) {
		memset(ma, 0, offsetof(struct msg_instance_ans, mia_inst));
		ops_inst_to_wire(&ma->mia_inst, si);
	} else
		memset(ma, 0, sizeof(*ma));
	ma->mia_status = (uint32_t)status;
}

/* The page, not its status: the caller sets mla_status. */
void
ops_list_to_wire(struct msg_list_ans *mla, const struct store_list *sl)
{
	size_t	i;

	memset(mla->mla_e, 0, sizeof(mla->mla_e));
	mla->mla_n = sl->sl_n < LIST_MAX ? sl->sl_n : LIST_MAX;
	mla->mla_more = sl->sl_more;
	for (i = 0; i < mla->mla_n; i++) {
		OPS_STR(mla->mla_e[i].id, sl->sl_e[i].id);
		OPS_STR(mla->mla_e[i].project, sl->sl_e[i].project);
	}
}

/* How long a value of inst lives: its own TTL or the default; 0: ever. */
int64_t
ops_ttl(const struct broker *b, const struct store_inst *inst)
{
	if (inst->ri_pw_ttl > 0)
		return inst->ri_pw_ttl;
	return inst->ri_pw_ttl == 0 ? (int64_t)b->b_conf->c_pw_ttl : 0;
}

int
ops_one_time(const struct broker *b, const struct store_inst *inst)
{
	return inst->ri_one_time == 1 ||
	    (inst->ri_one_time == 0 && b->b_conf->c_one_time);
}

int
ops_mode(const struct broker *b, const struct store_inst *inst)
{
	return inst->ri_mode != PW_MODE_DEFAULT ? inst->ri_mode :
	    b->b_conf->c_mode;
}

int
ops_expired(const struct store_pw *sp, int64_t ttl)
{
	return ttl > 0 && sp->sp_set_at + ttl <= (int64_t)time(NULL);
}

/* A value past its TTL is gone for good: have the writer delete it. */
void
ops_expire(const char *id, int64_t set_at)
{
	struct wjob	*j;

	j = ops_job(WJ_PW_EXPIRE, id);
	j->wj_set_at = set_at;
	j->wj_audit = "pw.expire";
	j->wj_rt.rt_listener = -1;
	(void)snprintf(j->wj_rt.rt_peer, sizeof(j->wj_rt.rt_peer), "broker");
	if (writer_submit(j) == -1)
		ops_job_free(j);	/* the sweep will find it again */
}

/* Open every chunk of sp into mw; 200, or 500 if any does not open. */
int
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
int
ops_pw_read(struct broker *b, const struct store_inst *inst,
    struct msg_pw *mw, int *present)
{
	struct store_pw	sp;
	int		r, status;

	*present = 0;
	mw->mw_len = 0;
	r = store_pw_get(b->b_store, inst->ri_id, &sp);
	if (r == STORE_NOTFOUND)
		return 200;
	if (r != STORE_OK)
		return 503;
	if (ops_expired(&sp, ops_ttl(b, inst))) {
		ops_expire(inst->ri_id, sp.sp_set_at);
		sodium_memzero(&sp, sizeof(sp));
		return 200;
	}
	status = ops_pw_open(b, inst->ri_id, &sp, mw);
	*present = status == 200 && (mw->mw_len > 0 ||
	    (mw->mw_flags & PW_F_VERIFIER));
	return status;
}
