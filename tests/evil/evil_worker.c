/* SPDX-License-Identifier: ISC */
/*
 * evil-worker: a hostile stand-in for sealmd-worker, for the integration
 * tests only (tests/integration/test_hostile_worker.py).  The broker execs
 * it like the real worker: channel on fd 3, MSG_INIT first.  Each start
 * plays one scenario: it breaks the channel protocol in one way and waits
 * to be killed for it.  It is never installed and never confines itself.
 *
 * How a start picks its scenario.  The broker execs workers with no
 * arguments and an empty environment, and tells them nothing but MSG_INIT,
 * so the file system is the only thing this program shares with the test.
 * It reads "evil-scenarios" in the directory of its own executable
 * (/proc/self/exe) and keeps its place in "evil-next" beside it.  The test
 * copies this binary into a private temporary directory, so concurrent runs
 * never share either file.
 *
 * Going back to the real worker.  The broker's seccomp filter, inherited
 * by every worker, allows execve only of the broker's own worker path, so
 * this program cannot exec sealmd-worker itself.  Instead the broker's
 * worker_path is a symlink the test owns: the test points it back at the
 * real worker once the last scenario has started.
 *
 * evil-scenarios holds one "key value" per line:
 *	target UUID	an instance registered for the proxy listener, no
 *			password set
 *	tenant PROJECT	its project
 *	sig HEX		its proxy signature (HMAC under the proxy secret)
 *	victim UUID	an instance whose password must survive
 *	value TEXT	a password, 2 to 510 bytes, for the PUT scenarios
 *	digest HEX	BLAKE2b-256 of value; the test computes it, so this
 *			program needs no libsodium
 *	digest8 HEX	BLAKE2b-256 of value with its first byte 0xff (not
 *			UTF-8), for bad-utf8
 *	passfd PATH	a file whose descriptor is sent to the broker
 *	keyid HEX	SHA-256 of the TLS listener's public key (SPKI DER)
 *	waitbase TEXT	the first 24 characters of the instance ids that
 *			waiters-shared waits on: TEXT then 12 hex digits,
 *			000000000000 to waitn - 1
 *	waitn N		how many
 *	waitgot N	how many of them the test posts a value for
 *	run NAME	one scenario per worker start, in order
 * Blank lines and lines starting with '#' are ignored.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/waiters.h"
#include "privsep/chan.h"
#include "privsep/log.h"

#define EVIL_SCENARIOS		"evil-scenarios"
#define EVIL_NEXT		"evil-next"
#define EVIL_RUN_MAX		64
#define EVIL_NAME_MAX		32
#define EVIL_INIT_WAIT_MS	5000
#define EVIL_CONN_WAIT_MS	10000	/* for the test to connect */
#define EVIL_DEATH_WAIT_MS	3000	/* for the broker to kill us */
#define EVIL_BAD_TYPE		9999
#define EVIL_BAD_CONNID		0xdead0001U

/* What a scenario needs before it misbehaves. */
#define EVIL_F_INIT		0x1	/* send MSG_INIT_DONE first */
#define EVIL_F_PROXY		0x2	/* a guest connection, proxy mode */
#define EVIL_F_DIRECT		0x4	/* a guest connection, direct mode */
#define EVIL_F_OWNER		0x8	/* an owner connection */
#define EVIL_F_TLS		0x10	/* a guest connection, proxy, TLS */
#define EVIL_SIGN_WAIT_MS	3000	/* for a signature the broker owes */
#define EVIL_MANY_FDS		16	/* more than the broker has room for */

struct evil {
	struct chan	e_chan;
	struct chan	e_sign;		/* the sign channel, fd 4 */
	uint8_t		e_keyid[TLS_KEYID_LEN];
	int		e_have_keyid;
	char		e_dir[PATH_MAX];
	char		e_target[ID_LEN + 1];
	char		e_tenant[PROJECT_MAX + 1];
	char		e_sig[SIG_MAX + 1];
	char		e_victim[ID_LEN + 1];
	char		e_passfd[PATH_MAX];
	uint8_t		e_value[2 * PW_CHUNK_LEN];
	size_t		e_value_len;
	uint8_t		e_digest[PW_DIGEST_LEN];
	int		e_have_digest;
	uint8_t		e_digest8[PW_DIGEST_LEN];
	int		e_have_digest8;
	char		e_run[EVIL_RUN_MAX][EVIL_NAME_MAX];
	size_t		e_nrun;
	uint32_t	e_connid;	/* the connection we were given */
	int		e_connfd;	/* and its socket */
	int		e_hold_ms;	/* past the broker's idle limit */
	int		e_cap;		/* the broker's request limit */
	char		e_waitbase[ID_LEN + 1];
	int		e_waitn;
	int		e_waitgot;
};

struct evil_scenario {
	const char	 *es_name;
	int		  es_flags;
	void		(*es_fn)(struct evil *);
};

static void	evil_unknown_type(struct evil *);
static void	evil_bad_len(struct evil *);
static void	evil_short_frame(struct evil *);
static void	evil_wrong_size(struct evil *);
static void	evil_oversized(struct evil *);
static void	evil_unknown_conn(struct evil *);
static void	evil_owner_op_on_guest(struct evil *);
static void	evil_direct_claim(struct evil *);
static void	evil_bad_digest(struct evil *);
static void	evil_short_inner_chunk(struct evil *);
static void	evil_unterminated(struct evil *);
static void	evil_init_done_twice(struct evil *);
static void	evil_unexpected_pong(struct evil *);
static void	evil_fd_with_init_done(struct evil *);
static void	evil_fd_with_conn_done(struct evil *);
static void	evil_before_init(struct evil *);
static void	evil_exec(struct evil *);
static void	evil_guest_op_on_owner(struct evil *);
static void	evil_owner_bad_naddr(struct evil *);
static void	evil_waiters_full(struct evil *);
static void	evil_waiters_shared(struct evil *);
static void	evil_stale_conn(struct evil *);
static void	evil_wrong_generation(struct evil *);
static void	evil_init_done_connid(struct evil *);
static void	evil_too_many_chunks(struct evil *);
static void	evil_long_last_chunk(struct evil *);
static void	evil_bad_utf8(struct evil *);
static void	evil_bad_flags(struct evil *);
static void	evil_many_fds(struct evil *);
static void	evil_sign_31(struct evil *);
static void	evil_sign_1k(struct evil *);
static void	evil_sign_unknown_key(struct evil *);
static void	evil_sign_rsa_raw(struct evil *);
static void	evil_sign_twice(struct evil *);
static void	evil_sign_on_main(struct evil *);
static void	evil_sign_plain_conn(struct evil *);
static void	evil_owner_idle(struct evil *);
static void	evil_owner_requests(struct evil *);
static void	evil_guest_requests(struct evil *);
static void	evil_batch_entry_alone(struct evil *);
static void	evil_batch_begin_twice(struct evil *);
static void	evil_batch_over_limit(struct evil *);
static void	evil_batch_wrong_count(struct evil *);

