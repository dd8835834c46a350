/* SPDX-License-Identifier: ISC */
/*
 * The operation table's gates (broker/ops.c), through its one entry point,
 * ops_dispatch, as the worker reaches it: for every message type, the
 * roles that may send it, its exact payload size and its answer's, owner
 * authorisation held against the allow list at every operation, what may
 * come once, connection ids, and the broker's own per-connection limits.
 * A violation must kill the worker (bfix_ans.ba_killed); anything else
 * must be answered, or, past a limit, dropped.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "broker/ops.h"
#include "broker/tokens.h"
#include "broker/writer.h"
#include "privsep/log.h"
#include "privsep/metrics.h"
#include "tests/unit/bfix.h"

#define ID_A	"6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b"	/* 10.0.0.5 */
#define ID_B	"0b5e2c3d-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
#define ID_NEW	"4f5a6b7c-8d9e-4f0a-9b2c-3d4e5f6a7b8c"	/* registered by PUT */

/* What the worker may send: role (0: none, -1: any connection), sizes. */
static const struct {
	uint32_t	type;
	int		role;
	size_t		size;
	size_t		ans;		/* 0: no answer */
} types[] = {
	{ MSG_INIT_DONE, 0, 0, 0 },
	{ MSG_PONG, 0, 0, 0 },
	{ MSG_CONN_DONE, -1, 0, 0 },
	{ MSG_HTTP_SENT, -1, sizeof(struct msg_status), 0 },
	{ MSG_GUEST_IDENT, ROLE_GUEST, sizeof(struct msg_guest),
	    sizeof(struct msg_status) },
	{ MSG_GUEST_META, ROLE_GUEST, sizeof(struct msg_guest),
	    sizeof(struct msg_instance_ans) },
	{ MSG_GUEST_PW_GET, ROLE_GUEST, sizeof(struct msg_guest),
	    sizeof(struct msg_pw) },
	{ MSG_GUEST_PW_PUT, ROLE_GUEST, sizeof(struct msg_guest_pw_put),
	    sizeof(struct msg_status) },
	{ MSG_GUEST_TOKEN, ROLE_GUEST, sizeof(struct msg_guest_token),
	    sizeof(struct msg_token_ans) },
	{ MSG_OWNER_INST_PUT, ROLE_OWNER, sizeof(struct msg_instance),
	    sizeof(struct msg_status) },
	{ MSG_OWNER_INST_GET, ROLE_OWNER, sizeof(struct msg_id),
	    sizeof(struct msg_instance_ans) },
	{ MSG_OWNER_INST_DEL, ROLE_OWNER, sizeof(struct msg_id),
	    sizeof(struct msg_status) },
	{ MSG_OWNER_INST_LIST, ROLE_OWNER, sizeof(struct msg_list),
	    sizeof(struct msg_list_ans) },
	{ MSG_OWNER_PW_GET, ROLE_OWNER, sizeof(struct msg_pw_get),
	    sizeof(struct msg_pw) },
	{ MSG_OWNER_PW_DEL, ROLE_OWNER, sizeof(struct msg_id),
	    sizeof(struct msg_status) },
	{ MSG_OWNER_STATUS, ROLE_OWNER, 0, sizeof(struct msg_status_ans) },
	{ MSG_OWNER_METRICS, ROLE_OWNER, 0, sizeof(struct msg_metrics_ans) },
	{ MSG_OWNER_KEYS, ROLE_OWNER, 0, sizeof(struct msg_keys_ans) },
	{ MSG_OWNER_KEY_ROTATE, ROLE_OWNER, 0, sizeof(struct msg_keys_ans) },
	{ MSG_OWNER_KEY_REWRAP, ROLE_OWNER, 0, sizeof(struct msg_keys_ans) },
	{ MSG_OWNER_KEY_RETIRE, ROLE_OWNER, sizeof(struct msg_key_id),
	    sizeof(struct msg_status) },
	{ MSG_OWNER_PW_VERIFY, ROLE_OWNER, sizeof(struct msg_pw_verify),
	    sizeof(struct msg_status) },
	{ MSG_OWNER_AUTH, ROLE_OWNER, sizeof(struct msg_owner_auth),
	    sizeof(struct msg_status) },
};
#define NTYPES	(sizeof(types) / sizeof(types[0]))

static uint8_t	pl[CHAN_MAX_PAYLOAD];

static void
setup(void)
{
	bfix_setup();
	bfix_register(ID_A, "proj-a", "10.0.0.5", NULL);
	bfix_register(ID_B, "proj-b", "10.0.0.6", NULL);
}

TestSuite(ops, .init = setup, .fini = bfix_teardown);

static void
guest_fill(struct msg_guest *g, enum bfix_conn conn)
{
	/* By the fixture's plan: a connection may be gone by now. */
	if (conn == BFIX_C_DIRECT || conn == BFIX_C_DIRECT_NET)
		memset(g, 0, sizeof(*g));
	else
		bfix_guest(g, ID_A, "proj-a", 1);
}

/* A well-formed payload of the type, for a connection; its size. */
static size_t
payload(uint32_t type, enum bfix_conn conn)
{
	struct msg_guest_pw_put	*pp = (struct msg_guest_pw_put *)pl;
	struct msg_guest_token	*gt = (struct msg_guest_token *)pl;
	struct msg_instance	*mi = (struct msg_instance *)pl;
	struct msg_pw_get	*pg = (struct msg_pw_get *)pl;
	struct msg_pw_verify	*pv = (struct msg_pw_verify *)pl;
	struct msg_owner_auth	*oa = (struct msg_owner_auth *)pl;
	struct msg_key_id	*kr = (struct msg_key_id *)pl;
	struct msg_status	*ms = (struct msg_status *)pl;
	size_t			 i;

	memset(pl, 0, sizeof(pl));
	switch (type) {
	case MSG_HTTP_SENT:
		ms->ms_status = 200;
		break;
	case MSG_GUEST_IDENT:
	case MSG_GUEST_META:
	case MSG_GUEST_PW_GET:
		guest_fill((struct msg_guest *)pl, conn);
		break;
	case MSG_GUEST_PW_PUT:
		/* No chunks: a body refused before it is sealed. */
		guest_fill(&pp->mp_guest, conn);
		crypto_generichash(pp->mp_digest, PW_DIGEST_LEN, NULL, 0,
		    NULL, 0);
		break;
	case MSG_GUEST_TOKEN:
		guest_fill(&gt->mgt_guest, conn);
		gt->mgt_ttl = 60;
		break;
	case MSG_OWNER_INST_PUT:
		(void)snprintf(mi->mn_id, sizeof(mi->mn_id), ID_NEW);
		(void)snprintf(mi->mn_project, sizeof(mi->mn_project), "p");
		(void)snprintf(mi->mn_addr[0], sizeof(mi->mn_addr[0]),
		    "10.0.0.9");
		mi->mn_naddr = 1;
		break;
	case MSG_OWNER_INST_GET:
	case MSG_OWNER_INST_DEL:
	case MSG_OWNER_PW_DEL:
		(void)snprintf((char *)pl, ID_LEN + 1, ID_B);
		break;
	case MSG_OWNER_PW_GET:
		(void)snprintf(pg->mq_id, sizeof(pg->mq_id), ID_B);
		break;
	case MSG_OWNER_PW_VERIFY:
		(void)snprintf(pv->mv_id, sizeof(pv->mv_id), ID_B);
		pv->mv_len = 1;
		pv->mv_value[0] = 'x';
		break;
	case MSG_OWNER_KEY_RETIRE:
		kr->mki_id = 1;
		break;
	case MSG_OWNER_AUTH:
		oa->mo_flags = AUTH_F_CERT;
		(void)snprintf(oa->mo_subject, sizeof(oa->mo_subject), "%s",
		    BFIX_SUBJECT);
		break;
	}
	for (i = 0; i < NTYPES; i++)
		if (types[i].type == type)
			return types[i].size;
	cr_assert_fail("type %u not in the table", type);
	return 0;
}

