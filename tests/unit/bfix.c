/* SPDX-License-Identifier: ISC */
/*
 * The broker unit tests drive (bfix.h).  It stands in for the worker's
 * process (supervise.c) and the sandbox, with tests/bstub.c; everything
 * else is the broker's own code.  A violation is recorded and the
 * connections are forgotten, as supervise_down() does, without closing
 * the channel the test reuses.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "broker/hasher.h"
#include "broker/ratelimit.h"
#include "broker/seal.h"
#include "broker/tokens.h"
#include "broker/waiters.h"
#include "broker/writer.h"
#include "tests/bstub.h"
#include "tests/unit/bfix.h"
#include "tests/unit/tutil.h"

#define BFIX_WAIT_MS	20000	/* a thread's jobs, however loaded */
#define BFIX_POLL_MS	2000

struct broker		 bfix_b;
struct config		 bfix_conf;
char			 bfix_dir[] = "/tmp/sealmd-test-broker-XXXXXX";
static struct bconn	 bfix_conns[BFIX_SLOTS];
static struct bgone	 bfix_gone[BFIX_SLOTS];
static int		 bfix_sv[2] = { -1, -1 };	/* broker, worker */
/* What the worker's end received, and how much of it bfix_take took. */
static uint8_t		 bfix_dgram[sizeof(struct chan_hdr) +
			    CHAN_MAX_PAYLOAD];
static size_t		 bfix_have, bfix_off;
static struct bfix_ans	*bfix_cur;
void			(*bfix_turn_check)(int);

void
supervise_kill(struct broker *b, const char *fmt, ...)
{
	va_list	ap;

	cr_assert_not_null(bfix_cur, "worker killed outside a message");
	va_start(ap, fmt);
	(void)vsnprintf(bfix_cur->ba_why, sizeof(bfix_cur->ba_why), fmt, ap);
	va_end(ap);
	bfix_cur->ba_killed = 1;
	if (b->b_wstate != WORKER_DOWN)
		supervise_down(b);
}

void
supervise_down(struct broker *b)
{
	uint32_t	i;

	for (i = 0; i < BROKER_CONNS(b); i++)
		if (b->b_conns[i].bc_id != 0)
			broker_conn_free(b, b->b_conns[i].bc_id);
	b->b_wstate = WORKER_DOWN;
}

/* bstub.h: the broker reached what this fixture stands in for. */
void
bstub_unreached(const char *what)
{
	cr_assert_fail("%s reached", what);
}

void
bfix_write(const char *path, const void *p, size_t len)
{
	int	fd;

	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600), -1, "%s", path);
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	cr_assert_eq(close(fd), 0);
}

void
bfix_sign(const char *instance, char *hex)
{
	bstub_sign(BFIX_SECRET, instance, hex);
}

/* A guest identity as the worker fills it; signed: with a good HMAC. */
void
bfix_guest(struct msg_guest *g, const char *instance, const char *tenant,
    int sign)
{
	memset(g, 0, sizeof(*g));
	(void)snprintf(g->mg_instance, sizeof(g->mg_instance), "%s",
	    instance);
	(void)snprintf(g->mg_tenant, sizeof(g->mg_tenant), "%s", tenant);
	if (sign)
		bfix_sign(instance, g->mg_sig);
}

/* Up to two addresses; NULL for none. */
void
bfix_register(const char *id, const char *project, const char *addr0,
    const char *addr1)
{
	struct store_inst	mi;
	int			created;

	memset(&mi, 0, sizeof(mi));
	(void)snprintf(mi.ri_id, sizeof(mi.ri_id), "%s", id);
	(void)snprintf(mi.ri_project, sizeof(mi.ri_project), "%s", project);
	if (addr0 != NULL)
		(void)snprintf(mi.ri_addr[mi.ri_naddr++],
		    sizeof(mi.ri_addr[0]), "%s", addr0);
	if (addr1 != NULL)
		(void)snprintf(mi.ri_addr[mi.ri_naddr++],
		    sizeof(mi.ri_addr[0]), "%s", addr1);
	cr_assert_eq(store_instance_put(bfix_b.b_store, &mi, &created),
	    STORE_OK, "register %s", id);
}

