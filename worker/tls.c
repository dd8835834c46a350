/* SPDX-License-Identifier: ISC */
/*
 * TLS in the worker, with libtls (libretls) and no private key.  Each
 * context holds a certificate chain and libtls's "fake" private key: the
 * public key of the certificate.  An EC_KEY_METHOD installed before any
 * context exists sends every ECDSA signature to the broker on the sign
 * channel and waits for the answer, since OpenSSL cannot defer it (as
 * relayd's ca.c does).  The key is named by the SHA-256 of its
 * SubjectPublicKeyInfo: libretls does not record a key hash of its own.
 *
 * libtls reads and writes the socket through callbacks here, not through
 * OpenSSL's socket BIO: one read(2) takes whatever ciphertext is there
 * (the socket BIO, without read-ahead, reads each record's 5-byte header
 * and then its body), and the worker always knows what it has read ahead
 * of OpenSSL, where epoll cannot see it.
 */
#define OPENSSL_API_COMPAT	0x10100000L	/* EC_KEY_METHOD */

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <tls.h>

#include "privsep/log.h"
#include "worker.h"

#define WTLS_SIGN_TIMEOUT_MS	2000
#define WTLS_HANDSHAKE_RECORD	0x16	/* the first byte a TLS client sends */
#define WTLS_READ_MAX		(17 * 1024)	/* a full record, and more */

/*
 * Not declared in tls.h: "This function is not publicly exported because
 * it is a hack until libtls has a proper privsep setup" (relayd, smtpd
 * and gmid declare it the same way).
 */
void	tls_config_use_fake_private_key(struct tls_config *);

struct wtls_ctx {
	struct tls		*wx_srv;
	struct tls_config	*wx_cfg;
	uint32_t		 wx_refs;	/* connections using it */
	int			 wx_current;	/* 0: replaced by a reload */
};

static struct chan	 wtls_sign;
static uint32_t		 wtls_reqid;
static uint32_t		 wtls_conn;	/* whose handshake is running */
static uint32_t		 wtls_nctx;	/* contexts the broker has */
static struct wtls_ctx	*wtls_ctx[TLS_CTX_MAX];
static uint8_t		*wtls_ca[TLS_CTX_MAX];
static size_t		 wtls_calen[TLS_CTX_MAX];

/*
 * Ciphertext from the socket, shared by all connections: it belongs to
 * wtls_io only during one libtls call, and what OpenSSL has not taken by
 * then moves to that connection's wc_tls_stash.
 */
static uint8_t		 wtls_rbuf[WTLS_READ_MAX];
static struct buf	 wtls_rb;	/* the part OpenSSL has not taken */
static struct wconn	*wtls_io;	/* whose libtls call is running */
static int		 wtls_io_sock;	/* 0: use only what is buffered */

static const char wtls_plain_reply[] =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Length: 41\r\nConnection: close\r\n\r\n"
    "This port speaks HTTPS, not plain HTTP.\r\n";

/*
 * One signature from the broker for the connection in wtls_conn.  The
 * wait blocks the event loop: the broker answers in tens of microseconds.
 */
static int
wtls_remote_sign(EC_KEY *eckey, const unsigned char *dgst, int dlen,
    struct msg_tls_sig *sg)
{
	static struct chan_msg	 m;
	struct msg_tls_sign	 ms;
	struct pollfd		 pfd;
	unsigned char		*der = NULL;
	uint64_t		 end;
	uint32_t		 reqid;
	int			 n, r;