/* A connection the type may be sent on. */
static enum bfix_conn
conn_for(size_t t)
{
	if (types[t].type == MSG_OWNER_AUTH)
		return BFIX_C_OWNER_TLS;
	if (types[t].type == MSG_GUEST_TOKEN)
		return BFIX_C_DIRECT;	/* tokens on */
	return types[t].role == ROLE_GUEST ? BFIX_C_PROXY : BFIX_C_OWNER;
}

static uint32_t
connid_for(size_t t)
{
	return types[t].role == 0 ? 0 : BFIX_ID(conn_for(t));
}

/* Fresh connections and worker, as after a restart. */
static void
fresh(void)
{
	bfix_conns_reset();
	bfix_b.b_wstate = WORKER_UP;
}

static void
send_ok(uint32_t type, enum bfix_conn conn, struct bfix_ans *a)
{
	bfix_send(type, BFIX_ID(conn), pl, payload(type, conn), a);
	cr_assert_not(a->ba_killed, "type %u on %d: killed: %s", type, conn,
	    a->ba_why);
}

/* Each type at its size runs; one byte more or less is a violation. */
Test(ops, exact_payload_sizes)
{
	struct bfix_ans	a;
	size_t		t, size;

	for (t = 0; t < NTYPES; t++) {
		if (types[t].type == MSG_INIT_DONE ||
		    types[t].type == MSG_PONG)
			continue;	/* once_rules */
		size = payload(types[t].type, conn_for(t));
		fresh();
		bfix_send(types[t].type, connid_for(t), pl, size, &a);
		cr_assert_not(a.ba_killed, "type %u, %zu bytes: %s",
		    types[t].type, size, a.ba_why);
		cr_assert_eq(a.ba_answered, types[t].ans != 0,
		    "type %u answered %d", types[t].type, a.ba_answered);
		if (a.ba_answered)
			cr_assert_eq(a.ba_len, types[t].ans,
			    "type %u: answer of %zu bytes, want %zu",
			    types[t].type, a.ba_len, types[t].ans);
		fresh();
		bfix_send(types[t].type, connid_for(t), pl, size + 1, &a);
		cr_assert(a.ba_killed && !a.ba_answered,
		    "type %u, one byte more", types[t].type);
		if (size == 0)
			continue;
		fresh();
		bfix_send(types[t].type, connid_for(t), pl, size - 1, &a);
		cr_assert(a.ba_killed && !a.ba_answered,
		    "type %u, one byte less", types[t].type);
	}
}

/* A guest operation on an owner connection, or the reverse, kills. */
Test(ops, roles)
{
	static const enum bfix_conn guests[] = {
		BFIX_C_PROXY, BFIX_C_DIRECT, BFIX_C_PROXY_TOKENS,
		BFIX_C_DIRECT_NET,
	};
	static const enum bfix_conn owners[] = {
		BFIX_C_OWNER, BFIX_C_DENIED, BFIX_C_OWNER_TLS,
	};
	struct bfix_ans	a;
	size_t		t, i;

	for (t = 0; t < NTYPES; t++) {
		if (types[t].role != ROLE_GUEST && types[t].role != ROLE_OWNER)
			continue;
		for (i = 0; i < sizeof(guests) / sizeof(guests[0]) +
		    sizeof(owners) / sizeof(owners[0]); i++) {
			enum bfix_conn	c = i < 4 ? guests[i] : owners[i - 4];
			int		allowed = (i < 4) ==
			    (types[t].role == ROLE_GUEST);

			fresh();
			bfix_send(types[t].type, BFIX_ID(c), pl,
			    payload(types[t].type, c), &a);
			if (types[t].type == MSG_OWNER_AUTH &&
			    c != BFIX_C_OWNER_TLS)
				allowed = 0;	/* credentials need TLS */
			if (types[t].type == MSG_GUEST_TOKEN &&
			    c != BFIX_C_DIRECT && c != BFIX_C_PROXY_TOKENS)
				allowed = 0;	/* tokens off there */
			cr_assert_eq(a.ba_killed, !allowed,
			    "type %u on connection %d: killed %d (%s)",
			    types[t].type, c, a.ba_killed, a.ba_why);
			cr_assert_eq(a.ba_answered, allowed);
		}
	}
}

/* Not the worker's to send, or not at all: every one kills. */
Test(ops, unknown_types)
{
	static const uint32_t bad[] = {
		0, 1, MSG_INIT, MSG_PING, MSG_CONN_NEW, MSG_SHUTDOWN,
		MSG_SHUTDOWN_ACK, MSG_GUEST_IDENT + 1, MSG_OWNER_INST_GET + 1,
		MSG_LIMITS, MSG_TLS_SIGN, MSG_TLS_CERT, MSG_OWNER_AUTH + 1,
		MSG_TYPE_MAX, 0xffffffff,
	};
	struct bfix_ans	a;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh();
		memset(pl, 0, sizeof(pl));
		bfix_send(bad[i], BFIX_ID(BFIX_C_OWNER), pl, 0, &a);
		cr_assert(a.ba_killed && !a.ba_answered, "type %u", bad[i]);
	}
}

/*
 * Every owner operation is refused with 403, and has no effect, for an
 * owner the allow list refuses now: one never allowed, one allowed at
 * accept whose credentials are no longer (a reload dropped them), and a
 * TLS connection that has not proven itself.
 */
