/* SPDX-License-Identifier: ISC */
/*
 * The broker's side of the channel.  Input bytes become frames that a
 * hostile worker sends; the real broker code receives them (chan_recv,
 * as broker_read_chan does) and executes them (ops_dispatch, or
 * broker_reports for the worker's reports) against a real SQLite store,
 * key ring and proxy secret, with connections of every kind open.
 * fuzz_chan.h gives the input layout.
 *
 * Beyond no crash, UB or leak (fds included), the broker must:
 * - hand the store a write only for a message that is well-formed and
 *   allowed: right type and connection, an authorised owner, a guest that
 *   may act for the instance, chunks and digest that check out, and a
 *   sealed record that opens to exactly the value sent (or, in verifier
 *   mode, to a verifier of it);
 * - never write for a message it then calls a violation;
 * - answer only what was asked, at the right size, and with nothing (no
 *   registration, value, token or figures) unless the status is 200; a
 *   refused owner gets 403, and a guest gets 200 only for the instance
 *   its address or signature proves, with a valid token where one is due.
 *
 * supervise.c asks the launcher to start and kill workers: it is
 * replaced here and in tests/bstub.c, with the sandbox.  A violation is
 * recorded and the connections are forgotten, as supervise_down() does.
 * The writer and hasher threads run for real, but every job passes a
 * check on its way in (ld --wrap), and each message waits until both
 * threads have handed back what it started, as broker_run would see it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/broker.h"
#include "broker/hasher.h"
#include "broker/ops.h"
#include "broker/ratelimit.h"
#include "broker/seal.h"
#include "broker/tokens.h"
#include "broker/waiters.h"
#include "broker/writer.h"
#include "privsep/validate.h"
#include "tests/bstub.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/fuzz_chan.h"

#define FZC_MSGS_MAX	64	/* messages followed per input */

/* What a message was, taken before the broker saw it. */
struct fzc_req {
	uint32_t	fr_type;
	uint32_t	fr_reqid;
	uint32_t	fr_connid;
	int		fr_answered;
	int		fr_slot;		/* -1: no live connection */
	int		fr_role;
	int		fr_authorized;
	char		fr_who[ID_LEN + 1];	/* whom a guest may act for */
	char		fr_bind[PROJECT_MAX + 2];	/* class, identity */
	uint8_t		fr_nchunks;
};

union fzc_payload {
	struct msg_guest	g;
	struct msg_guest_pw_put	pp;
	struct msg_guest_token	gt;
	struct msg_instance	in;
	struct msg_id		id;
	struct msg_list		l;
	struct msg_pw_get	pg;
	struct msg_pw_verify	pv;
	struct msg_owner_auth	oa;
	struct msg_key_id	kr;
	struct msg_reports	rs;
	uint8_t			raw[CHAN_MAX_PAYLOAD];
};

static struct broker	 fzc_b;
/* A written registration, back on the wire to compare with the sent. */
static struct msg_instance fzc_back;
static struct config	 fzc_conf;
static struct bconn	 fzc_conns[FZC_SLOTS];
static struct bgone	 fzc_gone[FZC_SLOTS];
static struct store	*fzc_real;	/* the broker's SQLite connection */
static char		 fzc_keydir[PATH_MAX];
static uint8_t		 fzc_key[KEY_LEN];	/* key 1, which seals A */
static int		 fzc_sv[2];	/* the broker's end, the worker's end */
static int		 fzc_pipe[2] = { -1, -1 };	/* fds sent now */
static struct fzc_req	 fzc_reqs[FZC_MSGS_MAX];
static size_t		 fzc_nreqs;
static const struct chan_msg *fzc_cur;	/* being dispatched */
static const struct fzc_req *fzc_curq;
static int		 fzc_wpending;	/* jobs the writer still holds */
static int		 fzc_hpending;	/* jobs the hasher still holds */
static int		 fzc_wrote;	/* fzc_cur had the store written */
static int		 fzc_dirty;	/* the store differs from the fixture */
static int		 fzc_killed;	/* supervise_kill for fzc_cur */
static char		 fzc_token[TOKEN_LEN + 1];	/* the last issued */
static char		 fzc_token_bind[PROJECT_MAX + 2];

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	__real_writer_submit(struct wjob *);
struct wjob *__real_writer_done(void);
int	__wrap_writer_submit(struct wjob *);
struct wjob *__wrap_writer_done(void);
int	__real_hasher_submit(struct hjob *);
struct hjob *__real_hasher_done(void);
int	__wrap_hasher_submit(struct hjob *);
struct hjob *__wrap_hasher_done(void);

/* A violation: the broker would SIGKILL the worker; here nothing runs. */
void
supervise_kill(struct broker *b, const char *fmt, ...)
{
	char	reason[256];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	fzc_killed = 1;
	if (b->b_wstate != WORKER_DOWN)
		supervise_down(b);
}

/* supervise.c's, without closing the socket, which the harness reuses. */
void
supervise_down(struct broker *b)
{
	uint32_t	i;

	chan_clear(&b->b_chan);
	b->b_chan.c_fd = -1;
	for (i = 0; i < BROKER_CONNS(b); i++)
		if (b->b_conns[i].bc_id != 0)
			broker_conn_free(b, b->b_conns[i].bc_id);
	b->b_wstate = WORKER_DOWN;
}

/* bstub.h: the broker reached what the harness stands in for. */
void
bstub_unreached(const char *what)
{
	fuzz_fail(__FILE__, __LINE__, "%s reached", what);
}

static int
fzc_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int
fzc_zero(const void *p, size_t len)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/*
 * The well-formed guest password write, checked from the message itself:
 * canonical chunks and their digest, the guest's right to the instance,
 * and a sealed record that opens to the value, or to a verifier of it.
 */