struct bconn *
bfix_conn(enum bfix_conn c)
{
	return &bfix_conns[c];
}

/* Every fixture connection open and fresh, the worker up. */
void
bfix_conns_reset(void)
{
	static const struct {
		int		 role, ident, listener, authorized, tls;
		const char	*addr;
	} conns[BFIX_C_N] = {
		{ ROLE_GUEST, IDENT_PROXY, BFIX_L_PROXY, 0, 0, "192.0.2.1" },
		{ ROLE_GUEST, IDENT_DIRECT, BFIX_L_DIRECT, 0, 0, "10.0.0.5" },
		{ ROLE_OWNER, 0, BFIX_L_OWNER, 1, 0, "" },
		{ ROLE_OWNER, 0, BFIX_L_OWNER, 0, 0, "" },
		{ ROLE_GUEST, IDENT_PROXY, BFIX_L_PROXY_TOKENS, 0, 0,
		    "192.0.2.2" },
		{ ROLE_OWNER, 0, BFIX_L_OWNER, 0, 1, "192.0.2.3" },
		{ ROLE_GUEST, IDENT_DIRECT, BFIX_L_DIRECT_NET, 0, 0,
		    "10.0.0.5@" BFIX_NET },
	};
	struct bconn	*bc;
	uint64_t	 now = broker_now_ms();
	size_t		 i;

	for (i = 0; i < BFIX_SLOTS; i++) {
		waiters_drop_conn(BFIX_ID(i));
		broker_batch_free(&bfix_b, &bfix_conns[i]);
	}
	memset(bfix_conns, 0, sizeof(bfix_conns));
	memset(bfix_gone, 0, sizeof(bfix_gone));
	memset(bfix_b.b_nconns, 0, sizeof(bfix_b.b_nconns));
	for (i = 0; i < BFIX_C_N; i++) {
		bc = &bfix_conns[i];
		bc->bc_id = BFIX_ID(i);
		bc->bc_serial = ++bfix_b.b_serial;
		bc->bc_fd = -1;
		bc->bc_role = conns[i].role;
		bc->bc_ident = conns[i].ident;
		bc->bc_listener = conns[i].listener;
		bc->bc_authorized = conns[i].authorized;
		/* Root is always allowed (owner_auth.c); 65533 is not. */
		bc->bc_uid = bc->bc_gid = conns[i].authorized ? 0 : 65533;
		bc->bc_tls = conns[i].tls;
		bc->bc_born_ms = bc->bc_last_ms = now;
		(void)snprintf(bc->bc_addr, sizeof(bc->bc_addr), "%s",
		    conns[i].addr);
		(void)snprintf(bc->bc_peer, sizeof(bc->bc_peer), "unit:%zu",
		    i);
		bfix_b.b_nconns[bc->bc_role]++;
	}
	bfix_b.b_wstate = WORKER_UP;
}