static const struct evil_scenario evil_scenarios[] = {
	{ "unknown-type", EVIL_F_INIT, evil_unknown_type },
	{ "bad-len", EVIL_F_INIT, evil_bad_len },
	{ "short-frame", EVIL_F_INIT, evil_short_frame },
	{ "wrong-size", EVIL_F_INIT, evil_wrong_size },
	{ "oversized", EVIL_F_INIT, evil_oversized },
	{ "unknown-conn", EVIL_F_INIT, evil_unknown_conn },
	{ "owner-op-on-guest", EVIL_F_INIT | EVIL_F_PROXY,
	    evil_owner_op_on_guest },
	{ "direct-claim", EVIL_F_INIT | EVIL_F_DIRECT, evil_direct_claim },
	{ "bad-digest", EVIL_F_INIT | EVIL_F_PROXY, evil_bad_digest },
	{ "short-inner-chunk", EVIL_F_INIT | EVIL_F_PROXY,
	    evil_short_inner_chunk },
	{ "unterminated", EVIL_F_INIT | EVIL_F_PROXY, evil_unterminated },
	{ "init-done-twice", EVIL_F_INIT, evil_init_done_twice },
	{ "unexpected-pong", EVIL_F_INIT, evil_unexpected_pong },
	{ "fd-with-init-done", 0, evil_fd_with_init_done },
	{ "fd-with-conn-done", EVIL_F_INIT | EVIL_F_PROXY,
	    evil_fd_with_conn_done },
	{ "before-init", 0, evil_before_init },
	{ "exec", EVIL_F_INIT, evil_exec },
	{ "guest-op-on-owner", EVIL_F_INIT | EVIL_F_OWNER,
	    evil_guest_op_on_owner },
	{ "owner-bad-naddr", EVIL_F_INIT | EVIL_F_OWNER, evil_owner_bad_naddr },
	{ "waiters-full", EVIL_F_INIT | EVIL_F_OWNER, evil_waiters_full },
	{ "waiters-shared", EVIL_F_INIT | EVIL_F_OWNER, evil_waiters_shared },
	{ "stale-conn", EVIL_F_INIT | EVIL_F_PROXY, evil_stale_conn },
	{ "wrong-generation", EVIL_F_INIT | EVIL_F_PROXY,
	    evil_wrong_generation },
	{ "init-done-connid", 0, evil_init_done_connid },
	{ "too-many-chunks", EVIL_F_INIT | EVIL_F_PROXY, evil_too_many_chunks },
	{ "long-last-chunk", EVIL_F_INIT | EVIL_F_PROXY, evil_long_last_chunk },
	{ "bad-utf8", EVIL_F_INIT | EVIL_F_PROXY, evil_bad_utf8 },
	{ "bad-flags", EVIL_F_INIT | EVIL_F_PROXY, evil_bad_flags },
	{ "many-fds", 0, evil_many_fds },
	{ "sign-31", EVIL_F_INIT | EVIL_F_TLS, evil_sign_31 },
	{ "sign-1k", EVIL_F_INIT | EVIL_F_TLS, evil_sign_1k },
	{ "sign-unknown-key", EVIL_F_INIT | EVIL_F_TLS, evil_sign_unknown_key },
	{ "sign-rsa-raw", EVIL_F_INIT | EVIL_F_TLS, evil_sign_rsa_raw },
	{ "sign-twice", EVIL_F_INIT | EVIL_F_TLS, evil_sign_twice },
	{ "sign-on-main", EVIL_F_INIT | EVIL_F_TLS, evil_sign_on_main },
	{ "sign-plain-conn", EVIL_F_INIT | EVIL_F_PROXY, evil_sign_plain_conn },
	{ "owner-idle", EVIL_F_INIT | EVIL_F_OWNER, evil_owner_idle },
	{ "owner-requests", EVIL_F_INIT | EVIL_F_OWNER, evil_owner_requests },
	{ "guest-requests", EVIL_F_INIT | EVIL_F_PROXY, evil_guest_requests },
	{ "batch-entry-alone", EVIL_F_INIT | EVIL_F_OWNER,
	    evil_batch_entry_alone },
	{ "batch-begin-twice", EVIL_F_INIT | EVIL_F_OWNER,
	    evil_batch_begin_twice },
	{ "batch-over-limit", EVIL_F_INIT | EVIL_F_OWNER,
	    evil_batch_over_limit },
	{ "batch-wrong-count", EVIL_F_INIT | EVIL_F_OWNER,
	    evil_batch_wrong_count },
};

static void
evil_path(const struct evil *e, const char *name, char *dst, size_t size)
{
	if ((size_t)snprintf(dst, size, "%s/%s", e->e_dir, name) >= size)
		fatalx("path too long: %s/%s", e->e_dir, name);
}

/* The directory of this executable: where the test left our orders. */
static void
evil_find_dir(struct evil *e)
{
	char	self[PATH_MAX];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	if ((size_t)snprintf(e->e_dir, sizeof(e->e_dir), "%s",
	    dirname(self)) >= sizeof(e->e_dir))
		fatalx("directory name too long");
}

static int
evil_hex(const char *s, uint8_t *dst, size_t len)
{
	size_t		i;
	unsigned int	v;

	if (strlen(s) != len * 2)
		return -1;
	for (i = 0; i < len; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		dst[i] = (uint8_t)v;
	}
	return 0;
}

static void
evil_copy(char *dst, size_t size, const char *key, const char *val)
{
	if ((size_t)snprintf(dst, size, "%s", val) >= size)
		fatalx("%s: value too long", key);
}