	if (dlen <= 0 || (size_t)dlen > sizeof(ms.mts_data))
		return -1;
	memset(&ms, 0, sizeof(ms));
	ms.mts_op = TLS_SIGN_ECDSA;
	ms.mts_len = (uint32_t)dlen;
	memcpy(ms.mts_data, dgst, (size_t)dlen);
	if ((n = i2d_EC_PUBKEY(eckey, &der)) <= 0)
		return -1;
	SHA256(der, (size_t)n, ms.mts_keyid);
	OPENSSL_free(der);
	reqid = ++wtls_reqid;
	if (chan_send(&wtls_sign, MSG_TLS_SIGN, reqid, wtls_conn, &ms,
	    sizeof(ms), -1) == -1)
		fatal("sign channel");
	end = conn_now_ms() + WTLS_SIGN_TIMEOUT_MS;
	for (;;) {
		if (chan_flush(&wtls_sign) == -1)
			fatal("sign channel");
		if ((r = chan_recv(&wtls_sign, &m)) == -1) {
			if (errno == EPIPE)
				exit(0);	/* the broker is gone */
			fatal("sign channel");
		}
		if (r == 1) {
			if (m.m_hdr.ch_type != MSG_TLS_SIGN_ANS ||
			    chan_get(&m, sg, sizeof(*sg)) == -1 ||
			    sg->msig_len > sizeof(sg->msig_sig))
				fatalx("bad answer on the sign channel");
			/* An answer that came after its request gave up. */
			if (m.m_hdr.ch_reqid != reqid)
				continue;
			return sg->msig_len > 0 ? 0 : -1;
		}
		if (conn_now_ms() >= end) {
			log_warnx("no signature from the broker in %d ms",
			    WTLS_SIGN_TIMEOUT_MS);
			return -1;
		}
		pfd.fd = wtls_sign.c_fd;
		pfd.events = POLLIN | (chan_pending(&wtls_sign) ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)(end - conn_now_ms()) + 1) == -1 &&
		    errno != EINTR)
			fatal("poll");
	}
}

/* EC_KEY_METHOD sign: what libssl's ECDSA signing ends up calling. */
static int
wtls_ecdsa_sign(int type, const unsigned char *dgst, int dlen,
    unsigned char *sig, unsigned int *siglen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *eckey)
{
	struct msg_tls_sig	sg;

	(void)type;
	(void)kinv;
	(void)r;
	if (wtls_remote_sign(eckey, dgst, dlen, &sg) == -1 ||
	    sg.msig_len > (unsigned int)ECDSA_size(eckey))
		return 0;
	memcpy(sig, sg.msig_sig, sg.msig_len);
	*siglen = sg.msig_len;
	return 1;
}

/*
 * Before confinement: OpenSSL reads its configuration file on first use,
 * which the filter would punish, and the method must be in place before
 * any key exists.  OpenSSL must not clean up at exit: its atexit handler
 * takes locks (futex), which the filter kills.
 */
void
wtls_init(uint32_t nctx)
{
	EC_KEY_METHOD	*meth;
	struct tls	*t;
	int		(*sign)(int, const unsigned char *, int,
			    unsigned char *, unsigned int *, const BIGNUM *,
			    const BIGNUM *, EC_KEY *);
	int		(*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **);
	ECDSA_SIG	*(*sign_sig)(const unsigned char *, int,
			    const BIGNUM *, const BIGNUM *, EC_KEY *);

	if (nctx > TLS_CTX_MAX)
		fatalx("bad init message from the broker");
	wtls_nctx = nctx;
	chan_init(&wtls_sign, CHAN_SIGN_FD, 0);
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) != 1 ||
	    tls_init() == -1 || (t = tls_server()) == NULL)
		fatalx("libtls initialisation failed");
	tls_free(t);
	if ((meth = EC_KEY_METHOD_new(EC_KEY_get_default_method())) == NULL)
		fatalx("EC_KEY_METHOD_new");
	EC_KEY_METHOD_get_sign(meth, &sign, &setup, &sign_sig);
	EC_KEY_METHOD_set_sign(meth, wtls_ecdsa_sign, setup, sign_sig);
	EC_KEY_set_default_method(meth);
}

static void
wtls_ctx_free(struct wtls_ctx *x)
{
	tls_free(x->wx_srv);
	tls_config_free(x->wx_cfg);
	free(x);
}

/* A context replaced by a reload lives until its last connection. */
static void
wtls_ctx_release(struct wtls_ctx *x)
{
	if (x->wx_refs == 0 && !x->wx_current)
		wtls_ctx_free(x);
}

static struct wtls_ctx *
wtls_ctx_new(const uint8_t *pem, size_t len, const uint8_t *ca, size_t calen)
{
	struct wtls_ctx	*x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		fatal("calloc");
	if ((x->wx_cfg = tls_config_new()) == NULL ||
	    (x->wx_srv = tls_server()) == NULL)
		fatalx("libtls: out of memory");
	/* TLS 1.2 and 1.3, libtls's "secure" ciphers: its defaults. */
	if (tls_config_set_protocols(x->wx_cfg, TLS_PROTOCOLS_DEFAULT) == -1 ||
	    tls_config_set_cert_mem(x->wx_cfg, pem, len) == -1 ||
	    (ca != NULL && tls_config_set_ca_mem(x->wx_cfg, ca, calen) == -1)) {
		log_warnx("TLS configuration: %s",
		    tls_config_error(x->wx_cfg));
		wtls_ctx_free(x);
		return NULL;
	}
	tls_config_use_fake_private_key(x->wx_cfg);
	if (ca != NULL)
		tls_config_verify_client_optional(x->wx_cfg);
	if (tls_configure(x->wx_srv, x->wx_cfg) == -1) {
		log_warnx("TLS configuration: %s", tls_error(x->wx_srv));
		wtls_ctx_free(x);
		return NULL;
	}
	x->wx_current = 1;
	return x;
}