Test(ops, owner_authorisation)
{
	enum { ALLOWED, DENIED, REVOKED, TLS_NONE, TLS_PROVEN, TLS_FAILED,
	    NCASES };
	struct bfix_ans	a;
	struct bconn	*bc;
	size_t		t;
	int		k;
	enum bfix_conn	c;

	for (t = 0; t < NTYPES; t++) {
		if (types[t].role != ROLE_OWNER ||
		    types[t].type == MSG_OWNER_AUTH)
			continue;
		for (k = 0; k < NCASES; k++) {
			fresh();
			c = k == ALLOWED || k == REVOKED ? BFIX_C_OWNER :
			    k == DENIED ? BFIX_C_DENIED : BFIX_C_OWNER_TLS;
			bc = bfix_conn(c);
			if (k == REVOKED)
				bc->bc_uid = bc->bc_gid = 65533;
			if (k == TLS_PROVEN || k == TLS_FAILED) {
				payload(MSG_OWNER_AUTH, c);
				if (k == TLS_FAILED) {
					bfix_send(MSG_OWNER_AUTH, BFIX_ID(c),
					    pl, payload(MSG_OWNER_AUTH, c),
					    &a);
					cr_assert_eq(a.ba_status, 200);
					/* The next request's: not allowed. */
					(void)snprintf(((struct msg_owner_auth
					    *)pl)->mo_subject, AUTH_SUBJECT_MAX,
					    "CN=other");
					bfix_send(MSG_OWNER_AUTH, BFIX_ID(c),
					    pl, sizeof(struct msg_owner_auth),
					    &a);
					cr_assert_eq(a.ba_status, 403);
				} else {
					bfix_send(MSG_OWNER_AUTH, BFIX_ID(c),
					    pl, payload(MSG_OWNER_AUTH, c),
					    &a);
					cr_assert_eq(a.ba_status, 200);
				}
			}
			send_ok(types[t].type, c, &a);
			cr_assert(a.ba_answered, "type %u, case %d",
			    types[t].type, k);
			cr_assert_eq(a.ba_len, types[t].ans);
			if (k == ALLOWED || k == TLS_PROVEN)
				cr_assert_neq(a.ba_status, 403,
				    "type %u, case %d: 403", types[t].type,
				    k);
			else
				cr_assert_eq(a.ba_status, 403,
				    "type %u, case %d: %u", types[t].type, k,
				    a.ba_status);
		}
	}
}

/* A refused owner changes nothing: the registration stays. */
Test(ops, refused_owner_writes_nothing)
{
	struct store_inst	mi;
	struct bfix_ans		a;

	send_ok(MSG_OWNER_INST_DEL, BFIX_C_DENIED, &a);
	cr_assert_eq(a.ba_status, 403);
	cr_assert_eq(store_instance_get(bfix_b.b_store, ID_B, &mi), STORE_OK);
	store_read_end(bfix_b.b_store);
	send_ok(MSG_OWNER_INST_DEL, BFIX_C_OWNER, &a);
	cr_assert_eq(a.ba_status, 204);
	cr_assert_eq(store_instance_get(bfix_b.b_store, ID_B, &mi),
	    STORE_NOTFOUND);
	store_read_end(bfix_b.b_store);
}

/*
 * The table is the one gate: every owner operation but the credentials
 * themselves carries OPS_F_OWNER_AUTH (handlers no longer check), only
 * init done is once per worker, and each row has the sizes the worker
 * expects.  A row without its flag would reach its handler unrefused.
 */
Test(ops, table_flags)
{
	const struct ops_entry	*oe;
	size_t			 t;
	int			 owner;

	for (t = 0; t < NTYPES; t++) {
		oe = ops_entry(types[t].type);
		cr_assert_not_null(oe, "type %u", types[t].type);
		cr_assert_eq(oe->oe_role, types[t].role);
		cr_assert_eq(oe->oe_size, types[t].size);
		cr_assert_eq(oe->oe_answer, types[t].ans, "type %u",
		    types[t].type);
		owner = types[t].role == ROLE_OWNER &&
		    types[t].type != MSG_OWNER_AUTH;
		cr_assert_eq((oe->oe_flags & OPS_F_OWNER_AUTH) != 0, owner,
		    "type %u: owner gate", types[t].type);
		cr_assert_eq((oe->oe_flags & OPS_F_ONCE) != 0,
		    types[t].type == MSG_INIT_DONE, "type %u: once",
		    types[t].type);
	}
}

/* ops_later's verdict on type sent on conn, with its payload. */
static int
later(uint32_t type, enum bfix_conn conn, size_t size)
{
	static struct chan_msg	m;

	memset(&m.m_hdr, 0, sizeof(m.m_hdr));
	m.m_hdr.ch_type = type;
	m.m_hdr.ch_connid = BFIX_ID(conn);
	m.m_fd = -1;
	buf_init(&m.m_payload, pl, size);
	return ops_later(&bfix_b, &m);
}

/*
 * What a loop turn answers first (broker_read_chan): reads at once,
 * writes after them; a connection's messages stay in their order, and a
 * message the table refuses does not wait to be refused.
 */
Test(ops, writes_wait_behind_reads)
{
	struct msg_status	*ms = (struct msg_status *)pl;
	size_t			 put, get;

	fresh();
	put = payload(MSG_GUEST_PW_PUT, BFIX_C_PROXY);
	cr_assert(later(MSG_GUEST_PW_PUT, BFIX_C_PROXY, put));
	cr_assert_not(later(MSG_GUEST_PW_PUT, BFIX_C_PROXY, put - 1));
	cr_assert_not(later(MSG_GUEST_PW_PUT, BFIX_C_N + 1, put));
	cr_assert(later(MSG_OWNER_INST_PUT, BFIX_C_OWNER,
	    payload(MSG_OWNER_INST_PUT, BFIX_C_OWNER)));
	cr_assert(later(MSG_OWNER_PW_DEL, BFIX_C_OWNER,
	    payload(MSG_OWNER_PW_DEL, BFIX_C_OWNER)));
	get = payload(MSG_GUEST_PW_GET, BFIX_C_DIRECT);
	cr_assert_not(later(MSG_GUEST_PW_GET, BFIX_C_DIRECT, get));
	cr_assert_not(later(MSG_OWNER_PW_GET, BFIX_C_OWNER,
	    payload(MSG_OWNER_PW_GET, BFIX_C_OWNER)));
	/* Behind a write of its own, anything of that connection waits. */
	bfix_conn(BFIX_C_DIRECT)->bc_later = 1;
	get = payload(MSG_GUEST_PW_GET, BFIX_C_DIRECT);
	cr_assert(later(MSG_GUEST_PW_GET, BFIX_C_DIRECT, get));
	cr_assert(later(MSG_CONN_DONE, BFIX_C_DIRECT, 0));
	memset(pl, 0, sizeof(*ms));
	ms->ms_status = 200;
	cr_assert(later(MSG_HTTP_SENT, BFIX_C_DIRECT, sizeof(*ms)));
	cr_assert_not(later(MSG_GUEST_PW_GET, BFIX_C_PROXY,
	    payload(MSG_GUEST_PW_GET, BFIX_C_PROXY)));
	/* Not tied to a connection: never waits. */
	cr_assert_not(later(MSG_PONG, BFIX_C_DIRECT, 0));
	fresh();
}