static void
evil_load(struct evil *e)
{
	char	 path[PATH_MAX], *line = NULL, *val;
	size_t	 cap = 0;
	ssize_t	 n;
	FILE	*f;

	evil_path(e, EVIL_SCENARIOS, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return;		/* no orders: nothing to play */
		fatal("%s", path);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if ((val = strchr(line, ' ')) == NULL)
			fatalx("%s: bad line \"%s\"", path, line);
		*val++ = '\0';
		if (strcmp(line, "target") == 0)
			evil_copy(e->e_target, sizeof(e->e_target), line, val);
		else if (strcmp(line, "tenant") == 0)
			evil_copy(e->e_tenant, sizeof(e->e_tenant), line, val);
		else if (strcmp(line, "sig") == 0)
			evil_copy(e->e_sig, sizeof(e->e_sig), line, val);
		else if (strcmp(line, "victim") == 0)
			evil_copy(e->e_victim, sizeof(e->e_victim), line, val);
		else if (strcmp(line, "hold") == 0)
			e->e_hold_ms = atoi(val);
		else if (strcmp(line, "cap") == 0)
			e->e_cap = atoi(val);
		else if (strcmp(line, "waitbase") == 0)
			evil_copy(e->e_waitbase, ID_LEN - 12 + 1, line, val);
		else if (strcmp(line, "waitn") == 0)
			e->e_waitn = atoi(val);
		else if (strcmp(line, "waitgot") == 0)
			e->e_waitgot = atoi(val);
		else if (strcmp(line, "passfd") == 0)
			evil_copy(e->e_passfd, sizeof(e->e_passfd), line, val);
		else if (strcmp(line, "keyid") == 0) {
			if (evil_hex(val, e->e_keyid, sizeof(e->e_keyid)) == -1)
				fatalx("keyid: want %zu hex bytes",
				    sizeof(e->e_keyid));
			e->e_have_keyid = 1;
		}
		else if (strcmp(line, "value") == 0) {
			e->e_value_len = strlen(val);
			if (e->e_value_len < 2 ||
			    e->e_value_len > sizeof(e->e_value))
				fatalx("value: 2 to %zu bytes",
				    sizeof(e->e_value));
			memcpy(e->e_value, val, e->e_value_len);
		} else if (strcmp(line, "digest") == 0) {
			if (evil_hex(val, e->e_digest,
			    sizeof(e->e_digest)) == -1)
				fatalx("digest: want %zu hex bytes",
				    sizeof(e->e_digest));
			e->e_have_digest = 1;
		} else if (strcmp(line, "digest8") == 0) {
			if (evil_hex(val, e->e_digest8,
			    sizeof(e->e_digest8)) == -1)
				fatalx("digest8: want %zu hex bytes",
				    sizeof(e->e_digest8));
			e->e_have_digest8 = 1;
		} else if (strcmp(line, "run") == 0) {
			if (e->e_nrun == EVIL_RUN_MAX)
				fatalx("too many scenarios");
			evil_copy(e->e_run[e->e_nrun++], EVIL_NAME_MAX, line,
			    val);
		} else
			fatalx("%s: unknown key \"%s\"", path, line);
	}
	if (ferror(f))
		fatal("%s", path);
	free(line);
	fclose(f);
}

static size_t
evil_next_get(const struct evil *e)
{
	char		 path[PATH_MAX];
	unsigned long	 v = 0;
	FILE		*f;

	evil_path(e, EVIL_NEXT, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		fatal("%s", path);
	}
	if (fscanf(f, "%lu", &v) != 1)
		v = 0;
	fclose(f);
	return (size_t)v;
}

/* In place: the inherited filter allows no rename, and we run alone. */
static void
evil_next_set(const struct evil *e, size_t v)
{
	char	path[PATH_MAX], num[32];
	int	fd, n;

	evil_path(e, EVIL_NEXT, path, sizeof(path));
	n = snprintf(num, sizeof(num), "%zu\n", v);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		fatal("%s", path);
	if (write(fd, num, (size_t)n) != n)
		fatal("%s", path);
	close(fd);
}

/* One message within timeout_ms: 1, 0 on timeout, -1 on EOF. */
static int
evil_recv(struct evil *e, struct chan_msg *m, int timeout_ms)
{
	struct pollfd	pfd;
	struct timespec	ts;
	uint64_t	end, now;
	int		r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	    (uint64_t)timeout_ms;
	for (;;) {
		if ((r = chan_recv(&e->e_chan, m)) != 0)
			return r;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 +
		    (uint64_t)ts.tv_nsec / 1000000;
		if (now >= end)
			return 0;
		pfd.fd = e->e_chan.c_fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end - now)) == -1 && errno != EINTR)
			fatal("poll");
	}
}

static void
evil_send(struct evil *e, uint32_t type, uint32_t reqid, uint32_t connid,
    const void *p, size_t len, int fd)
{
	if (chan_send(&e->e_chan, type, reqid, connid, p, len, fd) == -1)
		fatal("chan_send");
	while (chan_pending(&e->e_chan)) {
		if (chan_flush(&e->e_chan) == -1)
			fatal("chan_flush");
	}
}

/* A frame the codec would refuse to build. */
static void
evil_send_raw(struct evil *e, const void *p, size_t len)
{
	if (send(e->e_chan.c_fd, p, len, MSG_NOSIGNAL) != (ssize_t)len)
		fatal("send");
}

static void
evil_read_init(struct evil *e)
{
	static struct chan_msg	m;
	struct msg_init		mi;

	if (evil_recv(e, &m, EVIL_INIT_WAIT_MS) != 1 ||
	    m.m_hdr.ch_type != MSG_INIT || chan_get(&m, &mi, sizeof(mi)) == -1)
		fatalx("no init message from the broker");
}

/*
 * Wait for the broker to hand us a connection of the given role (and, for
 * guests, identity mode, plain or TLS).
 */