/* MSG_TLS_CERT: client CAs are kept for the chain that follows them. */
void
wtls_cert(const struct chan_msg *m)
{
	static struct msg_tls_cert	 mt;
	struct wtls_ctx			*x, *old;
	uint32_t			 i;

	if (chan_get(m, &mt, sizeof(mt)) == -1 || mt.mtc_ctx == 0 ||
	    mt.mtc_ctx > wtls_nctx || mt.mtc_len == 0 ||
	    mt.mtc_len > sizeof(mt.mtc_pem) ||
	    (mt.mtc_kind != TLS_PEM_CHAIN && mt.mtc_kind != TLS_PEM_CA))
		fatalx("bad certificate message from the broker");
	i = mt.mtc_ctx - 1;
	if (mt.mtc_kind == TLS_PEM_CA) {
		free(wtls_ca[i]);
		if ((wtls_ca[i] = malloc(mt.mtc_len)) == NULL)
			fatal("malloc");
		memcpy(wtls_ca[i], mt.mtc_pem, mt.mtc_len);
		wtls_calen[i] = mt.mtc_len;
		return;
	}
	x = wtls_ctx_new(mt.mtc_pem, mt.mtc_len, wtls_ca[i], wtls_calen[i]);
	free(wtls_ca[i]);
	wtls_ca[i] = NULL;
	wtls_calen[i] = 0;
	if (x == NULL)
		return;		/* the old certificate stays */
	if ((old = wtls_ctx[i]) != NULL) {
		old->wx_current = 0;
		wtls_ctx_release(old);
	}
	wtls_ctx[i] = x;
	log_debug("TLS context %u: new certificate", mt.mtc_ctx);
}

/*
 * Before each libtls call on c: c owns the shared read buffer, with what
 * an earlier call left in its stash in front.  sock 0: the call may not
 * read the socket, only what is buffered.
 */
static void
wtls_io_begin(struct wconn *c, int sock)
{
	struct buf	st;
	size_t		n;

	wtls_conn = c->wc_id;
	wtls_io = c;
	wtls_io_sock = sock;
	buf_init(&wtls_rb, wtls_rbuf, 0);
	if (c->wc_tls_stash.bb_len == 0)
		return;
	bbuf_view(&c->wc_tls_stash, &st);
	n = buf_left(&st);
	if (buf_get(&st, wtls_rbuf, n) == -1)
		fatalx("TLS stash larger than the read buffer");
	buf_init(&wtls_rb, wtls_rbuf, n);
	bbuf_free(&c->wc_tls_stash);
}

/* After it: what OpenSSL did not take waits in c's stash. */
static void
wtls_io_end(struct wconn *c)
{
	uint8_t	*p;
	size_t	 n = buf_left(&wtls_rb), avail;

	wtls_io = NULL;
	if (n == 0)
		return;
	if (bbuf_reserve(&c->wc_tls_stash, n, &p, &avail) == -1 ||
	    avail < n || buf_get(&wtls_rb, p, n) == -1)
		fatalx("TLS stash");
	bbuf_commit(&c->wc_tls_stash, n);
}

/*
 * libtls's read: from the shared buffer, refilled by one read(2) of all
 * the socket has when it is empty.  OpenSSL asks for a record's header,
 * then its body, and never more (libtls leaves read-ahead off).
 */
static ssize_t
wtls_read_cb(struct tls *t, void *p, size_t len, void *arg)
{
	struct wconn	*c = arg;
	size_t		 n;
	ssize_t		 r;

	(void)t;
	if (c != wtls_io)
		fatalx("TLS read outside a call on its connection");
	if (buf_left(&wtls_rb) == 0) {
		if (!wtls_io_sock)
			return TLS_WANT_POLLIN;
		r = read(c->wc_fd, wtls_rbuf, sizeof(wtls_rbuf));
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return TLS_WANT_POLLIN;
		if (r <= 0)
			return r;
		buf_init(&wtls_rb, wtls_rbuf, (size_t)r);
	}
	n = buf_left(&wtls_rb) < len ? buf_left(&wtls_rb) : len;
	if (buf_get(&wtls_rb, p, n) == -1)
		fatalx("TLS read buffer");
	return (ssize_t)n;
}