/* The counts of audit lines by op and status, as GET /metrics has them. */
static void
audit_counts(uint64_t ops[MET_OPS][MET_STATUSES])
{
	const struct msg_metrics_ans	*mm;
	struct bfix_ans			 a;

	bfix_send(MSG_OWNER_METRICS, BFIX_ID(BFIX_C_OWNER), NULL, 0, &a);
	cr_assert_eq(a.ba_status, 200);
	mm = (const struct msg_metrics_ans *)a.ba_data;
	memcpy(ops, mm->mm_ops, sizeof(mm->mm_ops));
}

/*
 * A refused owner operation is audited once, as 403, under its own op
 * name.  (Before the gate was the table's, a refused verify was audited
 * twice.)
 */
Test(ops, refused_owner_audited_once)
{
	static const struct {
		uint32_t	 type;
		const char	*op;
	} rows[] = {
		{ MSG_OWNER_INST_PUT, "owner.instance.put" },
		{ MSG_OWNER_INST_GET, "owner.instance.get" },
		{ MSG_OWNER_INST_DEL, "owner.instance.delete" },
		{ MSG_OWNER_INST_LIST, "owner.instance.list" },
		{ MSG_OWNER_PW_GET, "owner.pw.get" },
		{ MSG_OWNER_PW_DEL, "owner.pw.clear" },
		{ MSG_OWNER_STATUS, "owner.status" },
		{ MSG_OWNER_METRICS, "owner.metrics" },
		{ MSG_OWNER_KEYS, "owner.keys" },
		{ MSG_OWNER_KEY_ROTATE, "key.rotate" },
		{ MSG_OWNER_KEY_REWRAP, "key.rewrap" },
		{ MSG_OWNER_KEY_RETIRE, "key.retire" },
		{ MSG_OWNER_PW_VERIFY, "owner.pw.verify" },
	};
	static uint64_t	before[MET_OPS][MET_STATUSES];
	static uint64_t	after[MET_OPS][MET_STATUSES];
	struct bfix_ans	a;
	size_t		i, o, s, metrics;
	uint64_t	want;

	metrics = (size_t)met_op_index("owner.metrics");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fresh();
		audit_counts(before);
		send_ok(rows[i].type, BFIX_C_DENIED, &a);
		cr_assert_eq(a.ba_status, 403);
		audit_counts(after);
		for (o = 0; o < MET_OPS; o++)
			for (s = 0; s < MET_STATUSES; s++) {
				want = before[o][s];
				if (o == (size_t)met_op_index(rows[i].op) &&
				    s == met_status_index(403))
					want++;
				if (o == metrics && s == met_status_index(200))
					want++;	/* the first count */
				cr_assert_eq(after[o][s], want, "%s: op %s, "
				    "status class %zu", rows[i].op, met_ops[o],
				    s);
			}
	}
}

static int	audit_fd = -1;		/* stderr's pipe, read end */
static char	audit_text[16384];
static size_t	audit_len;
static int	audit_checked;

/* What the broker has written to stderr so far. */
static void
audit_take(void)
{
	ssize_t	n;

	while (audit_len < sizeof(audit_text) - 1 &&
	    (n = read(audit_fd, audit_text + audit_len,
	    sizeof(audit_text) - 1 - audit_len)) > 0)
		audit_len += (size_t)n;
	audit_text[audit_len] = '\0';
}

/* As a turn ends: a frame already out needs its audit line out. */
static void
audit_first(int worker)
{
	char	c;

	audit_checked++;
	if (recv(worker, &c, 1, MSG_PEEK | MSG_DONTWAIT) == -1) {
		cr_assert(errno == EAGAIN, "recv: %s", strerror(errno));
		return;
	}
	audit_take();
	cr_assert_not_null(strstr(audit_text, "op=owner.instance.get "),
	    "an answer reached the worker before its audit line");
}

/*
 * DESIGN.md section 3: a turn's audit lines are written before its
 * answers leave, so a broker that dies between the two has handed out
 * nothing unaudited.  (Before the broker corked its channel, the answer
 * was sent at once and its audit line only at the next turn.)
 */
Test(ops, audit_line_before_answer)
{
	struct bfix_ans	a;
	int		p[2], saved;

	fresh();
	log_flush();
	cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	cr_assert_neq(saved = dup(STDERR_FILENO), -1);
	cr_assert_neq(dup2(p[1], STDERR_FILENO), -1);
	audit_fd = p[0];
	bfix_turn_check = audit_first;
	bfix_send(MSG_OWNER_INST_GET, BFIX_ID(BFIX_C_OWNER), pl,
	    payload(MSG_OWNER_INST_GET, BFIX_C_OWNER), &a);
	bfix_turn_check = NULL;
	cr_assert_neq(dup2(saved, STDERR_FILENO), -1);
	(void)close(saved);
	(void)close(p[1]);
	cr_assert_not(a.ba_killed, "killed: %s", a.ba_why);
	cr_assert_eq(a.ba_status, 200);
	cr_assert_gt(audit_checked, 0);
	audit_take();
	cr_expect_not_null(strstr(audit_text, "op=owner.instance.get "),
	    "no audit line: %s", audit_text);
	(void)close(p[0]);
}

/*
 * A turn's reads are answered, and their answers sent, before its writes
 * run: as broker_read_chan returns, the GET's answer (and its audit line)
 * is out while the POST read before it still waits in b_later, unsealed.
 * (Before, the answer left at the turn's end, behind BROKER_LATER_TURN
 * sealings and the writer's completions.)
 */