static void
evil_wait_conn(struct evil *e, uint32_t role, uint32_t ident, int tls)
{
	static struct chan_msg	m;
	struct msg_conn_new	mc;
	int			r;

	for (;;) {
		if ((r = evil_recv(e, &m, EVIL_CONN_WAIT_MS)) == 0)
			fatalx("no connection (role %u, mode %u) in %d ms",
			    role, ident, EVIL_CONN_WAIT_MS);
		if (r == -1)
			fatalx("channel closed while waiting");
		if (m.m_hdr.ch_type == MSG_PING) {
			evil_send(e, MSG_PONG, m.m_hdr.ch_reqid, 0, NULL, 0,
			    -1);
			continue;
		}
		if (m.m_hdr.ch_type == MSG_SHUTDOWN)
			exit(0);
		if (m.m_hdr.ch_type == MSG_TLS_CERT)
			continue;	/* certificates for TLS listeners */
		if (m.m_hdr.ch_type != MSG_CONN_NEW ||
		    chan_get(&m, &mc, sizeof(mc)) == -1)
			fatalx("unexpected message type %u", m.m_hdr.ch_type);
		/* The fd stays open: the connection is live while we lie. */
		if (mc.mc_role == role && (mc.mc_tls != 0) == tls &&
		    (role != ROLE_GUEST || mc.mc_ident == ident)) {
			e->e_connid = m.m_hdr.ch_connid;
			e->e_connfd = m.m_fd;
			log_info("got connection %u", e->e_connid);
			return;
		}
		log_info("ignoring connection %u (role %u, mode %u)",
		    m.m_hdr.ch_connid, mc.mc_role, mc.mc_ident);
	}
}

/*
 * The violation is sent: the broker must kill us now.  Anything it
 * answers instead is logged for the test, and we leave after a while so
 * the run goes on; the test sees that no kill was logged.
 */
static void __attribute__((noreturn))
evil_await_death(struct evil *e, const char *name)
{
	static struct chan_msg	m;
	struct msg_status	ms;
	int			r;

	while ((r = evil_recv(e, &m, EVIL_DEATH_WAIT_MS)) == 1) {
		if (m.m_hdr.ch_type == MSG_PING ||
		    m.m_hdr.ch_type == MSG_TLS_CERT)
			continue;	/* routine, whatever we did */
		if (chan_get(&m, &ms, sizeof(ms)) == 0)
			log_warnx("scenario %s: broker answered type %u "
			    "status %u", name, m.m_hdr.ch_type, ms.ms_status);
		else
			log_warnx("scenario %s: broker sent type %u, %zu "
			    "bytes", name, m.m_hdr.ch_type,
			    buf_left(&m.m_payload));
		if (m.m_fd != -1)
			close(m.m_fd);
	}
	if (r == -1) {
		log_warnx("scenario %s: channel closed but not killed", name);
		exit(2);
	}
	log_warnx("scenario %s: NOT refused, still alive after %d ms", name,
	    EVIL_DEATH_WAIT_MS);
	exit(3);
}

/* A guest identity: the target's proxy headers, or nothing (direct). */
static void
evil_guest(const struct evil *e, struct msg_guest *g)
{
	memset(g, 0, sizeof(*g));
	(void)snprintf(g->mg_instance, sizeof(g->mg_instance), "%s",
	    e->e_target);
	(void)snprintf(g->mg_tenant, sizeof(g->mg_tenant), "%s",
	    e->e_tenant);
	(void)snprintf(g->mg_sig, sizeof(g->mg_sig), "%s", e->e_sig);
}

/*
 * A PUT of the test's value with a valid digest: chunks of first_len,
 * then the rest (first_len PW_CHUNK_LEN is the canonical layout).
 */
static void
evil_put(const struct evil *e, struct msg_guest_pw_put *mp, size_t first_len)
{
	size_t	off = 0, n, i;

	if (!e->e_have_digest || e->e_value_len == 0)
		fatalx("the PUT scenarios need value and digest");
	memset(mp, 0, sizeof(*mp));
	evil_guest(e, &mp->mp_guest);
	for (i = 0; off < e->e_value_len && i < PW_CHUNKS; i++) {
		n = e->e_value_len - off;
		if (i == 0 && n > first_len)
			n = first_len;
		else if (n > PW_CHUNK_LEN)
			n = PW_CHUNK_LEN;
		memcpy(mp->mp_chunk[i], e->e_value + off, n);
		mp->mp_len[i] = (uint16_t)n;
		off += n;
	}
	if (off != e->e_value_len)
		fatalx("value does not fit the chunks");
	mp->mp_nchunks = (uint8_t)i;
	memcpy(mp->mp_digest, e->e_digest, sizeof(mp->mp_digest));
}

static void
evil_unknown_type(struct evil *e)
{
	evil_send(e, EVIL_BAD_TYPE, 1, 0, NULL, 0, -1);
}

/* ch_len says 16 bytes follow; 8 do. */
static void
evil_bad_len(struct evil *e)
{
	uint8_t		frame[sizeof(struct chan_hdr) + 8];
	struct chan_hdr	h;

	memset(frame, 0, sizeof(frame));
	memset(&h, 0, sizeof(h));
	h.ch_type = MSG_PONG;
	h.ch_len = 16;
	memcpy(frame, &h, sizeof(h));
	evil_send_raw(e, frame, sizeof(frame));
}

/* Not even a whole header. */
static void
evil_short_frame(struct evil *e)
{
	uint8_t	frame[sizeof(struct chan_hdr) - 6];

	memset(frame, 0, sizeof(frame));
	frame[0] = MSG_PONG;
	evil_send_raw(e, frame, sizeof(frame));
}

static void
evil_wrong_size(struct evil *e)
{
	uint8_t	p[sizeof(struct msg_guest) + 4];

	memset(p, 0, sizeof(p));
	evil_send(e, MSG_GUEST_PW_GET, 1, 0, p, sizeof(p), -1);
}

/* One byte past the largest frame, with a consistent ch_len. */
static void
evil_oversized(struct evil *e)
{
	static uint8_t	frame[sizeof(struct chan_hdr) + CHAN_MAX_PAYLOAD + 1];
	struct chan_hdr	h;

	memset(&h, 0, sizeof(h));
	h.ch_type = MSG_GUEST_PW_PUT;
	h.ch_len = CHAN_MAX_PAYLOAD + 1;
	h.ch_reqid = 1;
	memcpy(frame, &h, sizeof(h));
	memset(frame + sizeof(h), 'A', CHAN_MAX_PAYLOAD + 1);
	evil_send_raw(e, frame, sizeof(frame));
}