static ssize_t
wtls_write_cb(struct tls *t, const void *p, size_t len, void *arg)
{
	struct wconn	*c = arg;
	ssize_t		 r;

	(void)t;
	r = write(c->wc_fd, p, len);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return TLS_WANT_POLLOUT;
	return r;
}

/* A connection of a TLS listener; -1 if its context is not ready. */
int
wtls_conn_new(struct wconn *c, uint32_t ctx)
{
	struct wtls_ctx	*x;

	if (ctx == 0 || ctx > TLS_CTX_MAX || (x = wtls_ctx[ctx - 1]) == NULL) {
		log_warnx("no certificate for TLS context %u", ctx);
		return -1;
	}
	if (tls_accept_cbs(x->wx_srv, &c->wc_tls, wtls_read_cb, wtls_write_cb,
	    c) == -1) {
		log_warnx("tls_accept_cbs: %s", tls_error(x->wx_srv));
		return -1;
	}
	bbuf_init(&c->wc_tls_stash, WTLS_READ_MAX);
	c->wc_tctx = x;
	x->wx_refs++;
	return 0;
}

/* close_notify, if the socket takes it now; the caller closes the fd. */
void
wtls_conn_close(struct wconn *c)
{
	struct wtls_ctx	*x = c->wc_tctx;

	if (c->wc_tls == NULL)
		return;
	if (c->wc_tls_up) {
		wtls_io_begin(c, 1);
		(void)tls_close(c->wc_tls);
		wtls_io_end(c);
	}
	tls_free(c->wc_tls);
	bbuf_free(&c->wc_tls_stash);
	c->wc_tls = NULL;
	c->wc_tctx = NULL;
	x->wx_refs--;
	wtls_ctx_release(x);
}

/*
 * A libtls result as read(2) or write(2) would give it.  A read that
 * needs the socket writable, or a write that needs it readable, is noted
 * in wc_tls_want: the epoll events to wait for instead.
 */
static ssize_t
wtls_want(struct wconn *c, ssize_t r, uint32_t dir)
{
	if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) {
		c->wc_tls_want = r == TLS_WANT_POLLIN ? EPOLLIN : EPOLLOUT;
		if (c->wc_tls_want == dir)
			c->wc_tls_want = 0;
		errno = EAGAIN;
		return -1;
	}
	c->wc_tls_want = 0;
	if (r == -1) {
		log_debug("TLS connection %u: %s", c->wc_id,
		    tls_error(c->wc_tls));
		errno = ECONNRESET;
	}
	return r;
}

/*
 * Refuse plain HTTP on a TLS port in plain HTTP, before libtls sees it.
 * Returns 1 for a TLS client, 0 after refusing, -1 with errno.
 */