Test(ops, read_answer_out_before_writes_run)
{
	static uint8_t	put[CHAN_MAX_PAYLOAD];
	struct bfix_ans	a;
	size_t		putlen;
	int		p[2], saved;

	fresh();
	putlen = payload(MSG_GUEST_PW_PUT, BFIX_C_PROXY);
	memcpy(put, pl, putlen);
	bfix_frame(MSG_GUEST_PW_PUT, BFIX_ID(BFIX_C_PROXY), put, putlen);
	bfix_frame(MSG_GUEST_PW_GET, BFIX_ID(BFIX_C_DIRECT), pl,
	    payload(MSG_GUEST_PW_GET, BFIX_C_DIRECT));
	log_flush();
	cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	cr_assert_neq(saved = dup(STDERR_FILENO), -1);
	cr_assert_neq(dup2(p[1], STDERR_FILENO), -1);
	audit_fd = p[0];
	broker_read_chan(&bfix_b);
	cr_assert_neq(dup2(saved, STDERR_FILENO), -1);
	(void)close(saved);
	(void)close(p[1]);
	cr_assert_eq(bfix_b.b_nlater, 1, "the POST did not wait");
	cr_assert_eq(writer_queued(), 0, "the POST was sealed");
	memset(&a, 0, sizeof(a));
	cr_assert(bfix_take(&a), "the GET's answer waits for the turn's end");
	cr_assert_eq(a.ba_type, MSG_GUEST_PW_GET_ANS);
	audit_take();
	cr_assert_not_null(strstr(audit_text, "op=guest.pw.get "),
	    "an answer reached the worker before its audit line");
	cr_assert_null(strstr(audit_text, "op=guest.pw.put "));
	memset(&a, 0, sizeof(a));
	cr_assert_not(bfix_take(&a), "frame of type %u sent", a.ba_type);
	/* The POST goes with its connection, unrun. */
	broker_conn_free(&bfix_b, BFIX_ID(BFIX_C_PROXY));
	cr_assert_eq(bfix_b.b_nlater, 0);
	(void)close(p[0]);
	fresh();
}

/*
 * A read that comes while the turn's waiting writes run is read, and
 * answered, after BROKER_LATER_READ of them, not after the turn's last.
 * (Before, it waited for the next turn: behind BROKER_LATER_TURN.)
 */
Test(ops, read_answered_between_waiting_writes)
{
	static uint8_t	put[CHAN_MAX_PAYLOAD];
	struct bfix_ans	a;
	size_t		putlen;
	int		i;

	fresh();
	putlen = payload(MSG_GUEST_PW_PUT, BFIX_C_PROXY);
	memcpy(put, pl, putlen);
	for (i = 0; i <= BROKER_LATER_READ; i++)
		bfix_frame(MSG_GUEST_PW_PUT, BFIX_ID(BFIX_C_PROXY), put,
		    putlen);
	broker_read_chan(&bfix_b);
	cr_assert_eq(bfix_b.b_nlater, BROKER_LATER_READ + 1);
	bfix_frame(MSG_GUEST_PW_GET, BFIX_ID(BFIX_C_DIRECT), pl,
	    payload(MSG_GUEST_PW_GET, BFIX_C_DIRECT));
	broker_later_run(&bfix_b, BROKER_LATER_TURN);
	cr_assert_eq(bfix_b.b_nlater, 0);
	for (i = 0; i < BROKER_LATER_READ; i++) {
		memset(&a, 0, sizeof(a));
		cr_assert(bfix_take(&a), "answer %d of the writes not sent",
		    i);
		cr_assert_eq(a.ba_type, MSG_GUEST_PW_PUT_ANS);
	}
	memset(&a, 0, sizeof(a));
	cr_assert(bfix_take(&a), "the GET was not read between the writes");
	cr_assert_eq(a.ba_type, MSG_GUEST_PW_GET_ANS);
	/* The last write's answer leaves as the turn ends. */
	memset(&a, 0, sizeof(a));
	cr_assert_not(bfix_take(&a), "frame of type %u sent", a.ba_type);
	broker_turn_end(&bfix_b);
	memset(&a, 0, sizeof(a));
	cr_assert(bfix_take(&a));
	cr_assert_eq(a.ba_type, MSG_GUEST_PW_PUT_ANS);
	fresh();
}

/* Credentials: on TLS only, well-formed, judged on every request. */
Test(ops, owner_auth_credentials)
{
	static const struct {
		const char	*name;
		uint32_t	 flags;
		const char	*subject, *token;
		int		 kill;
		uint32_t	 status;
	} rows[] = {
		{ "allowed certificate", AUTH_F_CERT, BFIX_SUBJECT, "", 0,
		    200 },
		{ "another certificate", AUTH_F_CERT, "CN=x", "", 0, 403 },
		{ "no credentials", 0, "", "", 0, 401 },
		{ "a token, none configured", AUTH_F_TOKEN, "", "t", 0, 401 },
		{ "subject without the flag", 0, BFIX_SUBJECT, "", 1, 0 },
		{ "token without the flag", AUTH_F_CERT, BFIX_SUBJECT, "t",
		    1, 0 },
		{ "unknown flag", 0x4, "", "", 1, 0 },
	};
	struct msg_owner_auth	*oa = (struct msg_owner_auth *)pl;
	struct bfix_ans		 a;
	size_t			 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fresh();
		memset(pl, 0, sizeof(pl));
		oa->mo_flags = rows[i].flags;
		(void)snprintf(oa->mo_subject, sizeof(oa->mo_subject), "%s",
		    rows[i].subject);
		(void)snprintf(oa->mo_token, sizeof(oa->mo_token), "%s",
		    rows[i].token);
		bfix_send(MSG_OWNER_AUTH, BFIX_ID(BFIX_C_OWNER_TLS), pl,
		    sizeof(*oa), &a);
		cr_assert_eq(a.ba_killed, rows[i].kill, "%s: %s",
		    rows[i].name, a.ba_why);
		if (!rows[i].kill)
			cr_assert_eq(a.ba_status, rows[i].status, "%s: %u",
			    rows[i].name, a.ba_status);
		cr_assert_eq(bfix_conn(BFIX_C_OWNER_TLS)->bc_authorized,
		    rows[i].status == 200, "%s", rows[i].name);
	}
}

/* Connection ids the broker did not give, or took back. */
Test(ops, connection_ids)
{
	static const uint32_t bad[] = {
		0, 2U << 16 | BFIX_C_OWNER, BFIX_ID(BFIX_SLOTS - 1),
		BFIX_ID(BFIX_SLOTS), 0xffffffff,
	};
	struct bfix_ans	a;
	size_t		t, i;

	for (t = 0; t < NTYPES; t++) {
		if (types[t].role == 0)
			continue;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			fresh();
			bfix_send(types[t].type, bad[i], pl,
			    payload(types[t].type, conn_for(t)), &a);
			cr_assert(a.ba_killed && !a.ba_answered,
			    "type %u on id %#x", types[t].type, bad[i]);
		}
	}
	/* Init and pong belong to no connection. */
	fresh();
	bfix_b.b_wstate = WORKER_STARTING;
	bfix_send(MSG_INIT_DONE, BFIX_ID(BFIX_C_OWNER), NULL, 0, &a);
	cr_assert(a.ba_killed);
}