static void
evil_unknown_conn(struct evil *e)
{
	struct msg_guest	g;

	evil_guest(e, &g);
	evil_send(e, MSG_GUEST_PW_GET, 1, EVIL_BAD_CONNID, &g, sizeof(g), -1);
}

/* Clear the victim's password through a guest connection. */
static void
evil_owner_op_on_guest(struct evil *e)
{
	struct msg_id	mi;

	memset(&mi, 0, sizeof(mi));
	evil_copy(mi.md_id, sizeof(mi.md_id), "victim", e->e_victim);
	evil_send(e, MSG_OWNER_PW_DEL, 1, e->e_connid, &mi, sizeof(mi), -1);
}

/*
 * Direct mode, but claim the target with its valid proxy headers and a
 * valid PUT: only the direct-mode rule stands in the way.
 */
static void
evil_direct_claim(struct evil *e)
{
	static struct msg_guest_pw_put	mp;

	evil_put(e, &mp, PW_CHUNK_LEN);
	evil_send(e, MSG_GUEST_PW_PUT, 1, e->e_connid, &mp, sizeof(mp), -1);
}

static void
evil_bad_digest(struct evil *e)
{
	static struct msg_guest_pw_put	mp;

	evil_put(e, &mp, PW_CHUNK_LEN);
	mp.mp_digest[0] ^= 0x01;
	evil_send(e, MSG_GUEST_PW_PUT, 1, e->e_connid, &mp, sizeof(mp), -1);
}

/* The digest is right for the value; only the layout is not canonical. */
static void
evil_short_inner_chunk(struct evil *e)
{
	static struct msg_guest_pw_put	mp;

	evil_put(e, &mp, e->e_value_len / 2);
	if (mp.mp_nchunks < 2 || mp.mp_len[0] == PW_CHUNK_LEN)
		fatalx("short-inner-chunk needs a value of 2 to 510 bytes");
	evil_send(e, MSG_GUEST_PW_PUT, 1, e->e_connid, &mp, sizeof(mp), -1);
}

/* The instance id runs on to the end of its field, with no NUL. */
static void
evil_unterminated(struct evil *e)
{
	struct msg_guest	g;
	size_t			n;

	evil_guest(e, &g);
	n = strlen(g.mg_instance);
	memset(g.mg_instance + n, 'f', sizeof(g.mg_instance) - n);
	evil_send(e, MSG_GUEST_PW_GET, 1, e->e_connid, &g, sizeof(g), -1);
}

static void
evil_init_done_twice(struct evil *e)
{
	evil_send(e, MSG_INIT_DONE, 0, 0, NULL, 0, -1);
}

/* No ping is outstanding this early: the first comes after 5 s. */
static void
evil_unexpected_pong(struct evil *e)
{
	evil_send(e, MSG_PONG, 12345, 0, NULL, 0, -1);
}