void
bfix_setup(void)
{
	char		 path[PATH_MAX + 16], err[CONF_ERR_MAX];
	uint8_t		 key[KEY_LEN];
	struct listener	*l;
	int		 i;

	(void)unsetenv("NOTIFY_SOCKET");
	cr_assert_neq(seal_init(), -1);
	cr_assert_not_null(mkdtemp(bfix_dir));
	(void)snprintf(bfix_conf.c_key_dir, sizeof(bfix_conf.c_key_dir),
	    "%s/keys", bfix_dir);
	cr_assert_eq(mkdir(bfix_conf.c_key_dir, 0700), 0);
	randombytes_buf(key, sizeof(key));
	(void)snprintf(path, sizeof(path), "%s/1", bfix_conf.c_key_dir);
	bfix_write(path, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	cr_assert_eq(keyring_load(&bfix_b.b_keys, bfix_conf.c_key_dir, "",
	    err, sizeof(err)), 0, "%s", err);
	(void)snprintf(path, sizeof(path), "%s/proxy_secret", bfix_dir);
	bfix_write(path, BFIX_SECRET "\n", sizeof(BFIX_SECRET));
	cr_assert_eq(secret_load(&bfix_b.b_secret, path, err, sizeof(err)),
	    0, "%s", err);
	bfix_b.b_have_secret = 1;
	(void)snprintf(path, sizeof(path), "%s/sealmd.db", bfix_dir);
	cr_assert_not_null(bfix_b.b_store = store_open_sqlite(path));
	cr_assert_eq(writer_start(STORE_SQLITE, path), 0);
	cr_assert_eq(hasher_start(), 0);

	/* No rate limit: a test sets its own. */
	bstub_conf(&bfix_conf, BFIX_SLOTS - BROKER_OWNER_CONNS, BFIX_SUBJECT);
	ratelimit_init();
	tokens_init();
	bfix_b.b_conf = &bfix_conf;
	bfix_b.b_conns = bfix_conns;
	bfix_b.b_gone = bfix_gone;
	bfix_b.b_started = time(NULL);
	bfix_b.b_ping_every_ms = BROKER_PING_MS;
	bfix_b.b_nlisten = BFIX_L_N;
	for (i = 0; i < BFIX_L_N; i++) {
		l = &bfix_b.b_listen[i];
		l->l_fd = -1;
		l->l_role = i == BFIX_L_OWNER ? ROLE_OWNER : ROLE_GUEST;
		l->l_ident = i == BFIX_L_DIRECT || i == BFIX_L_DIRECT_NET ?
		    IDENT_DIRECT : IDENT_PROXY;
		l->l_guard.cg_tokens = i == BFIX_L_DIRECT ?
		    GUARD_TOKENS_OPTIONAL : i == BFIX_L_PROXY_TOKENS ?
		    GUARD_TOKENS_REQUIRED : GUARD_TOKENS_OFF;
		if (i == BFIX_L_DIRECT_NET)
			(void)snprintf(l->l_net, sizeof(l->l_net), "%s",
			    BFIX_NET);
		(void)snprintf(l->l_name, sizeof(l->l_name), "unit:%d", i);
	}
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, bfix_sv), 0);
	broker_chan_open(&bfix_b, bfix_sv[0]);
	bfix_have = bfix_off = 0;
	bfix_conns_reset();
}

void
bfix_teardown(void)
{
	writer_stop();
	hasher_stop();
	store_close(bfix_b.b_store);
	chan_clear(&bfix_b.b_chan);
	(void)close(bfix_sv[0]);
	(void)close(bfix_sv[1]);
	keyring_free(&bfix_b.b_keys);
	secret_free(&bfix_b.b_secret);
	tutil_rm_tree(bfix_dir);
}

/* The answer, if one was sent; 0 when none (yet). */
static int
bfix_recv(struct bfix_ans *a)
{
	/* As broker_run: the turn ends, what it answered leaves. */
	if (bfix_turn_check != NULL)
		bfix_turn_check(bfix_sv[1]);
	broker_turn_end(&bfix_b);
	cr_assert_not(chan_pending(&bfix_b.b_chan), "answers not sent");
	return bfix_take(a);
}

/*
 * A frame that has reached the worker, into a; 0 when none has.  The
 * broker packs frames (chan_pack): one datagram may hold several, taken
 * here one at a time.
 */
int
bfix_take(struct bfix_ans *a)
{
	uint8_t		*dgram = bfix_dgram;
	struct chan_hdr	h;
	ssize_t		n;

	if (bfix_off == bfix_have) {
		bfix_have = bfix_off = 0;
		if ((n = recv(bfix_sv[1], bfix_dgram, sizeof(bfix_dgram),
		    MSG_DONTWAIT)) == -1) {
			cr_assert(errno == EAGAIN, "recv: %s",
			    strerror(errno));
			return 0;
		}
		bfix_have = (size_t)n;
	}
	cr_assert_geq(bfix_have - bfix_off, sizeof(h));
	memcpy(&h, dgram + bfix_off, sizeof(h));
	cr_assert_leq(h.ch_len, bfix_have - bfix_off - sizeof(h));
	cr_assert_not(a->ba_answered, "two answers to one message");
	a->ba_answered = 1;
	a->ba_type = h.ch_type;
	a->ba_len = h.ch_len;
	memcpy(a->ba_data, dgram + bfix_off + sizeof(h), h.ch_len);
	if (h.ch_len >= sizeof(a->ba_status))
		memcpy(&a->ba_status, a->ba_data, sizeof(a->ba_status));
	bfix_off += sizeof(h) + h.ch_len;
	return 1;
}