static void
fzc_check_pw_put(const char *id, const struct store_pw *sp)
{
	static struct msg_guest_pw_put	 mp;
	crypto_generichash_state	 st;
	uint8_t				 digest[PW_DIGEST_LEN], fp[FP_LEN];
	uint8_t				 plain[PW_CHUNK_LEN + SEAL_TAG_LEN];
	uint8_t				 value[PW_MAX];
	char				 rec[PW_MAX + 1];
	size_t				 i, n, len, want, off = 0, roff = 0;

	FUZZ_CHECK(chan_get(fzc_cur, &mp, sizeof(mp)) == 0, "payload size");
	FUZZ_CHECK(mp.mp_reject == 0, "a body refused with %u was written",
	    mp.mp_reject);
	n = mp.mp_nchunks;
	FUZZ_CHECK(n >= 1 && n <= PW_CHUNKS, "%zu chunks written", n);
	for (i = 0; i < PW_CHUNKS; i++) {
		want = i >= n ? 0 : i + 1 < n ? PW_CHUNK_LEN : mp.mp_len[i];
		FUZZ_CHECK(mp.mp_len[i] == want &&
		    mp.mp_len[i] <= PW_CHUNK_LEN && (i + 1 != n || want > 0),
		    "chunk %zu of %zu: length %u written", i, n, mp.mp_len[i]);
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	for (i = 0; i < n; i++) {
		crypto_generichash_update(&st, mp.mp_chunk[i], mp.mp_len[i]);
		memcpy(value + off, mp.mp_chunk[i], mp.mp_len[i]);
		off += mp.mp_len[i];
	}
	crypto_generichash_final(&st, digest, sizeof(digest));
	FUZZ_CHECK(memcmp(digest, mp.mp_digest, sizeof(digest)) == 0,
	    "a value with a wrong digest was written");
	FUZZ_CHECK(strcmp(fzc_curq->fr_who, id) == 0,
	    "written for %s by a guest that may act for \"%s\"", id,
	    fzc_curq->fr_who);

	for (i = 0; i < sp->sp_nchunks && i < PW_CHUNKS; i++) {
		FUZZ_CHECK(seal_open(&fzc_b.b_keys, id, (uint8_t)i,
		    (uint8_t)sp->sp_nchunks, sp->sp_kind, sp->sp_set_at,
		    &sp->sp_chunk[i], plain, &len) == 0 && roff + len <= PW_MAX,
		    "chunk %zu does not open", i);
		memcpy(rec + roff, plain, len);
		roff += len;
	}
	rec[roff] = '\0';
	if (sp->sp_kind == PW_KIND_VERIFIER)
		/* fzc_conf keeps Argon2id at its cheapest. */
		FUZZ_CHECK(crypto_pwhash_str_verify(rec, (const char *)value,
		    off) == 0, "the verifier stored is not of the value sent");
	else {
		FUZZ_CHECK(sp->sp_kind == PW_KIND_VALUE &&
		    sp->sp_nchunks == n && roff == off &&
		    memcmp(rec, value, off) == 0,
		    "the record stored is not the value sent");
		FUZZ_CHECK(seal_fingerprint(&fzc_b.b_keys, value, off, fp) ==
		    0 && memcmp(fp, sp->sp_fp, FP_LEN) == 0,
		    "fingerprint of another value");
	}
	sodium_memzero(&mp, sizeof(mp));
	sodium_memzero(value, sizeof(value));
	sodium_memzero(rec, sizeof(rec));
}

/* Every write the broker hands the writer, before the store sees it. */
static void
fzc_write_check(const struct wjob *j)
{
	static union fzc_payload	 u;
	const struct bconn		*bc;
	uint32_t			 want;

	FUZZ_CHECK(fzc_cur != NULL, "store written outside any message");
	fzc_wrote = fzc_dirty = 1;
	switch (j->wj_op) {
	case WJ_PW_EXPIRE:
		/* A read that finds a value past its TTL has it deleted. */
		FUZZ_CHECK(valid_uuid(j->wj_id), "expiry of %.36s", j->wj_id);
		return;
	case WJ_PW_PUT:
		want = MSG_GUEST_PW_PUT;
		break;
	case WJ_INST_PUT:
		want = MSG_OWNER_INST_PUT;
		break;
	case WJ_INST_DEL:
		want = MSG_OWNER_INST_DEL;
		break;
	case WJ_PW_DEL:
		want = MSG_OWNER_PW_DEL;
		break;
	case WJ_PW_TAKE:
		want = MSG_OWNER_PW_GET;
		break;
	case WJ_KEY_COUNT:
		/* Retire counts the key's values behind every queued write. */
		want = MSG_OWNER_KEY_RETIRE;
		break;
	default:
		/* A rewrap pass runs on the event loop's timer, not here. */
		fuzz_fail(__FILE__, __LINE__, "write %d for message type %u",
		    j->wj_op, fzc_cur->m_hdr.ch_type);
	}
	FUZZ_CHECK(fzc_cur->m_hdr.ch_type == want,
	    "message type %u made write %d", fzc_cur->m_hdr.ch_type, j->wj_op);
	FUZZ_CHECK(j->wj_rt.rt_type == fzc_cur->m_hdr.ch_type + 1 &&
	    j->wj_rt.rt_reqid == fzc_cur->m_hdr.ch_reqid &&
	    j->wj_rt.rt_connid == fzc_cur->m_hdr.ch_connid,
	    "write answers another message");
	bc = broker_conn_get(&fzc_b, fzc_cur->m_hdr.ch_connid);
	FUZZ_CHECK(bc != NULL, "written for no connection");
	if (j->wj_op == WJ_PW_PUT) {
		FUZZ_CHECK(bc->bc_role == ROLE_GUEST,
		    "password put by an owner");
		fzc_check_pw_put(j->wj_id, &j->wj_pw);
		return;
	}
	FUZZ_CHECK(bc->bc_role == ROLE_OWNER && bc->bc_authorized,
	    "owner write on a connection not allowed to");
	switch (j->wj_op) {
	case WJ_INST_PUT:
		FUZZ_CHECK(chan_get(fzc_cur, &u.in, sizeof(u.in)) == 0 &&
		    valid_instance(&u.in), "an invalid registration written");
		ops_inst_to_wire(&fzc_back, j->wj_inst);
		FUZZ_CHECK(valid_instance(&fzc_back) &&
		    strcmp(fzc_back.mn_id, u.in.mn_id) == 0 &&
		    strcmp(j->wj_id, u.in.mn_id) == 0,
		    "registration changed on its way to the store");
		break;
	case WJ_PW_TAKE:
		FUZZ_CHECK(chan_get(fzc_cur, &u.pg, sizeof(u.pg)) == 0 &&
		    fzc_terminated(u.pg.mq_id, sizeof(u.pg.mq_id)) &&
		    strcmp(u.pg.mq_id, j->wj_id) == 0,
		    "took %s for a message about another id", j->wj_id);
		break;
	case WJ_KEY_COUNT:
		FUZZ_CHECK(chan_get(fzc_cur, &u.kr, sizeof(u.kr)) == 0 &&
		    u.kr.mki_id == j->wj_key, "counted key %u for another",
		    j->wj_key);
		break;
	default:
		FUZZ_CHECK(chan_get(fzc_cur, &u.id, sizeof(u.id)) == 0 &&
		    fzc_terminated(u.id.md_id, sizeof(u.id.md_id)) &&
		    valid_uuid(u.id.md_id) && strcmp(u.id.md_id, j->wj_id) == 0,
		    "wrote %s for a message about another id", j->wj_id);
		break;
	}
}

/* ld --wrap: every job the broker queues passes the check first. */
int
__wrap_writer_submit(struct wjob *j)
{
	int	r;

	fzc_write_check(j);
	if ((r = __real_writer_submit(j)) == 0)
		fzc_wpending++;
	return r;
}

struct wjob *
__wrap_writer_done(void)
{
	struct wjob	*list, *j;

	list = __real_writer_done();
	for (j = list; j != NULL; j = j->wj_next)
		fzc_wpending--;
	return list;
}

/* Only the two operations that hash: a verifier put, and a verify. */
int
__wrap_hasher_submit(struct hjob *h)
{
	int	r;

	FUZZ_CHECK(fzc_cur != NULL && (h->hj_op == HJ_HASH ?
	    fzc_cur->m_hdr.ch_type == MSG_GUEST_PW_PUT :
	    fzc_cur->m_hdr.ch_type == MSG_OWNER_PW_VERIFY),
	    "hash job %d for message type %u", h->hj_op,
	    fzc_cur != NULL ? fzc_cur->m_hdr.ch_type : 0);
	if ((r = __real_hasher_submit(h)) == 0)
		fzc_hpending++;
	return r;
}

struct hjob *
__wrap_hasher_done(void)
{
	struct hjob	*list, *h;

	list = __real_hasher_done();
	for (h = list; h != NULL; h = h->hj_next)
		fzc_hpending--;
	return list;
}

/* What broker_run does when the threads' eventfds are readable. */
static void
fzc_background(void)
{
	struct pollfd	pfd[2];
	int		r;

	while (fzc_wpending > 0 || fzc_hpending > 0) {
		writer_wake();
		pfd[0].fd = writer_fd();
		pfd[0].events = POLLIN;
		pfd[1].fd = hasher_fd();
		pfd[1].events = POLLIN;
		/*
		 * Past SQLite's busy wait, within run.sh's -timeout, whose
		 * SIGALRM may interrupt the wait.
		 */
		do
			r = poll(pfd, 2, 8000);
		while (r == -1 && errno == EINTR);
		FUZZ_CHECK(r > 0, "a thread stalled: %d writes, %d hashes",
		    fzc_wpending, fzc_hpending);
		if (pfd[1].revents & POLLIN)
			ops_hash_done(&fzc_b);
		if (pfd[0].revents & POLLIN)
			ops_write_done(&fzc_b);
	}
}

static void
fzc_register(const char *id, const char *project, const char *addr)
{
	struct store_inst	mi;
	int			created;

	memset(&mi, 0, sizeof(mi));
	(void)snprintf(mi.ri_id, sizeof(mi.ri_id), "%s", id);
	(void)snprintf(mi.ri_project, sizeof(mi.ri_project), "%s", project);
	(void)snprintf(mi.ri_addr[0], sizeof(mi.ri_addr[0]), "%s", addr);
	mi.ri_naddr = 1;
	(void)snprintf(mi.ri_keys[0].rk_name, sizeof(mi.ri_keys[0].rk_name),
	    "default");
	(void)snprintf(mi.ri_keys[0].rk_data, sizeof(mi.ri_keys[0].rk_data),
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFuzz fuzz@example.org");
	mi.ri_nkeys = 1;
	FUZZ_CHECK(store_instance_put(fzc_real, &mi, &created) == STORE_OK,
	    "fixture: register %s", id);
}

/* Back to the fixture: A with a password, B without, nothing else. */
static void
fzc_store_reset(void)
{
	static struct store_list	mla;
	struct store_pw			sp;
	char				after[ID_LEN + 1] = "";
	uint32_t			i;

	do {
		memset(&mla, 0, sizeof(mla));
		FUZZ_CHECK(store_instance_list(fzc_real, after, &mla) ==
		    STORE_OK && mla.sl_n <= LIST_MAX, "fixture: list");
		for (i = 0; i < mla.sl_n; i++)
			FUZZ_CHECK(store_instance_del(fzc_real,
			    mla.sl_e[i].id) == STORE_OK, "fixture: delete");
		if (mla.sl_n > 0)
			memcpy(after, mla.sl_e[mla.sl_n - 1].id,
			    sizeof(after));
	} while (mla.sl_more && mla.sl_n > 0);
	fzc_register(FZC_ID_A, FZC_PROJECT_A, FZC_ADDR_A);
	fzc_register(FZC_ID_B, FZC_PROJECT_B, FZC_ADDR_B);

	memset(&sp, 0, sizeof(sp));
	sp.sp_nchunks = 1;
	sp.sp_kind = PW_KIND_VALUE;
	sp.sp_set_at = (int64_t)time(NULL);
	FUZZ_CHECK(seal_chunk(&fzc_b.b_keys, FZC_ID_A, 0, 1, sp.sp_kind,
	    sp.sp_set_at, (const uint8_t *)FZC_PW_A, sizeof(FZC_PW_A) - 1,
	    &sp.sp_chunk[0]) == 0 && seal_fingerprint(&fzc_b.b_keys,
	    (const uint8_t *)FZC_PW_A, sizeof(FZC_PW_A) - 1, sp.sp_fp) == 0,
	    "fixture: seal");
	FUZZ_CHECK(store_pw_put_if_absent(fzc_real, FZC_ID_A, &sp) ==
	    STORE_OK, "fixture: password");
	fzc_dirty = 0;
}

/* Back to the one key the fixture seals with, and no rewrap pass. */
static void
fzc_keys_reset(void)
{
	char		path[PATH_MAX], err[CONF_ERR_MAX];
	uint32_t	id;

	for (id = 1; id <= KEYRING_MAX + 1; id++) {
		(void)snprintf(path, sizeof(path), "%s/%u", fzc_keydir, id);
		(void)unlink(path);
	}
	(void)snprintf(path, sizeof(path), "%s/1", fzc_keydir);
	fuzz_write_file(path, fzc_key, sizeof(fzc_key));
	keyring_free(&fzc_b.b_keys);
	if (keyring_load(&fzc_b.b_keys, fzc_keydir, "", err, sizeof(err)) ==
	    -1)
		fuzz_fail(__FILE__, __LINE__, "keyring_load: %s", err);
	fzc_b.b_rewrap = 0;
	fzc_b.b_rewrap_inflight = fzc_b.b_rewrap_done = 0;
	memset(fzc_b.b_rewrap_after, 0, sizeof(fzc_b.b_rewrap_after));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir = fuzz_tmpdir("chan");
	char		 path[PATH_MAX], err[CONF_ERR_MAX];
	struct listener	*l;
	int		 i;

	(void)argc;
	(void)argv;
	/* sd_notifyf must stay quiet, whoever started the fuzzer. */
	(void)unsetenv("NOTIFY_SOCKET");
	if (seal_init() == -1)
		fuzz_fail(__FILE__, __LINE__, "seal_init");
	(void)snprintf(fzc_keydir, sizeof(fzc_keydir), "%s/keys", dir);
	if (mkdir(fzc_keydir, 0700) == -1)
		fuzz_fail(__FILE__, __LINE__, "mkdir %s", fzc_keydir);
	randombytes_buf(fzc_key, sizeof(fzc_key));
	fzc_keys_reset();
	(void)snprintf(path, sizeof(path), "%s/proxy_secret", dir);
	fuzz_write_file(path, FZC_SECRET "\n", sizeof(FZC_SECRET));
	if (secret_load(&fzc_b.b_secret, path, err, sizeof(err)) == -1)
		fuzz_fail(__FILE__, __LINE__, "secret_load: %s", err);
	fzc_b.b_have_secret = 1;
	(void)snprintf(path, sizeof(path), "%s/sealmd.db", dir);
	if ((fzc_real = store_open_sqlite(path)) == NULL ||
	    writer_start(STORE_SQLITE, path) == -1 || hasher_start() == -1)
		fuzz_fail(__FILE__, __LINE__, "store %s", path);

	bstub_conf(&fzc_conf, FZC_SLOTS - BROKER_OWNER_CONNS, FZC_SUBJECT);
	(void)snprintf(fzc_conf.c_key_dir, sizeof(fzc_conf.c_key_dir), "%s",
	    fzc_keydir);
	ratelimit_init();
	tokens_init();
	fzc_b.b_conf = &fzc_conf;
	fzc_b.b_store = fzc_real;
	fzc_b.b_conns = fzc_conns;
	fzc_b.b_gone = fzc_gone;
	fzc_b.b_started = time(NULL);
	fzc_b.b_ping_every_ms = BROKER_PING_MS;
	fzc_b.b_nlisten = FZC_L_N;
	for (i = 0; i < FZC_L_N; i++) {
		l = &fzc_b.b_listen[i];
		l->l_fd = -1;
		l->l_role = i == FZC_L_OWNER ? ROLE_OWNER : ROLE_GUEST;
		l->l_ident = i == FZC_L_DIRECT ? IDENT_DIRECT : IDENT_PROXY;
		l->l_guard.cg_tokens = i == FZC_L_DIRECT ?
		    GUARD_TOKENS_OPTIONAL : i == FZC_L_PROXY_TOKENS ?
		    GUARD_TOKENS_REQUIRED : GUARD_TOKENS_OFF;
		(void)snprintf(l->l_name, sizeof(l->l_name), "fuzz:%d", i);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, fzc_sv) == -1)
		fuzz_fail(__FILE__, __LINE__, "socketpair");
	fzc_store_reset();
	return 0;
}

/*
 * A fresh worker generation, as after a restart: every fixture connection
 * open, nothing waiting for an answer from an earlier input.
 */
static void
fzc_reset(uint8_t mode)
{
	static const struct {
		int		 role, ident, listener, authorized, tls;
		const char	*addr, *peer;
	} conns[FZC_C_N] = {
		{ ROLE_GUEST, IDENT_PROXY, FZC_L_PROXY, 0, 0, "192.0.2.1",
		    "192.0.2.1:4000" },
		{ ROLE_GUEST, IDENT_DIRECT, FZC_L_DIRECT, 0, 0, FZC_ADDR_A,
		    FZC_ADDR_A ":4001" },
		{ ROLE_GUEST, IDENT_DIRECT, FZC_L_DIRECT, 0, 0, "10.9.9.9",
		    "10.9.9.9:4002" },
		{ ROLE_OWNER, 0, FZC_L_OWNER, 1, 0, "", "uid=0,gid=0,pid=1" },
		{ ROLE_OWNER, 0, FZC_L_OWNER, 0, 0, "", "uid=1000,pid=2" },
		{ ROLE_GUEST, IDENT_PROXY, FZC_L_PROXY_TOKENS, 0, 0,
		    "192.0.2.2", "192.0.2.2:4005" },
		{ ROLE_OWNER, 0, FZC_L_OWNER, 0, 1, "192.0.2.3",
		    "192.0.2.3:4006" },
	};
	struct bconn	*bc;
	size_t		 i;

	for (i = 0; i < FZC_NCONN_IDS; i++)
		waiters_drop_conn(fzc_conn_ids[i]);
	/* A batch an earlier input began and never ended, as
	 * broker_conn_free drops it at a restart. */
	for (i = 0; i < FZC_SLOTS; i++)
		broker_batch_free(&fzc_b, &fzc_conns[i]);
	fzc_b.b_wgen++;
	chan_clear(&fzc_b.b_chan);
	chan_init(&fzc_b.b_chan, fzc_sv[0], 0);
	memset(fzc_conns, 0, sizeof(fzc_conns));
	memset(fzc_gone, 0, sizeof(fzc_gone));
	memset(fzc_b.b_nconns, 0, sizeof(fzc_b.b_nconns));
	for (i = 0; i < FZC_C_N; i++) {
		bc = &fzc_conns[i];
		bc->bc_id = FZC_CONN_ID(i);
		bc->bc_serial = ++fzc_b.b_serial;
		bc->bc_fd = -1;	/* the broker's dup: none here */
		bc->bc_role = conns[i].role;
		bc->bc_ident = conns[i].ident;
		bc->bc_listener = conns[i].listener;
		bc->bc_authorized = conns[i].authorized;
		/* Held to the allow list at every owner operation. */
		bc->bc_uid = bc->bc_gid = conns[i].authorized ? 0 : 65533;
		bc->bc_tls = conns[i].tls;
		(void)snprintf(bc->bc_addr, sizeof(bc->bc_addr), "%s",
		    conns[i].addr);
		(void)snprintf(bc->bc_peer, sizeof(bc->bc_peer), "%s",
		    conns[i].peer);
		fzc_b.b_nconns[bc->bc_role]++;
	}
	fzc_b.b_wstate = (mode & FZC_S_STARTING) ? WORKER_STARTING :
	    (mode & FZC_S_STOPPING) ? WORKER_STOPPING : WORKER_UP;
	fzc_b.b_wpid = 0;
	fzc_b.b_ping_id = FZC_PING_ID;
	fzc_b.b_ping_sent_ms = 1;
	fzc_b.b_ready = 0;
	fzc_nreqs = 0;
}

/* The guest identity a message carries, or NULL for other messages. */
static const struct msg_guest *
fzc_guest(const struct chan_msg *m)
{
	static union fzc_payload	u;

	switch (m->m_hdr.ch_type) {
	case MSG_GUEST_PW_PUT:
		return chan_get(m, &u.pp, sizeof(u.pp)) == 0 ?
		    &u.pp.mp_guest : NULL;
	case MSG_GUEST_TOKEN:
		return chan_get(m, &u.gt, sizeof(u.gt)) == 0 ?
		    &u.gt.mgt_guest : NULL;
	case MSG_GUEST_IDENT:
	case MSG_GUEST_META:
	case MSG_GUEST_PW_GET:
		return chan_get(m, &u.g, sizeof(u.g)) == 0 ? &u.g : NULL;
	default:
		return NULL;
	}
}

/*
 * Which instance, if any, the message's connection may act for: the one
 * its address or signature proves, provided any session token it shows
 * (or, where required, must show) is the last one issued, to the same
 * binding.  bind is what a token issued now would be bound to.
 */
static void
fzc_who(const struct chan_msg *m, const struct bconn *bc, char *who,
    char *bind)
{
	const struct msg_guest	*g;
	struct store_inst	 inst;
	char			 sig[SIG_MAX + 1];
	int			 mode, shown;

	who[0] = bind[0] = '\0';
	if ((g = fzc_guest(m)) == NULL ||
	    !fzc_terminated(g->mg_instance, sizeof(g->mg_instance)) ||
	    !fzc_terminated(g->mg_sig, sizeof(g->mg_sig)) ||
	    !fzc_terminated(g->mg_tenant, sizeof(g->mg_tenant)) ||
	    !fzc_terminated(g->mg_token, sizeof(g->mg_token)))
		return;
	if (bc->bc_ident == IDENT_DIRECT) {
		(void)snprintf(bind, PROJECT_MAX + 2, "d%s", bc->bc_addr);
		if (store_instance_head(fzc_real, bc->bc_addr, 1, &inst) !=
		    STORE_OK)
			return;
	} else {
		(void)snprintf(bind, PROJECT_MAX + 2, "p%s", g->mg_instance);
		bstub_sign(FZC_SECRET, g->mg_instance, sig);
		if (strcmp(sig, g->mg_sig) != 0 ||
		    (g->mg_flags & GUEST_F_TENANT_LONG) ||
		    store_instance_get(fzc_real, g->mg_instance, &inst) !=
		    STORE_OK || strcmp(inst.ri_project, g->mg_tenant) != 0)
			return;
	}
	/* Asking for a token needs none. */
	mode = fzc_b.b_listen[bc->bc_listener].l_guard.cg_tokens;
	shown = (g->mg_flags & GUEST_F_TOKEN_BAD) || g->mg_token[0] != '\0';
	if (m->m_hdr.ch_type != MSG_GUEST_TOKEN && mode != GUARD_TOKENS_OFF &&
	    (shown ? (g->mg_flags & GUEST_F_TOKEN_BAD) ||
	    fzc_token[0] == '\0' || strcmp(g->mg_token, fzc_token) != 0 ||
	    strcmp(bind, fzc_token_bind) != 0 : mode == GUARD_TOKENS_REQUIRED))
		return;
	memcpy(who, inst.ri_id, ID_LEN + 1);
}

static void
fzc_note(const struct chan_msg *m, struct fzc_req *q)
{
	const struct bconn	*bc;

	memset(q, 0, sizeof(*q));
	q->fr_type = m->m_hdr.ch_type;
	q->fr_reqid = m->m_hdr.ch_reqid;
	q->fr_connid = m->m_hdr.ch_connid;
	q->fr_slot = -1;
	if ((bc = broker_conn_get(&fzc_b, q->fr_connid)) == NULL)
		return;
	q->fr_slot = (int)(bc - fzc_conns);
	q->fr_role = bc->bc_role;
	q->fr_authorized = bc->bc_authorized;
	if (bc->bc_role == ROLE_GUEST)
		fzc_who(m, bc, q->fr_who, q->fr_bind);
	if (q->fr_type == MSG_GUEST_PW_PUT &&
	    buf_left(&m->m_payload) == sizeof(struct msg_guest_pw_put))
		q->fr_nchunks = m->m_payload.b_data[m->m_payload.b_off +
		    offsetof(struct msg_guest_pw_put, mp_nchunks)];
}

/* The request an answer is for: the oldest unanswered one that fits. */
static const struct fzc_req *
fzc_asked(const struct chan_hdr *h)
{
	size_t	i;

	for (i = 0; i < fzc_nreqs; i++)
		if (!fzc_reqs[i].fr_answered &&
		    fzc_reqs[i].fr_type + 1 == h->ch_type &&
		    fzc_reqs[i].fr_reqid == h->ch_reqid &&
		    fzc_reqs[i].fr_connid == h->ch_connid) {
			fzc_reqs[i].fr_answered = 1;
			return &fzc_reqs[i];
		}
	fuzz_fail(__FILE__, __LINE__, "answer %u/%u/%u to nothing asked",
	    h->ch_type, h->ch_reqid, h->ch_connid);
}

/* One answer, as the worker would read it. */
static void
fzc_check_answer(const struct chan_hdr *h, const uint8_t *p)
{
	static union {
		struct msg_status	s;
		struct msg_instance_ans	ia;
		struct msg_pw		pw;
		struct msg_list_ans	la;
		struct msg_status_ans	sa;
		struct msg_token_ans	ta;
		struct msg_metrics_ans	ma;
		struct msg_keys_ans	ka;
	}			 a;
	const struct fzc_req	*q = fzc_asked(h);
	uint32_t		 status, want;

	FUZZ_CHECK(q->fr_slot != -1, "answer on no connection");
	switch (q->fr_type) {
	case MSG_GUEST_META:
	case MSG_OWNER_INST_GET:
		want = sizeof(a.ia);
		break;
	case MSG_GUEST_PW_GET:
	case MSG_OWNER_PW_GET:
		want = sizeof(a.pw);
		break;
	case MSG_OWNER_INST_LIST:
		want = sizeof(a.la);
		break;
	case MSG_OWNER_STATUS:
		want = sizeof(a.sa);
		break;
	case MSG_GUEST_TOKEN:
		want = sizeof(a.ta);
		break;
	case MSG_OWNER_METRICS:
		want = sizeof(a.ma);
		break;
	case MSG_OWNER_KEYS:
	case MSG_OWNER_KEY_ROTATE:
	case MSG_OWNER_KEY_REWRAP:
		want = sizeof(a.ka);
		break;
	case MSG_GUEST_IDENT:
	case MSG_GUEST_PW_PUT:
	case MSG_OWNER_INST_PUT:
	case MSG_OWNER_INST_DEL:
	case MSG_OWNER_PW_DEL:
	case MSG_OWNER_PW_VERIFY:
	case MSG_OWNER_KEY_RETIRE:
	case MSG_OWNER_AUTH:
		want = sizeof(a.s);
		break;
	default:
		fuzz_fail(__FILE__, __LINE__, "message type %u answered",
		    q->fr_type);
	}
	FUZZ_CHECK(h->ch_len == want, "answer to %u: %u bytes, want %u",
	    q->fr_type, h->ch_len, want);
	memcpy(&a, p, want);
	/* Every answer starts with its status. */
	status = a.s.ms_status;
	FUZZ_CHECK(status == 200 || status == 201 || status == 204 ||
	    status == 400 || status == 401 || status == 403 || status == 404 ||
	    status == 409 || status == 411 || status == 429 || status == 500 ||
	    status == 503, "answer to %u: status %u", q->fr_type, status);
	/*
	 * A refused owner gets 403; so do a candidate that does not match
	 * the verifier and a certificate that is not allowed.  Credentials
	 * are judged whoever the connection was before.
	 */
	if (q->fr_role == ROLE_GUEST)
		FUZZ_CHECK(status != 200 || q->fr_who[0] != '\0',
		    "guest answered 200 without the right to an instance");
	else if (q->fr_type != MSG_OWNER_AUTH)
		FUZZ_CHECK(q->fr_authorized ? status != 403 ||
		    q->fr_type == MSG_OWNER_PW_VERIFY : status == 403,
		    "owner answer %u, allowed %d", status, q->fr_authorized);
	switch (q->fr_type) {
	case MSG_GUEST_META:
	case MSG_OWNER_INST_GET:
		if (status != 200)
			FUZZ_CHECK(fzc_zero(&a.ia.mia_inst,
			    sizeof(a.ia.mia_inst)),
			    "registration sent with status %u", status);
		else
			FUZZ_CHECK(valid_instance(&a.ia.mia_inst) &&
			    (q->fr_role == ROLE_OWNER ||
			    strcmp(a.ia.mia_inst.mn_id, q->fr_who) == 0),
			    "registration of %.36s sent", a.ia.mia_inst.mn_id);
		break;
	case MSG_GUEST_PW_GET:
	case MSG_OWNER_PW_GET:
		FUZZ_CHECK(a.pw.mw_len <= PW_MAX, "value of %u bytes",
		    a.pw.mw_len);
		if (status != 200)
			FUZZ_CHECK(a.pw.mw_len == 0 && fzc_zero(a.pw.mw_value,
			    sizeof(a.pw.mw_value)), "value sent with status %u",
			    status);
		break;
	case MSG_OWNER_INST_LIST:
		FUZZ_CHECK(a.la.mla_n <= LIST_MAX && (status == 200 ||
		    (a.la.mla_n == 0 && a.la.mla_more == 0)),
		    "list of %u sent with status %u", a.la.mla_n, status);
		break;
	case MSG_OWNER_STATUS:
		FUZZ_CHECK(status != 403 || (a.sa.mst_instances == 0 &&
		    a.sa.mst_passwords == 0 && a.sa.mst_nkeyids == 0),
		    "status figures sent to a refused owner");
		break;
	case MSG_OWNER_METRICS:
		FUZZ_CHECK(status != 403 || (a.ma.mm_instances == 0 &&
		    a.ma.mm_passwords == 0 && a.ma.mm_nlisten == 0),
		    "metrics sent to a refused owner");
		break;
	case MSG_OWNER_KEYS:
	case MSG_OWNER_KEY_ROTATE:
	case MSG_OWNER_KEY_REWRAP:
		FUZZ_CHECK(a.ka.mka_n <= KEYS_LIST_MAX && (status != 403 ||
		    (a.ka.mka_n == 0 && a.ka.mka_newest == 0)),
		    "key ring of %u sent with status %u", a.ka.mka_n, status);
		break;
	case MSG_GUEST_PW_PUT:
		FUZZ_CHECK(status != 200 || q->fr_nchunks == 0 || fzc_wrote,
		    "200 for a password that was not written");
		break;
	case MSG_GUEST_TOKEN:
		if (status != 200) {
			FUZZ_CHECK(fzc_zero(a.ta.mta_token,
			    sizeof(a.ta.mta_token)),
			    "token sent with status %u", status);
			break;
		}
		FUZZ_CHECK(strnlen(a.ta.mta_token, sizeof(a.ta.mta_token)) ==
		    TOKEN_LEN, "token of the wrong shape");
		memcpy(fzc_token, a.ta.mta_token, sizeof(fzc_token));
		memcpy(fzc_token_bind, q->fr_bind, sizeof(fzc_token_bind));
		break;
	default:
		break;
	}
}

/* Every answer sent so far. */
static void
fzc_answers(void)
{
	static uint8_t	frame[sizeof(struct chan_hdr) + CHAN_MAX_PAYLOAD];
	struct chan_hdr	h;
	ssize_t		n;

	if (fzc_b.b_chan.c_fd != -1)
		FUZZ_CHECK(chan_flush(&fzc_b.b_chan) == 0 &&
		    !chan_pending(&fzc_b.b_chan), "answers not sent");
	while ((n = recv(fzc_sv[1], frame, sizeof(frame), MSG_DONTWAIT)) > 0) {
		FUZZ_CHECK((size_t)n >= sizeof(h), "short answer");
		memcpy(&h, frame, sizeof(h));
		FUZZ_CHECK(h.ch_len == (size_t)n - sizeof(h), "answer framing");
		fzc_check_answer(&h, frame + sizeof(h));
	}
}

/*
 * MSG_REPORTS as the worker must send it: no connection id, exactly the
 * struct, 1 to REPORTS_MAX entries and zeros after them.
 */
static int
fzc_reports_ok(const struct chan_msg *m)
{
	static struct msg_reports	mr;
	size_t				i;

	if (m->m_hdr.ch_connid != 0 || chan_get(m, &mr, sizeof(mr)) == -1 ||
	    mr.mrs_n == 0 || mr.mrs_n > REPORTS_MAX)
		return 0;
	for (i = mr.mrs_n; i < REPORTS_MAX; i++)
		if (mr.mrs_r[i].mr_connid != 0 || mr.mrs_r[i].mr_status != 0)
			return 0;
	return 1;
}

/* One message, as broker_read_chan hands it on, then what it started. */
static void
fzc_dispatch(struct chan_msg *m)
{
	struct fzc_req	*q;
	int		 wellformed;

	FUZZ_CHECK(fzc_nreqs < FZC_MSGS_MAX, "more messages than followed");
	q = &fzc_reqs[fzc_nreqs++];
	fzc_note(m, q);
	fzc_cur = m;
	fzc_curq = q;
	fzc_wrote = fzc_killed = 0;
	/* A report neither writes nor answers: the checks hold it to that. */
	if (m->m_hdr.ch_type == MSG_REPORTS) {
		wellformed = fzc_reports_ok(m);
		broker_reports(&fzc_b, m);
		FUZZ_CHECK(wellformed || fzc_killed,
		    "a malformed MSG_REPORTS frame was taken");
	} else
		ops_dispatch(&fzc_b, m);
	fzc_background();
	/*
	 * The broker ends its read snapshot before it sleeps; any other open
	 * transaction would hide the writer's commits from later reads.
	 */
	store_read_end(fzc_real);
	FUZZ_CHECK(!store_batch_active(fzc_real), "message type %u left a "
	    "transaction open on the broker's store connection", q->fr_type);
	FUZZ_CHECK(!(fzc_killed && fzc_wrote), "message type %u wrote the "
	    "store, then was called a violation", q->fr_type);
	fzc_answers();
	fzc_cur = NULL;
	fzc_curq = NULL;
}

/*
 * broker.c's broker_read_chan, but each frame dispatched at once (no
 * b_later), so that the checks follow every message.
 */
static void
fzc_read_chan(void)
{
	static struct chan_msg	m;
	int			r;

	while (fzc_b.b_chan.c_fd != -1) {
		if ((r = chan_recv(&fzc_b.b_chan, &m)) == 0)
			break;
		if (r == -1) {
			if (errno == EBADMSG)
				supervise_kill(&fzc_b, "malformed frame");
			else if (fzc_b.b_wstate == WORKER_STOPPING)
				supervise_down(&fzc_b);
			else
				supervise_kill(&fzc_b, "channel closed");
			break;
		}
		fzc_dispatch(&m);
	}
}

/* The worker's send; with_fd attaches a fd to the frame. */
static void
fzc_send(const void *frame, size_t len, int with_fd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct cmsghdr	*cmsg;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)frame;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (with_fd) {
		if (fzc_pipe[0] == -1 && pipe2(fzc_pipe, O_CLOEXEC |
		    O_NONBLOCK) == -1)
			fuzz_fail(__FILE__, __LINE__, "pipe2");
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fzc_pipe[1], sizeof(int));
	}
	/* Too big for the socket: the worker could not send it either. */
	if (sendmsg(fzc_sv[1], &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		return;
	fzc_read_chan();
}

static int
fzc_conn_known(uint32_t connid)
{
	size_t	i;

	for (i = 0; i < FZC_NCONN_IDS; i++)
		if (fzc_conn_ids[i] == connid)
			return 1;
	return 0;
}

/* Keep what a mutated message needs to get past the first checks. */
static void
fzc_fixup(uint32_t type, uint8_t flags, union fzc_payload *u)
{
	struct msg_guest		*g = NULL;
	struct msg_guest_pw_put		*pp = &u->pp;
	struct msg_report		*r;
	crypto_generichash_state	 st;
	size_t				 i, n;

#define FZC_TERM(f)	((f)[sizeof(f) - 1] = '\0')
	switch (type) {
	case MSG_GUEST_IDENT:
	case MSG_GUEST_META:
	case MSG_GUEST_PW_GET:
		g = &u->g;
		break;
	case MSG_GUEST_PW_PUT:
		g = &pp->mp_guest;
		break;
	case MSG_GUEST_TOKEN:
		g = &u->gt.mgt_guest;
		break;
	}
	if (flags & FZC_F_STRS) {
		if (g != NULL) {
			FZC_TERM(g->mg_instance);
			FZC_TERM(g->mg_tenant);
			FZC_TERM(g->mg_sig);
			FZC_TERM(g->mg_token);
		}
		switch (type) {
		case MSG_OWNER_INST_PUT:
			FZC_TERM(u->in.mn_id);
			FZC_TERM(u->in.mn_project);
			FZC_TERM(u->in.mn_hostname);
			for (i = 0; i < INST_ADDRS_MAX; i++)
				FZC_TERM(u->in.mn_addr[i]);
			for (i = 0; i < INST_KEYS_MAX; i++) {
				FZC_TERM(u->in.mn_keys[i].mk_name);
				FZC_TERM(u->in.mn_keys[i].mk_data);
			}
			break;
		case MSG_OWNER_INST_GET:
		case MSG_OWNER_INST_DEL:
		case MSG_OWNER_PW_DEL:
			FZC_TERM(u->id.md_id);
			break;
		case MSG_OWNER_INST_LIST:
			FZC_TERM(u->l.mls_after);
			break;
		case MSG_OWNER_PW_GET:
			FZC_TERM(u->pg.mq_id);
			break;
		case MSG_OWNER_PW_VERIFY:
			FZC_TERM(u->pv.mv_id);
			break;
		case MSG_OWNER_AUTH:
			FZC_TERM(u->oa.mo_subject);
			FZC_TERM(u->oa.mo_token);
			break;
		}
	}
#undef FZC_TERM
	if ((flags & FZC_F_SIG) && g != NULL &&
	    fzc_terminated(g->mg_instance, sizeof(g->mg_instance)))
		bstub_sign(FZC_SECRET, g->mg_instance, g->mg_sig);
	if ((flags & FZC_F_TOKEN) && g != NULL)
		memcpy(g->mg_token, fzc_token, sizeof(g->mg_token));
	if ((flags & FZC_F_LENS) && type == MSG_OWNER_PW_VERIFY)
		u->pv.mv_len %= PW_MAX + 1;
	if ((flags & FZC_F_LENS) && type == MSG_OWNER_PW_GET)
		u->pg.mq_wait %= 2;
	/*
	 * 1 to 32 reports and zeros after them, each on a fixture connection
	 * id, closed (0) or sent with a status of 100 to 599; a report that
	 * is all that already stays as it is.
	 */
	if ((flags & FZC_F_LENS) && type == MSG_REPORTS) {
		n = u->rs.mrs_n = (u->rs.mrs_n - 1) % REPORTS_MAX + 1;
		for (i = 0; i < REPORTS_MAX; i++) {
			r = &u->rs.mrs_r[i];
			if (i >= n) {
				r->mr_connid = r->mr_status = 0;
				continue;
			}
			if (!fzc_conn_known(r->mr_connid))
				r->mr_connid = fzc_conn_ids[r->mr_connid %
				    FZC_NCONN_IDS];
			if (r->mr_status != 0 && (r->mr_status < 100 ||
			    r->mr_status > 599))
				r->mr_status = r->mr_status % 500 + 100;
		}
	}
	if (type != MSG_GUEST_PW_PUT)
		return;
	if (flags & FZC_F_LENS) {
		n = pp->mp_nchunks %= PW_CHUNKS + 1;
		for (i = 0; i < PW_CHUNKS; i++)
			pp->mp_len[i] = i >= n ? 0 : i + 1 < n ? PW_CHUNK_LEN :
			    (uint16_t)(pp->mp_len[i] % PW_CHUNK_LEN + 1);
	}
	if (flags & FZC_F_DIGEST) {
		crypto_generichash_init(&st, NULL, 0, PW_DIGEST_LEN);
		for (i = 0; i < PW_CHUNKS && i < pp->mp_nchunks; i++)
			crypto_generichash_update(&st, pp->mp_chunk[i],
			    pp->mp_len[i] < PW_CHUNK_LEN ? pp->mp_len[i] :
			    PW_CHUNK_LEN);
		crypto_generichash_final(&st, pp->mp_digest, PW_DIGEST_LEN);
	}
}

/* The messages form: each with a header that matches its payload. */
static void
fzc_messages(const uint8_t *data, size_t size)
{
	static union fzc_payload	u;
	static uint8_t			frame[sizeof(struct chan_hdr) +
					    CHAN_MAX_PAYLOAD];
	struct chan_hdr			h;
	size_t				pos = 0, n, i;
	uint8_t				flags;

	for (i = 0; i < FZC_MSGS_MAX && pos + FZC_MSG_HDR <= size &&
	    fzc_b.b_chan.c_fd != -1; i++) {
		memset(&h, 0, sizeof(h));
		h.ch_type = fzc_types[data[pos] % FZC_NTYPES].ft_type;
		h.ch_len = fzc_types[data[pos] % FZC_NTYPES].ft_size;
		h.ch_connid = fzc_conn_ids[data[pos + 1] % FZC_NCONN_IDS];
		flags = data[pos + 2];
		memcpy(&h.ch_reqid, data + pos + 3, sizeof(h.ch_reqid));
		pos += FZC_MSG_HDR;
		memset(&u, 0, sizeof(u));
		n = size - pos < h.ch_len ? size - pos : h.ch_len;
		memcpy(u.raw, data + pos, n);
		pos += n;
		fzc_fixup(h.ch_type, flags, &u);
		memcpy(frame, &h, sizeof(h));
		memcpy(frame + sizeof(h), u.raw, h.ch_len);
		fzc_send(frame, sizeof(h) + h.ch_len, flags & FZC_F_FD);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	c;

	if (size < 1)
		return 0;
	fzc_reset(data[0]);
	if (data[0] & FZC_MESSAGES)
		fzc_messages(data + 1, size - 1);
	else
		fzc_send(data + 1, size - 1, data[0] & FZC_F_FD);
	/* Every fd sent was closed by the broker: the pipe reads EOF. */
	if (fzc_pipe[0] != -1) {
		close(fzc_pipe[1]);
		FUZZ_CHECK(read(fzc_pipe[0], &c, 1) == 0,
		    "a fd sent by the worker is still open in the broker");
		close(fzc_pipe[0]);
		fzc_pipe[0] = fzc_pipe[1] = -1;
	}
	/* What this input changed must not reach the next. */
	if (fzc_b.b_keys.kr_n != 1 || fzc_b.b_keys.kr_keys[0].k_id != 1 ||
	    fzc_b.b_rewrap) {
		fzc_keys_reset();
		fzc_dirty = 1;
	}
	if (fzc_dirty)
		fzc_store_reset();
	if (fzc_token[0] != '\0') {
		tokens_init();
		memset(fzc_token, 0, sizeof(fzc_token));
		memset(fzc_token_bind, 0, sizeof(fzc_token_bind));
	}
	return 0;
}