static int
evil_passfd(const struct evil *e)
{
	int	fd;

	if (e->e_passfd[0] == '\0')
		fatalx("the fd scenarios need passfd");
	if ((fd = open(e->e_passfd, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("%s", e->e_passfd);
	return fd;
}

/* A frame the broker would take, but for the fd riding on it. */
static void
evil_fd_with_init_done(struct evil *e)
{
	evil_send(e, MSG_INIT_DONE, 0, 0, NULL, 0, evil_passfd(e));
}

static void
evil_fd_with_conn_done(struct evil *e)
{
	evil_send(e, MSG_CONN_DONE, 0, e->e_connid, NULL, 0, evil_passfd(e));
}

/* A guest operation before MSG_INIT_DONE. */
static void
evil_before_init(struct evil *e)
{
	struct msg_guest	g;

	evil_guest(e, &g);
	evil_send(e, MSG_GUEST_PW_GET, 1, 0, &g, sizeof(g), -1);
}

/* The broker's inherited filter allows exec only of the worker path. */
static void
evil_exec(struct evil *e)
{
	char	*argv[] = { (char *)(uintptr_t)"sh", (char *)(uintptr_t)"-c",
		    (char *)(uintptr_t)"exit 0", NULL };
	char	*envp[] = { NULL };

	(void)e;
	execve("/bin/sh", argv, envp);
	log_warn("execve /bin/sh");
}

static void
evil_guest_op_on_owner(struct evil *e)
{
	struct msg_guest	g;

	evil_guest(e, &g);
	evil_send(e, MSG_GUEST_PW_GET, 1, e->e_connid, &g, sizeof(g), -1);
}

/*
 * Re-register the target with more addresses than the array holds: an
 * unchecked count would read past it and change the store.
 */
static void
evil_owner_bad_naddr(struct evil *e)
{
	static struct msg_instance	mn;

	memset(&mn, 0, sizeof(mn));
	evil_copy(mn.mn_id, sizeof(mn.mn_id), "target", e->e_target);
	evil_copy(mn.mn_project, sizeof(mn.mn_project), "tenant",
	    e->e_tenant);
	mn.mn_naddr = INST_ADDRS_MAX + 1;
	evil_send(e, MSG_OWNER_INST_PUT, 1, e->e_connid, &mn, sizeof(mn), -1);
}

/*
 * More waiting GETs than the broker's table holds, all on one owner
 * connection, which no honest worker sends (one request at a time on at
 * most 32 connections): the one past WAITERS_MAX must get 503 at once,
 * the others nothing yet.  Then the usual violation, to be killed.
 */
static void
evil_waiters_full(struct evil *e)
{
	static struct chan_msg	m;
	static struct msg_pw	mw;
	struct msg_pw_get	mq;
	uint32_t		i;

	memset(&mq, 0, sizeof(mq));
	evil_copy(mq.mq_id, sizeof(mq.mq_id), "target", e->e_target);
	mq.mq_wait = 600;
	for (i = 1; i <= WAITERS_MAX + 1; i++)
		evil_send(e, MSG_OWNER_PW_GET, i, e->e_connid, &mq,
		    sizeof(mq), -1);
	for (;;) {
		if (evil_recv(e, &m, EVIL_DEATH_WAIT_MS) != 1)
			fatalx("scenario waiters-full: no answer");
		if (m.m_hdr.ch_type == MSG_PING ||
		    m.m_hdr.ch_type == MSG_TLS_CERT)
			continue;
		if (m.m_hdr.ch_type != MSG_OWNER_PW_GET_ANS ||
		    chan_get(&m, &mw, sizeof(mw)) == -1)
			fatalx("scenario waiters-full: broker sent type %u",
			    m.m_hdr.ch_type);
		if (m.m_hdr.ch_reqid != WAITERS_MAX + 1 ||
		    mw.mw_status != 503)
			fatalx("scenario waiters-full: broker answered "
			    "request %u with %u", m.m_hdr.ch_reqid,
			    mw.mw_status);
		break;
	}
	log_info("scenario waiters-full: %d waiting, request %d refused "
	    "with 503", WAITERS_MAX, WAITERS_MAX + 1);
	evil_send(e, EVIL_BAD_TYPE, 0, 0, NULL, 0, -1);
}

/*
 * More waiters than one poll turn reads (WAITERS_POLL_MAX), on one owner
 * connection, each for its own instance; the test posts values for
 * waitgot of them on another node of the shared store.  Only the
 * broker's polls can find those, and each of those waiters must get its
 * own value, whatever the waiters before it in the table.  No honest
 * worker can hold that many (32 owner connections).  Then the usual
 * violation.
 */
static void
evil_waiters_shared(struct evil *e)
{
	static struct chan_msg	m;
	static struct msg_pw	mw;
	static uint8_t		done[WAITERS_MAX];
	struct msg_pw_get	mq;
	struct timespec		ts;
	uint64_t		end, now;
	uint32_t		id;
	int			i, n = 0, r;

	if (e->e_waitn <= WAITERS_POLL_MAX || e->e_waitn > WAITERS_MAX ||
	    e->e_waitgot < 1 || e->e_waitgot > e->e_waitn ||
	    strlen(e->e_waitbase) != ID_LEN - 12)
		fatalx("waiters-shared needs waitbase, waitn and waitgot");
	memset(&mq, 0, sizeof(mq));
	mq.mq_wait = 60;
	for (i = 0; i < e->e_waitn; i++) {
		(void)snprintf(mq.mq_id, sizeof(mq.mq_id), "%.*s%012x",
		    ID_LEN - 12, e->e_waitbase, (unsigned int)i);
		evil_send(e, MSG_OWNER_PW_GET, (uint32_t)i + 1, e->e_connid,
		    &mq, sizeof(mq), -1);
	}
	log_info("scenario waiters-shared: %d waiting", e->e_waitn);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	    50000;
	while (n < e->e_waitgot) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 +
		    (uint64_t)ts.tv_nsec / 1000000;
		if (now >= end || (r = evil_recv(e, &m, (int)(end - now))) == 0)
			break;
		if (r == -1)
			fatalx("channel closed");
		if (m.m_hdr.ch_type == MSG_PING) {
			evil_send(e, MSG_PONG, m.m_hdr.ch_reqid, 0, NULL, 0,
			    -1);
			continue;
		}
		if (m.m_hdr.ch_type != MSG_OWNER_PW_GET_ANS ||
		    chan_get(&m, &mw, sizeof(mw)) == -1)
			continue;
		id = m.m_hdr.ch_reqid;
		if (id < 1 || id > (uint32_t)e->e_waitn || done[id - 1] ||
		    mw.mw_status != 200 || mw.mw_len == 0)
			fatalx("scenario waiters-shared: request %u answered "
			    "%u with %u bytes", id, mw.mw_status, mw.mw_len);
		done[id - 1] = 1;
		n++;
	}
	log_info("scenario waiters-shared: %d of %d answered with a value", n,
	    e->e_waitgot);
	evil_send(e, EVIL_BAD_TYPE, 0, 0, NULL, 0, -1);
}

/* Close a connection, then go on using its id. */
static void
evil_stale_conn(struct evil *e)
{
	struct msg_guest	g;

	evil_guest(e, &g);
	evil_send(e, MSG_CONN_DONE, 0, e->e_connid, NULL, 0, -1);
	evil_send(e, MSG_GUEST_PW_GET, 1, e->e_connid, &g, sizeof(g), -1);
}

/* A live slot, but another generation of it. */
static void
evil_wrong_generation(struct evil *e)
{
	struct msg_guest	g;

	evil_guest(e, &g);
	evil_send(e, MSG_GUEST_PW_GET, 1, e->e_connid ^ 0x10000U, &g,
	    sizeof(g), -1);
}

static void
evil_init_done_connid(struct evil *e)
{
	evil_send(e, MSG_INIT_DONE, 0, 1, NULL, 0, -1);
}

/* One more chunk than the arrays hold. */
static void
evil_too_many_chunks(struct evil *e)
{
	static struct msg_guest_pw_put	mp;

	evil_put(e, &mp, PW_CHUNK_LEN);
	mp.mp_nchunks = PW_CHUNKS + 1;
	evil_send(e, MSG_GUEST_PW_PUT, 1, e->e_connid, &mp, sizeof(mp), -1);
}

/*
 * A canonical PUT with the right digest, of a value that is not UTF-8: a
 * broker that stored it would make the worker fail every owner GET of it.
 */
static void
evil_bad_utf8(struct evil *e)
{
	static struct msg_guest_pw_put	mp;

	if (!e->e_have_digest8)
		fatalx("bad-utf8 needs digest8");
	evil_put(e, &mp, PW_CHUNK_LEN);
	mp.mp_chunk[0][0] = 0xff;
	memcpy(mp.mp_digest, e->e_digest8, sizeof(mp.mp_digest));
	evil_send(e, MSG_GUEST_PW_PUT, 1, e->e_connid, &mp, sizeof(mp), -1);
}

/* A last chunk longer than its slot: an unchecked length reads past it. */
static void
evil_long_last_chunk(struct evil *e)
{
	static struct msg_guest_pw_put	mp;

	evil_put(e, &mp, PW_CHUNK_LEN);
	mp.mp_len[mp.mp_nchunks - 1] = PW_CHUNK_LEN + 1;
	evil_send(e, MSG_GUEST_PW_PUT, 1, e->e_connid, &mp, sizeof(mp), -1);
}

static void
evil_bad_flags(struct evil *e)
{
	struct msg_guest	g;

	evil_guest(e, &g);
	g.mg_flags = 0x80;
	evil_send(e, MSG_GUEST_PW_GET, 1, e->e_connid, &g, sizeof(g), -1);
}

/* A valid INIT_DONE carrying more fds than the broker has room for. */
static void
evil_many_fds(struct evil *e)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct chan_hdr	 h;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * EVIL_MANY_FDS)];
	}		 cm;
	struct cmsghdr	*cmsg;
	int		 fds[EVIL_MANY_FDS], i;

	for (i = 0; i < EVIL_MANY_FDS; i++)
		fds[i] = evil_passfd(e);
	memset(&h, 0, sizeof(h));
	h.ch_type = MSG_INIT_DONE;
	iov.iov_base = &h;
	iov.iov_len = sizeof(h);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	cmsg = CMSG_FIRSTHDR(&mh);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	if (sendmsg(e->e_chan.c_fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(h))
		fatal("sendmsg");
}