/* What comes once: init done, and a pong only for the ping sent. */
Test(ops, once_rules)
{
	struct bfix_ans	a;
	size_t		t;

	fresh();
	bfix_b.b_wstate = WORKER_STARTING;
	/* Nothing on a connection before the worker says it is ready. */
	for (t = 0; t < NTYPES; t++) {
		if (types[t].role == 0)
			continue;
		bfix_send(types[t].type, connid_for(t), pl,
		    payload(types[t].type, conn_for(t)), &a);
		cr_assert(a.ba_killed && !a.ba_answered,
		    "type %u before init", types[t].type);
		fresh();
		bfix_b.b_wstate = WORKER_STARTING;
	}
	bfix_send(MSG_INIT_DONE, 0, NULL, 0, &a);
	cr_assert_not(a.ba_killed, "%s", a.ba_why);
	cr_assert_eq(bfix_b.b_wstate, WORKER_UP);
	bfix_send(MSG_INIT_DONE, 0, NULL, 0, &a);
	cr_assert(a.ba_killed, "init done twice");

	fresh();
	bfix_b.b_ping_sent_ms = 0;
	bfix_send(MSG_PONG, 0, NULL, 0, &a);
	cr_assert(a.ba_killed, "a pong with no ping out");
}

/* What the worker claims of a guest is held to the connection's mode. */
Test(ops, guest_claims)
{
	struct msg_guest	*g = (struct msg_guest *)pl;
	struct bfix_ans		 a;

	/* A direct guest may claim nothing: its address says who it is. */
	payload(MSG_GUEST_IDENT, BFIX_C_DIRECT);
	(void)snprintf(g->mg_instance, sizeof(g->mg_instance), ID_B);
	bfix_send(MSG_GUEST_IDENT, BFIX_ID(BFIX_C_DIRECT), pl, sizeof(*g),
	    &a);
	cr_assert(a.ba_killed, "instance claimed in direct mode");
	fresh();
	payload(MSG_GUEST_IDENT, BFIX_C_DIRECT);
	g->mg_flags = GUEST_F_TENANT_LONG;
	bfix_send(MSG_GUEST_IDENT, BFIX_ID(BFIX_C_DIRECT), pl, sizeof(*g),
	    &a);
	cr_assert(a.ba_killed, "tenant claimed in direct mode");
	fresh();
	payload(MSG_GUEST_IDENT, BFIX_C_PROXY);
	g->mg_flags = 0x100;
	bfix_send(MSG_GUEST_IDENT, BFIX_ID(BFIX_C_PROXY), pl, sizeof(*g),
	    &a);
	cr_assert(a.ba_killed, "unknown flag");
	fresh();
	payload(MSG_GUEST_IDENT, BFIX_C_PROXY);
	memset(g->mg_sig, 'a', sizeof(g->mg_sig));
	bfix_send(MSG_GUEST_IDENT, BFIX_ID(BFIX_C_PROXY), pl, sizeof(*g),
	    &a);
	cr_assert(a.ba_killed, "unterminated signature");
	/* A token's lifetime is bounded by the broker. */
	fresh();
	payload(MSG_GUEST_TOKEN, BFIX_C_DIRECT);
	((struct msg_guest_token *)pl)->mgt_ttl = 0;
	bfix_send(MSG_GUEST_TOKEN, BFIX_ID(BFIX_C_DIRECT), pl,
	    sizeof(struct msg_guest_token), &a);
	cr_assert(a.ba_killed, "token ttl 0");
	fresh();
	payload(MSG_GUEST_TOKEN, BFIX_C_DIRECT);
	((struct msg_guest_token *)pl)->mgt_ttl = TOKEN_TTL_MAX + 1;
	bfix_send(MSG_GUEST_TOKEN, BFIX_ID(BFIX_C_DIRECT), pl,
	    sizeof(struct msg_guest_token), &a);
	cr_assert(a.ba_killed, "token ttl past the maximum");
	/* Well-formed: A by its signature, or its address. */
	fresh();
	send_ok(MSG_GUEST_IDENT, BFIX_C_PROXY, &a);
	cr_assert_eq(a.ba_status, 200);
	send_ok(MSG_GUEST_IDENT, BFIX_C_DIRECT, &a);
	cr_assert_eq(a.ba_status, 200);
}

/* Reports are not operations; they are not counted. */
static void
report(enum bfix_conn c, uint32_t type, struct bfix_ans *a)
{
	bfix_send(type, BFIX_ID(c), pl, payload(type, c), a);
	cr_assert_not(a->ba_killed, "%s", a->ba_why);
	cr_assert_not(a->ba_answered);
}

/*
 * The broker's own limits (broker_conn_op): past the operation count,
 * the idle time or the lifetime of its role, the operation is dropped,
 * unanswered, and the connection is forgotten; one operation more, sent
 * before the worker saw the close, is dropped too, and the next kills.
 * A late CONN_DONE is no violation.
 */