static int
wtls_first_byte(struct wconn *c)
{
	struct msghdr	mh;
	struct iovec	iov;
	uint8_t		b;
	ssize_t		n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &b;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if ((n = recvmsg(c->wc_fd, &mh, MSG_PEEK | MSG_DONTWAIT)) <= 0)
		return (int)n;
	if (b == WTLS_HANDSHAKE_RECORD)
		return 1;
	(void)send(c->wc_fd, wtls_plain_reply, sizeof(wtls_plain_reply) - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	log_debug("connection %u: plain HTTP on a TLS port", c->wc_id);
	return 0;
}

/*
 * Read like read(2) into bb: until OpenSSL and the read buffer are empty
 * (a read shorter than asked, with no ciphertext left), libtls needs the
 * socket again, or bb is full.  In the last case, or after an end of
 * stream or an error behind the data returned, wc_tls_more says that
 * wtls_drain has more to give: epoll will not say so.  Each tls_read
 * takes the room bb has; only a full bb grows (by max or more).
 */
static ssize_t
wtls_read_some(struct wconn *c, struct bbuf *bb, size_t max, int sock)
{
	uint8_t	*p;
	size_t	 avail;
	ssize_t	 n, total = 0;
	int	 saved;

	wtls_io_begin(c, sock);
	c->wc_tls_more = 1;
	for (;;) {
		if (bbuf_reserve(bb, bb->bb_cap > bb->bb_len ?
		    bb->bb_cap - bb->bb_len : max, &p, &avail) == -1) {
			errno = ENOBUFS;
			n = -1;
			break;
		}
		n = wtls_want(c, tls_read(c->wc_tls, p, avail), EPOLLIN);
		if (n <= 0) {
			/* libtls waits for the socket: nothing is left. */
			if (n == -1 && errno == EAGAIN)
				c->wc_tls_more = 0;
			break;
		}
		bbuf_commit(bb, (size_t)n);
		total += n;
		if ((size_t)n < avail && buf_left(&wtls_rb) == 0) {
			c->wc_tls_more = 0;
			break;
		}
	}
	saved = errno;
	wtls_io_end(c);
	errno = saved;
	return total > 0 ? total : n;
}

ssize_t
wtls_read(struct wconn *c, struct bbuf *bb, size_t max)
{
	int	r;

	if (!c->wc_tls_up) {
		if ((r = wtls_first_byte(c)) <= 0)
			return r;
		c->wc_tls_up = 1;
	}
	return wtls_read_some(c, bb, max, 1);
}

/*
 * What a read left in OpenSSL or the read buffer, without reading the
 * socket (epoll says when that has more); -1 with EAGAIN if none.
 */
ssize_t
wtls_drain(struct wconn *c, struct bbuf *bb, size_t max)
{
	if (!c->wc_tls_more && c->wc_tls_stash.bb_len == 0) {
		errno = EAGAIN;
		return -1;
	}
	return wtls_read_some(c, bb, max, 0);
}

/* One tls_write from the front of bb; what was written is consumed. */
ssize_t
wtls_write(struct wconn *c, struct bbuf *bb)
{
	ssize_t	n;

	if (bb->bb_len == 0)
		return 0;
	wtls_io_begin(c, 1);
	n = wtls_want(c, tls_write(c->wc_tls, bb->bb_data, bb->bb_len),
	    EPOLLOUT);
	wtls_io_end(c);
	if (n > 0)
		bbuf_consume(bb, (size_t)n);
	return n;
}

/* Best effort, for "100 Continue": a short write fails the connection. */
void
wtls_send(struct wconn *c, const void *p, size_t len)
{
	wtls_io_begin(c, 1);
	(void)wtls_want(c, tls_write(c->wc_tls, p, len), EPOLLOUT);
	wtls_io_end(c);
}

/* The epoll events c needs: libtls may write to read, or read to write. */
uint32_t
wtls_events(const struct wconn *c, uint32_t ev)
{
	if (c->wc_tls == NULL || c->wc_tls_want == 0 || ev == 0)
		return ev;
	return c->wc_tls_want;
}

/* A read waits for the socket to take a write (a handshake flight). */
int
wtls_read_blocked(const struct wconn *c)
{
	return c->wc_tls != NULL && c->wc_tls_want == EPOLLOUT &&
	    c->wc_state <= WC_BODY;
}

/* The X-Auth-Token of an owner TLS request; the broker judges it. */
void
wtls_owner_token(struct wconn *c, const struct http_req *r)
{
	struct wreq		*q = &c->wc_req;
	const struct http_field	*f;

	if (c->wc_tls == NULL || c->wc_role != ROLE_OWNER ||
	    http_field_count(r, "X-Auth-Token") == 0)
		return;
	q->wr_auth_flags = AUTH_F_TOKEN;
	/* Two tokens, or one that does not fit: an empty one, refused. */
	if (http_field_count(r, "X-Auth-Token") != 1 ||
	    (f = http_field(r, "X-Auth-Token")) == NULL ||
	    buf_copy_str(&f->hf_value, q->wr_token, sizeof(q->wr_token)) ==
	    -1 || !chan_str_ok(q->wr_token, sizeof(q->wr_token)))
		explicit_bzero(q->wr_token, sizeof(q->wr_token));
}

/*
 * Before an owner TLS request runs, the broker judges its credentials.
 * Returns 1 when it has been asked (the answer comes to
 * wtls_owner_answer), 0 when the request may go on.
 */
/* An attribute's short name ("CN"), as oneline writes it, or its OID. */
static int
wtls_subject_key(const ASN1_OBJECT *obj, char *key, size_t keysz)
{
	const char	*sn;
	int		 nid = OBJ_obj2nid(obj), n;

	if (nid != NID_undef && (sn = OBJ_nid2sn(nid)) != NULL) {
		if (strlen(sn) >= keysz)
			return -1;
		memcpy(key, sn, strlen(sn) + 1);
		return 0;
	}
	n = OBJ_obj2txt(key, (int)keysz, obj, 1);
	return n > 0 && (size_t)n < keysz ? 0 : -1;
}

/* One attribute's value, UTF-8, with \ / + = escaped; 0 or -1. */
static int
wtls_subject_value(struct bbuf *bb, const X509_NAME_ENTRY *e)
{
	unsigned char	*u = NULL;
	int		 n, i, r = 0;

	if ((n = ASN1_STRING_to_UTF8(&u,
	    X509_NAME_ENTRY_get_data(e))) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			r = -1;		/* no control characters */
		else if (u[i] == '\\' || u[i] == '/' || u[i] == '+' ||
		    u[i] == '=')
			r = bbuf_add(bb, "\\", 1);
		if (r == 0)
			r = bbuf_add(bb, &u[i], 1);
	}
	OPENSSL_free(u);
	return r;
}

/*
 * The client certificate's subject as allow_subject writes it: each
 * attribute "/KEY=VALUE" in order ('+' instead of '/' for the next of a
 * multi-valued RDN), with \, /, + and = escaped in values, so that no
 * value can read as more attributes (X509_NAME_oneline, which
 * tls_peer_cert_subject returns, escapes none).  0, or -1 if it cannot
 * be written so.
 */
static int
wtls_subject(struct tls *ctx, char *out, size_t outsz)
{
	const uint8_t	*pem;
	X509		*x = NULL;
	X509_NAME	*name;
	X509_NAME_ENTRY	*e;
	BIO		*bio;
	struct bbuf	 bb;
	struct buf	 view;
	char		 key[64];
	size_t		 len;
	int		 i, n, set = -1, r = -1;

	if ((pem = tls_peer_cert_chain_pem(ctx, &len)) == NULL ||
	    len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL || (name = X509_get_subject_name(x)) == NULL)
		goto done;
	bbuf_init(&bb, outsz - 1);
	n = X509_NAME_entry_count(name);
	for (i = 0, r = 0; i < n && r == 0; i++) {
		e = X509_NAME_get_entry(name, i);
		r = wtls_subject_key(X509_NAME_ENTRY_get_object(e), key,
		    sizeof(key));
		if (r == 0)
			r = bbuf_printf(&bb, "%s%s=",
			    X509_NAME_ENTRY_set(e) == set ? "+" : "/", key);
		set = X509_NAME_ENTRY_set(e);
		if (r == 0)
			r = wtls_subject_value(&bb, e);
	}
	bbuf_view(&bb, &view);
	if (r == 0 && (n == 0 || buf_copy_str(&view, out, outsz) == -1))
		r = -1;
	bbuf_free(&bb);
 done:
	X509_free(x);
	return r;
}

int
wtls_owner_auth(struct worker *w, struct wconn *c)
{
	struct wreq		*q = &c->wc_req;
	struct msg_owner_auth	 mo;

	if (c->wc_tls == NULL || q->wr_authed)
		return 0;
	memset(&mo, 0, sizeof(mo));
	mo.mo_flags = q->wr_auth_flags;
	memcpy(mo.mo_token, q->wr_token, sizeof(mo.mo_token));
	explicit_bzero(q->wr_token, sizeof(q->wr_token));
	if (tls_peer_cert_provided(c->wc_tls)) {
		if (wtls_subject(c->wc_tls, mo.mo_subject,
		    sizeof(mo.mo_subject)) == 0)
			mo.mo_flags |= AUTH_F_CERT;
		else
			memset(mo.mo_subject, 0, sizeof(mo.mo_subject));
	}
	conn_request(w, c, MSG_OWNER_AUTH, &mo, sizeof(mo));
	explicit_bzero(&mo, sizeof(mo));
	return 1;
}

void
wtls_owner_answer(struct worker *w, struct wconn *c, const struct chan_msg *m)
{
	struct msg_status	ms;

	if (chan_get(m, &ms, sizeof(ms)) == -1 || (ms.ms_status != 200 &&
	    ms.ms_status != 401 && ms.ms_status != 403))
		fatalx("bad answer from broker");
	if (ms.ms_status == 200) {
		c->wc_req.wr_authed = 1;
		conn_dispatch(w, c);
		return;
	}
	reply_json_error(c, (int)ms.ms_status, ms.ms_status == 403 ?
	    "certificate subject not allowed" : "authentication required");
	conn_reply_ready(w, c);
}