/*
 * A sign request for our connection, on the sign channel (or, with
 * main_chan, where it does not belong).  The data is filler: only the
 * length, operation and key id matter to the broker's checks.
 */
static void
evil_sign(struct evil *e, uint32_t op, int bad_key, uint32_t len,
    int main_chan)
{
	static struct msg_tls_sign	ms;
	struct chan			*c;

	if (!e->e_have_keyid)
		fatalx("the sign scenarios need keyid");
	c = main_chan ? &e->e_chan : &e->e_sign;
	memset(&ms, 0, sizeof(ms));
	ms.mts_op = op;
	ms.mts_len = len;
	memcpy(ms.mts_keyid, e->e_keyid, sizeof(ms.mts_keyid));
	if (bad_key)
		ms.mts_keyid[0] ^= 0xff;
	memset(ms.mts_data, 0xa5, sizeof(ms.mts_data));
	if (chan_send(c, MSG_TLS_SIGN, 7, e->e_connid, &ms, sizeof(ms),
	    -1) == -1)
		fatal("chan_send");
	while (chan_pending(c))
		if (chan_flush(c) == -1)
			fatal("chan_flush");
}

static void
evil_sign_31(struct evil *e)
{
	evil_sign(e, TLS_SIGN_ECDSA, 0, 31, 0);
}

/* Claims 1 KiB: more than the message can even carry. */
static void
evil_sign_1k(struct evil *e)
{
	evil_sign(e, TLS_SIGN_ECDSA, 0, 1024, 0);
}

static void
evil_sign_unknown_key(struct evil *e)
{
	evil_sign(e, TLS_SIGN_ECDSA, 1, 32, 0);
}

/* relayd's RSA_NO_PADDING private encryption: a raw RSA-2048 block. */
static void
evil_sign_rsa_raw(struct evil *e)
{
	evil_sign(e, 2, 0, 256, 0);
}

/* One signature is the connection's due; the second is not. */
static void
evil_sign_twice(struct evil *e)
{
	static struct chan_msg	m;
	struct msg_tls_sig	sg;
	struct pollfd		pfd;

	evil_sign(e, TLS_SIGN_ECDSA, 0, 32, 0);
	pfd.fd = e->e_sign.c_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, EVIL_SIGN_WAIT_MS) != 1 ||
	    chan_recv(&e->e_sign, &m) != 1 ||
	    m.m_hdr.ch_type != MSG_TLS_SIGN_ANS ||
	    chan_get(&m, &sg, sizeof(sg)) == -1 || sg.msig_len == 0)
		fatalx("no signature for the first request");
	log_info("got a signature of %u bytes", sg.msig_len);
	evil_sign(e, TLS_SIGN_ECDSA, 0, 32, 0);
}

static void
evil_sign_on_main(struct evil *e)
{
	evil_sign(e, TLS_SIGN_ECDSA, 0, 32, 1);
}

/* A valid request, for a connection that speaks no TLS. */
static void
evil_sign_plain_conn(struct evil *e)
{
	evil_sign(e, TLS_SIGN_ECDSA, 0, 32, 0);
}

int
main(void)
{
	static struct evil		 e;
	static struct chan_msg		 m;
	static char			 procname[64];
	const struct evil_scenario	*es = NULL;
	size_t				 i, next;

	(void)snprintf(procname, sizeof(procname), "evil-worker[%d]",
	    (int)getpid());
	log_init(procname, 0);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	chan_init(&e.e_chan, CHAN_WORKER_FD, 1);
	chan_unpack(&e.e_chan);		/* as the worker: answers come packed */
	chan_init(&e.e_sign, CHAN_SIGN_FD, 0);
	evil_find_dir(&e);
	evil_load(&e);
	next = evil_next_get(&e);
	if (next >= e.e_nrun) {
		/* Out of orders: sit still until the init timeout. */
		log_warnx("no scenario left (%zu of %zu played)", next,
		    e.e_nrun);
		evil_read_init(&e);
		(void)evil_recv(&e, &m, 10000);
		exit(4);
	}
	evil_next_set(&e, next + 1);
	for (i = 0; i < sizeof(evil_scenarios) / sizeof(evil_scenarios[0]);
	    i++)
		if (strcmp(evil_scenarios[i].es_name, e.e_run[next]) == 0)
			es = &evil_scenarios[i];
	if (es == NULL)
		fatalx("unknown scenario \"%s\"", e.e_run[next]);

	evil_read_init(&e);
	log_info("scenario %s (%zu of %zu)", es->es_name, next + 1, e.e_nrun);
	if (es->es_flags & EVIL_F_INIT)
		evil_send(&e, MSG_INIT_DONE, 0, 0, NULL, 0, -1);
	if (es->es_flags & EVIL_F_PROXY)
		evil_wait_conn(&e, ROLE_GUEST, IDENT_PROXY, 0);
	if (es->es_flags & EVIL_F_DIRECT)
		evil_wait_conn(&e, ROLE_GUEST, IDENT_DIRECT, 0);
	if (es->es_flags & EVIL_F_OWNER)
		evil_wait_conn(&e, ROLE_OWNER, 0, 0);
	if (es->es_flags & EVIL_F_TLS)
		evil_wait_conn(&e, ROLE_GUEST, IDENT_PROXY, 1);
	es->es_fn(&e);
	log_info("scenario %s: sent", es->es_name);
	evil_await_death(&e, es->es_name);
}

/*
 * Ask the broker about our connection and wait up to wait_ms for its
 * answer, answering pings meanwhile.  1: answered, 0: not.
 */