/* A frame from the worker, left for the broker to read. */
void
bfix_frame(uint32_t type, uint32_t connid, const void *p, size_t len)
{
	static uint8_t	frame[sizeof(struct chan_hdr) + CHAN_MAX_PAYLOAD];
	static uint32_t	reqid;
	struct chan_hdr	h;

	memset(&h, 0, sizeof(h));
	h.ch_type = type;
	h.ch_len = (uint32_t)len;
	h.ch_connid = connid;
	h.ch_reqid = ++reqid;
	cr_assert_leq(len, CHAN_MAX_PAYLOAD);
	memcpy(frame, &h, sizeof(h));
	if (len > 0)
		memcpy(frame + sizeof(h), p, len);
	cr_assert_eq(send(bfix_sv[1], frame, sizeof(h) + len, 0),
	    (ssize_t)(sizeof(h) + len));
}

/*
 * One message from the worker, received as broker_read_chan does; then
 * what broker_run does for the writer and hasher threads, until the
 * answer is out or nothing is left to wait for.
 */
void
bfix_send(uint32_t type, uint32_t connid, const void *p, size_t len,
    struct bfix_ans *a)
{
	static struct chan_msg	m;
	struct pollfd		pfd[2];
	int			r, spins;

	memset(a, 0, sizeof(*a));
	bfix_frame(type, connid, p, len);
	bfix_cur = a;
	cr_assert_eq(chan_recv(&bfix_b.b_chan, &m), 1);
	/* As broker_read_chan: MSG_REPORTS is unpacked, the rest run. */
	if (type == MSG_REPORTS)
		broker_reports(&bfix_b, &m);
	else
		ops_dispatch(&bfix_b, &m);
	/* Reports, and a batch's first parts: never answered. */
	if (type == MSG_INIT_DONE || type == MSG_PONG ||
	    type == MSG_CONN_DONE || type == MSG_HTTP_SENT ||
	    type == MSG_REPORTS ||
	    type == MSG_OWNER_BATCH_BEGIN || type == MSG_OWNER_BATCH_ENTRY) {
		cr_assert_not(bfix_recv(a), "report %u answered", type);
		bfix_cur = NULL;
		return;
	}
	/*
	 * Quiet for a poll with nothing queued: no answer is coming (a
	 * dropped operation), or the thread is slower than BFIX_POLL_MS.
	 */
	for (spins = 0; !bfix_recv(a) && !a->ba_killed &&
	    spins < BFIX_WAIT_MS / BFIX_POLL_MS; spins++) {
		/* As broker_run before it sleeps. */
		writer_wake();
		pfd[0].fd = writer_fd();
		pfd[0].events = POLLIN;
		pfd[1].fd = hasher_fd();
		pfd[1].events = POLLIN;
		do
			r = poll(pfd, 2, BFIX_POLL_MS);
		while (r == -1 && errno == EINTR);
		cr_assert_neq(r, -1, "poll: %s", strerror(errno));
		if (r == 0 && writer_queued() == 0)
			break;
		if (pfd[1].revents & POLLIN)
			ops_hash_done(&bfix_b);
		if (pfd[0].revents & POLLIN)
			ops_write_done(&bfix_b);
	}
	store_read_end(bfix_b.b_store);
	bfix_cur = NULL;
	if (a->ba_answered)
		cr_assert_eq(a->ba_type, type + 1, "answer of type %u to %u",
		    a->ba_type, type);
}