Test(ops, connection_limits)
{
	static const struct {
		const char	*name;
		enum bfix_conn	 conn;
		uint32_t	 type;
		int		 limit;		/* 0 requests, 1 idle, 2 life */
	} rows[] = {
		{ "guest requests", BFIX_C_PROXY, MSG_GUEST_IDENT, 0 },
		{ "owner requests", BFIX_C_OWNER, MSG_OWNER_STATUS, 0 },
		{ "guest idle", BFIX_C_DIRECT, MSG_GUEST_META, 1 },
		{ "owner idle", BFIX_C_OWNER, MSG_OWNER_KEYS, 1 },
		{ "guest lifetime", BFIX_C_PROXY, MSG_GUEST_PW_GET, 2 },
		{ "owner lifetime", BFIX_C_OWNER, MSG_OWNER_INST_LIST, 2 },
	};
	struct conf_conn	*cc;
	struct bfix_ans		 a;
	struct bconn		*bc;
	size_t			 i;
	int			 n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fresh();
		bc = bfix_conn(rows[i].conn);
		cc = &bfix_conf.c_conn[bc->bc_role];
		cc->cc_requests = cc->cc_idle_ms = cc->cc_life_ms = UINT32_MAX;
		if (rows[i].limit == 0) {
			cc->cc_requests = 3;
			for (n = 0; n < 3; n++) {
				send_ok(rows[i].type, rows[i].conn, &a);
				cr_assert(a.ba_answered, "%s: %d", rows[i].name,
				    n);
				report(rows[i].conn, MSG_HTTP_SENT, &a);
			}
		} else {
			send_ok(rows[i].type, rows[i].conn, &a);
			cr_assert(a.ba_answered, "%s", rows[i].name);
			/* The clock, moved for this connection only. */
			if (rows[i].limit == 1) {
				cc->cc_idle_ms = 1000;
				bc->bc_last_ms -= 2000;
			} else {
				cc->cc_life_ms = 1000;
				bc->bc_born_ms -= 2000;
			}
		}
		send_ok(rows[i].type, rows[i].conn, &a);
		cr_assert_not(a.ba_answered, "%s: answered past the limit",
		    rows[i].name);
		cr_assert_null(broker_conn_get(&bfix_b,
		    BFIX_ID(rows[i].conn)), "%s: still open", rows[i].name);
		/* Late reports of the closed connection are tolerated. */
		report(rows[i].conn, MSG_HTTP_SENT, &a);
		bfix_send(rows[i].type, BFIX_ID(rows[i].conn), pl,
		    payload(rows[i].type, rows[i].conn), &a);
		cr_assert(a.ba_killed && !a.ba_answered,
		    "%s: a second operation after the close", rows[i].name);
		cc->cc_requests = cc->cc_idle_ms = cc->cc_life_ms = UINT32_MAX;
	}
	/* A late CONN_DONE, after the closing operation, is fine. */
	fresh();
	cc = &bfix_conf.c_conn[ROLE_GUEST];
	cc->cc_requests = 1;
	send_ok(MSG_GUEST_IDENT, BFIX_C_PROXY, &a);
	send_ok(MSG_GUEST_IDENT, BFIX_C_PROXY, &a);
	cr_assert_not(a.ba_answered);
	report(BFIX_C_PROXY, MSG_CONN_DONE, &a);
	/* Other connections of the role keep their own count. */
	send_ok(MSG_GUEST_IDENT, BFIX_C_DIRECT, &a);
	cr_assert(a.ba_answered);
}

/* GET /metrics's count of answers with status on a listener. */
static uint64_t
sent_count(int listener, unsigned int status)
{
	const struct msg_metrics_ans	*mm;
	struct bfix_ans			 a;

	send_ok(MSG_OWNER_METRICS, BFIX_C_OWNER, &a);
	cr_assert(a.ba_answered && a.ba_len == sizeof(*mm));
	mm = (const struct msg_metrics_ans *)(const void *)a.ba_data;
	return mm->mm_listener[listener][met_status_index(status)];
}

static void
reports_add(struct msg_reports *mr, enum bfix_conn conn, uint32_t status)
{
	mr->mrs_r[mr->mrs_n].mr_connid = BFIX_ID(conn);
	mr->mrs_r[mr->mrs_n++].mr_status = status;
}

/*
 * MSG_REPORTS (broker_reports): each entry runs, in order, as the
 * MSG_HTTP_SENT (a status) or MSG_CONN_DONE (0) it stands for, through
 * the table and its rules; a frame that is not exactly that kills.
 */
Test(ops, reports)
{
	struct msg_reports	mr;
	struct bfix_ans		a;
	uint64_t		n0;
	int			i, l;

	fresh();
	l = bfix_conn(BFIX_C_DIRECT)->bc_listener;
	n0 = sent_count(l, 404);
	memset(&mr, 0, sizeof(mr));
	reports_add(&mr, BFIX_C_DIRECT, 404);
	reports_add(&mr, BFIX_C_DIRECT, 404);
	reports_add(&mr, BFIX_C_DIRECT, 0);
	reports_add(&mr, BFIX_C_PROXY, 200);
	bfix_send(MSG_REPORTS, 0, &mr, sizeof(mr), &a);
	cr_assert_not(a.ba_killed, "%s", a.ba_why);
	cr_assert_not(a.ba_answered);
	cr_expect_null(broker_conn_get(&bfix_b, BFIX_ID(BFIX_C_DIRECT)),
	    "a connection reported closed is still open");
	cr_expect_not_null(broker_conn_get(&bfix_b, BFIX_ID(BFIX_C_PROXY)));
	cr_expect_eq(sent_count(l, 404), n0 + 2);

	/* Reports of a connection the broker closed just now: tolerated. */
	fresh();
	bfix_conf.c_conn[ROLE_GUEST].cc_requests = 1;
	send_ok(MSG_GUEST_IDENT, BFIX_C_PROXY, &a);
	send_ok(MSG_GUEST_IDENT, BFIX_C_PROXY, &a);
	cr_assert_null(broker_conn_get(&bfix_b, BFIX_ID(BFIX_C_PROXY)));
	memset(&mr, 0, sizeof(mr));
	reports_add(&mr, BFIX_C_PROXY, 200);
	reports_add(&mr, BFIX_C_PROXY, 0);
	bfix_send(MSG_REPORTS, 0, &mr, sizeof(mr), &a);
	cr_expect_not(a.ba_killed, "%s", a.ba_why);
	bfix_conf.c_conn[ROLE_GUEST].cc_requests = UINT32_MAX;

	for (i = 0; i < 7; i++) {
		fresh();
		memset(&mr, 0, sizeof(mr));
		reports_add(&mr, BFIX_C_DIRECT, 200);
		switch (i) {
		case 0:		/* nothing to report */
			memset(&mr, 0, sizeof(mr));
			break;
		case 1:
			mr.mrs_n = REPORTS_MAX + 1;
			break;
		case 2:		/* an entry past mrs_n */
			mr.mrs_r[REPORTS_MAX - 1].mr_status = 200;
			break;
		case 3:		/* not an answer's status */
			mr.mrs_r[0].mr_status = 99;
			break;
		case 4:		/* a connection that never was */
			mr.mrs_r[0].mr_connid = BFIX_ID(BFIX_SLOTS - 1);
			break;
		case 5:		/* closed twice */
			reports_add(&mr, BFIX_C_DIRECT, 0);
			reports_add(&mr, BFIX_C_DIRECT, 0);
			break;
		}
		bfix_send(MSG_REPORTS, i == 6 ? BFIX_ID(BFIX_C_DIRECT) : 0,
		    &mr, sizeof(mr), &a);
		cr_expect(a.ba_killed, "malformed reports %d not refused", i);
	}
	fresh();
	memset(&mr, 0, sizeof(mr));
	reports_add(&mr, BFIX_C_DIRECT, 200);
	bfix_send(MSG_REPORTS, 0, &mr, sizeof(mr) - 1, &a);
	cr_expect(a.ba_killed, "a short reports frame was taken");
}

/* n batch entries on conn: ID_NEW-like ids, 10.9.x.y, all valid. */
static void
batch_entries(enum bfix_conn conn, uint32_t first, uint32_t n,
    struct bfix_ans *a)
{
	static struct msg_instance	mi;
	uint32_t			i;