static int
evil_ask(struct evil *e, uint32_t type, uint32_t reqid, const void *p,
    size_t len, int wait_ms)
{
	static struct chan_msg	m;
	int			r;

	evil_send(e, type, reqid, e->e_connid, p, len, -1);
	while ((r = evil_recv(e, &m, wait_ms)) == 1) {
		if (m.m_hdr.ch_type == MSG_PING) {
			evil_send(e, MSG_PONG, m.m_hdr.ch_reqid, 0, NULL, 0,
			    -1);
			continue;
		}
		if (m.m_fd != -1)
			close(m.m_fd);
		if (m.m_hdr.ch_type == type + 1 && m.m_hdr.ch_reqid == reqid &&
		    m.m_hdr.ch_connid == e->e_connid)
			return 1;
	}
	if (r == -1)
		fatalx("channel closed");
	return 0;
}

/* Hold our connection for ms, answering pings so that we stay alive. */
static void
evil_hold(struct evil *e, int ms)
{
	static struct chan_msg	m;
	struct timespec		ts;
	uint64_t		end, now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	    (uint64_t)ms;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 +
		    (uint64_t)ts.tv_nsec / 1000000;
		if (now >= end)
			return;
		if (evil_recv(e, &m, (int)(end - now)) != 1)
			continue;
		if (m.m_hdr.ch_type == MSG_PING)
			evil_send(e, MSG_PONG, m.m_hdr.ch_reqid, 0, NULL, 0,
			    -1);
		if (m.m_fd != -1)
			close(m.m_fd);
	}
}

/*
 * The broker closed the caller's socket under us: it reads as ended.
 * read, not recv: the broker's inherited filter has no recvfrom.
 */
static void
evil_check_closed(const struct evil *e, const char *name)
{
	struct pollfd	pfd;

	pfd.fd = e->e_connfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLHUP | POLLIN)) ||
	    read(e->e_connfd, &pfd, 1) != 0)
		log_warnx("scenario %s: broker sent nothing, but left the "
		    "caller's socket open", name);
}

/*
 * One owner operation, then the connection held past the broker's idle
 * limit: the next operation goes unanswered (a worker may have sent one
 * before it saw the close), and the one after kills us.
 */
static void
evil_owner_idle(struct evil *e)
{
	if (e->e_hold_ms <= 0)
		fatalx("owner-idle needs hold");
	if (!evil_ask(e, MSG_OWNER_STATUS, 1, NULL, 0, EVIL_DEATH_WAIT_MS))
		fatalx("the first status was not answered");
	evil_hold(e, e->e_hold_ms);
	evil_check_closed(e, "owner-idle");
	if (evil_ask(e, MSG_OWNER_STATUS, 2, NULL, 0,
	    EVIL_DEATH_WAIT_MS / 3))
		log_warnx("scenario owner-idle: broker answered type %u "
		    "past the idle limit", MSG_OWNER_STATUS_ANS);
	evil_send(e, MSG_OWNER_STATUS, 3, e->e_connid, NULL, 0, -1);
}

/*
 * As many operations as the limit allows, then one more, then another:
 * p and len are each operation's payload.
 */
static void
evil_requests(struct evil *e, const char *name, uint32_t type,
    const void *p, size_t len)
{
	int	i;

	if (e->e_cap <= 0)
		fatalx("%s needs cap", name);
	for (i = 0; i < e->e_cap; i++)
		if (!evil_ask(e, type, (uint32_t)i + 1, p, len,
		    EVIL_DEATH_WAIT_MS))
			fatalx("operation %d of %d was not answered", i + 1,
			    e->e_cap);
	if (evil_ask(e, type, (uint32_t)i + 1, p, len,
	    EVIL_DEATH_WAIT_MS / 3))
		log_warnx("scenario %s: broker answered type %u past the "
		    "request limit", name, type + 1);
	evil_check_closed(e, name);
	evil_send(e, type, (uint32_t)i + 2, e->e_connid, p, len, -1);
}

static void
evil_owner_requests(struct evil *e)
{
	evil_requests(e, "owner-requests", MSG_OWNER_STATUS, NULL, 0);
}

/* A signature seen once, replayed on the connection it came with. */
static void
evil_guest_requests(struct evil *e)
{
	struct msg_guest	g;

	evil_guest(e, &g);
	evil_requests(e, "guest-requests", MSG_GUEST_PW_GET, &g, sizeof(g));
}

/* n valid batch entries (the target, again and again) on the owner conn. */
static void
evil_batch_entries(struct evil *e, uint32_t n)
{
	static struct msg_instance	mn;
	uint32_t			i;

	memset(&mn, 0, sizeof(mn));
	evil_copy(mn.mn_id, sizeof(mn.mn_id), "target", e->e_target);
	evil_copy(mn.mn_project, sizeof(mn.mn_project), "tenant",
	    e->e_tenant);
	for (i = 0; i < n; i++)
		evil_send(e, MSG_OWNER_BATCH_ENTRY, 0, e->e_connid, &mn,
		    sizeof(mn), -1);
}

static void
evil_batch_entry_alone(struct evil *e)
{
	evil_batch_entries(e, 1);
}

static void
evil_batch_begin_twice(struct evil *e)
{
	evil_send(e, MSG_OWNER_BATCH_BEGIN, 0, e->e_connid, NULL, 0, -1);
	evil_batch_entries(e, 1);
	evil_send(e, MSG_OWNER_BATCH_BEGIN, 0, e->e_connid, NULL, 0, -1);
}

/* The broker keeps BATCH_MAX entries and not one more. */
static void
evil_batch_over_limit(struct evil *e)
{
	evil_send(e, MSG_OWNER_BATCH_BEGIN, 0, e->e_connid, NULL, 0, -1);
	evil_batch_entries(e, BATCH_MAX + 1);
}

static void
evil_batch_wrong_count(struct evil *e)
{
	struct msg_batch_end	me;

	evil_send(e, MSG_OWNER_BATCH_BEGIN, 0, e->e_connid, NULL, 0, -1);
	evil_batch_entries(e, 2);
	memset(&me, 0, sizeof(me));
	me.mbe_n = 3;
	evil_send(e, MSG_OWNER_BATCH_END, 1, e->e_connid, &me, sizeof(me), -1);
}