	for (i = first; i < first + n; i++) {
		memset(&mi, 0, sizeof(mi));
		(void)snprintf(mi.mn_id, sizeof(mi.mn_id),
		    "4f5a6b7c-8d9e-4f0a-9b2c-%012x", i);
		(void)snprintf(mi.mn_project, sizeof(mi.mn_project), "proj-n");
		(void)snprintf(mi.mn_addr[0], sizeof(mi.mn_addr[0]),
		    "10.9.%u.%u", i >> 8 & 255, i & 255);
		mi.mn_naddr = 1;
		bfix_send(MSG_OWNER_BATCH_ENTRY, BFIX_ID(conn), &mi,
		    sizeof(mi), a);
		if (a->ba_killed)
			return;
		cr_assert_not(a->ba_answered, "entry %u answered", i);
	}
}

static void
batch_begin(enum bfix_conn conn, struct bfix_ans *a)
{
	bfix_send(MSG_OWNER_BATCH_BEGIN, BFIX_ID(conn), NULL, 0, a);
	cr_assert(!a->ba_killed && !a->ba_answered, "%s", a->ba_why);
}

static void
batch_end(enum bfix_conn conn, uint32_t n, struct bfix_ans *a)
{
	struct msg_batch_end	me;

	memset(&me, 0, sizeof(me));
	me.mbe_n = n;
	bfix_send(MSG_OWNER_BATCH_END, BFIX_ID(conn), &me, sizeof(me), a);
}

static int
stored(uint32_t i)
{
	struct store_inst	mi;
	char			id[ID_LEN + 1];

	(void)snprintf(id, sizeof(id), "4f5a6b7c-8d9e-4f0a-9b2c-%012x", i);
	return store_instance_get(bfix_b.b_store, id, &mi) == STORE_OK;
}

/*
 * A batch: BEGIN, entries, END; one answer, all stored or none.  Only
 * what the broker counted itself decides: an entry outside a batch, a
 * second BEGIN, an entry past BATCH_MAX or an END with another count
 * kills.
 */
Test(ops, batch)
{
	const struct msg_batch_ans	*ma;
	struct bfix_ans			 a;

	fresh();
	batch_begin(BFIX_C_OWNER, &a);
	batch_entries(BFIX_C_OWNER, 0, 3, &a);
	batch_end(BFIX_C_OWNER, 3, &a);
	ma = (const struct msg_batch_ans *)a.ba_data;
	cr_assert(a.ba_answered && !a.ba_killed, "%s", a.ba_why);
	cr_assert_eq(a.ba_len, sizeof(*ma));
	cr_assert_eq(ma->mba_status, 200);
	cr_assert_eq(ma->mba_created, 3);
	cr_assert(stored(0) && stored(2));
	cr_assert_eq(bfix_b.b_nbatch, 0);

	/* Entry 4 takes entry 0's address, stored before: none is kept. */
	batch_begin(BFIX_C_OWNER, &a);
	batch_entries(BFIX_C_OWNER, 3, 2, &a);
	batch_entries(BFIX_C_OWNER, 65536, 1, &a);
	batch_end(BFIX_C_OWNER, 3, &a);
	cr_assert_eq(ma->mba_status, 409);
	cr_assert_eq(ma->mba_nerr, 1);
	cr_assert_eq(ma->mba_err[0].index, 2);
	cr_assert_not(stored(3));
	cr_assert_eq(bfix_b.b_nbatch, 0);

	/* Not an allowed owner: 403, nothing kept. */
	batch_begin(BFIX_C_DENIED, &a);
	batch_entries(BFIX_C_DENIED, 10, 1, &a);
	batch_end(BFIX_C_DENIED, 1, &a);
	cr_assert(a.ba_answered && ma->mba_status == 403);
	cr_assert_not(stored(10));

	fresh();
	batch_entries(BFIX_C_OWNER, 20, 1, &a);
	cr_assert(a.ba_killed && strstr(a.ba_why, "outside a batch"));
	fresh();
	batch_end(BFIX_C_OWNER, 0, &a);
	cr_assert(a.ba_killed && strstr(a.ba_why, "outside a batch"));
	fresh();
	batch_begin(BFIX_C_OWNER, &a);
	bfix_send(MSG_OWNER_BATCH_BEGIN, BFIX_ID(BFIX_C_OWNER), pl, 0, &a);
	cr_assert(a.ba_killed && strstr(a.ba_why, "begun twice"));
	fresh();
	batch_begin(BFIX_C_OWNER, &a);
	batch_entries(BFIX_C_OWNER, 30, 2, &a);
	batch_end(BFIX_C_OWNER, 3, &a);
	cr_assert(a.ba_killed && strstr(a.ba_why, "wrong count"));
	fresh();
	batch_begin(BFIX_C_OWNER, &a);
	batch_entries(BFIX_C_OWNER, 1000, BATCH_MAX, &a);
	cr_assert_not(a.ba_killed, "%s", a.ba_why);
	batch_entries(BFIX_C_OWNER, 1000 + BATCH_MAX, 1, &a);
	cr_assert(a.ba_killed && strstr(a.ba_why, "over its limit"));
	fresh();
	cr_assert_eq(bfix_b.b_nbatch, 0);
}

/*
 * A batch is one operation, whatever its size; past the limit, its
 * BEGIN closes the connection, and the rest of the batch, already on
 * its way, is dropped without a kill.
 */
Test(ops, batch_counts_once)
{
	struct conf_conn	*cc = &bfix_conf.c_conn[ROLE_OWNER];
	struct bfix_ans		 a;

	fresh();
	cc->cc_requests = 2;
	batch_begin(BFIX_C_OWNER, &a);
	batch_entries(BFIX_C_OWNER, 40, 5, &a);
	batch_end(BFIX_C_OWNER, 5, &a);
	cr_assert(a.ba_answered && !a.ba_killed, "%s", a.ba_why);
	batch_begin(BFIX_C_OWNER, &a);
	batch_entries(BFIX_C_OWNER, 50, 5, &a);
	batch_end(BFIX_C_OWNER, 5, &a);
	cr_assert(a.ba_answered && !a.ba_killed, "%s", a.ba_why);
	batch_begin(BFIX_C_OWNER, &a);
	cr_assert_null(broker_conn_get(&bfix_b, BFIX_ID(BFIX_C_OWNER)));
	batch_entries(BFIX_C_OWNER, 60, 5, &a);
	cr_assert_not(a.ba_killed, "%s", a.ba_why);
	batch_end(BFIX_C_OWNER, 5, &a);
	cr_assert(!a.ba_killed && !a.ba_answered, "%s", a.ba_why);
	cr_assert_not(stored(60));
	cc->cc_requests = UINT32_MAX;
}
