/* SPDX-License-Identifier: ISC */
/*
 * TLS private keys and the sign channel.  Keys are read and parsed here
 * only, and kept as SEC1 DER in sodium_malloc pages that are no-access at
 * rest.  Each signature parses its key into OpenSSL memory (its secure
 * heap), signs, and frees it: about 35 us for P-256, against about 450 us
 * through OpenSSL 3's generic decoders.
 *
 * The worker asks for one ECDSA signature per full handshake, on the sign
 * channel, for a live connection on a TLS listener.  Anything else (another
 * type or size, a second signature for the connection, another operation,
 * a key the connection's listener does not hold, a digest that is not 32,
 * 48 or 64 bytes) kills the worker, as on the main channel.
 */
#define OPENSSL_API_COMPAT	0x10100000L	/* EC_KEY: the fast path */

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "broker.h"
#include "privsep/log.h"

#define TLS_SECURE_HEAP		32768	/* OpenSSL's mlocked arena */
#define TLS_SIGN_BATCH		64

static void	tlskey_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
tlskey_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	ERR_clear_error();
}

/* A value without a leading '/' names a systemd credential. */
static int
tlskey_path(const char *v, char *dst, size_t dstsz, char *err, size_t errlen)
{
	const char	*creds = getenv("CREDENTIALS_DIRECTORY");

	if (v[0] == '/') {
		(void)snprintf(dst, dstsz, "%s", v);
		return 0;
	}
	if (creds == NULL) {
		tlskey_err(err, errlen, "%s: a credential name, but "
		    "CREDENTIALS_DIRECTORY is not set", v);
		return -1;
	}
	if ((size_t)snprintf(dst, dstsz, "%s/%s", creds, v) >= dstsz) {
		tlskey_err(err, errlen, "%s: credential path too long", v);
		return -1;
	}
	return 0;
}

/*
 * The whole file, at most max bytes.  A secret one must be the broker's
 * and private (keys_check_file) and lands in sodium_malloc memory.
 */
static uint8_t *
tlskey_read_file(const char *path, int secret, size_t max, size_t *len,
    char *err, size_t errlen)
{
	struct stat	 st;
	uint8_t		*buf = NULL;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		tlskey_err(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return NULL;
	}
	if (secret && keys_check_file(fd, path, err, errlen) == -1)
		goto fail;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		tlskey_err(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size <= 0 || (size_t)st.st_size > max) {
		tlskey_err(err, errlen, "%s: %lld bytes, want 1 to %zu", path,
		    (long long)st.st_size, max);
		goto fail;
	}
	buf = secret ? sodium_malloc((size_t)st.st_size) :
	    malloc((size_t)st.st_size);
	if (buf == NULL) {
		tlskey_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			tlskey_err(err, errlen, "%s: short read", path);
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
 fail:
	if (buf != NULL) {
		if (secret)
			sodium_free(buf);
		else
			free(buf);
	}
	close(fd);
	return NULL;
}

/* Every certificate in a PEM file parses; the first is returned. */
static X509 *
tlskey_parse_certs(const uint8_t *pem, size_t len, const char *path,
    char *err, size_t errlen)
{
	BIO	*bio;
	X509	*first = NULL, *x;
	int	 n = 0;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf");
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (n++ == 0)
			first = x;
		else
			X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();	/* the end of the file reads as an error */
	if (first == NULL)
		tlskey_err(err, errlen, "%s: no PEM certificate", path);
	return first;
}

/* Encrypted keys are refused: nobody is there to type a passphrase. */
static int
tlskey_nopass(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/*
 * The key must be ECDSA on P-256 or P-384 and match the leaf certificate.
 * RSA is refused on purpose: for an RSA certificate OpenSSL asks for raw
 * RSA private operations (RSA_NO_PADDING), which would make the broker a
 * raw RSA signing and decryption oracle for a compromised worker.
 */
static int
tlskey_check(EVP_PKEY *pkey, X509 *leaf, const char *path, char *err,
    size_t errlen)
{
	const EC_KEY	*ek;
	int		 id = EVP_PKEY_base_id(pkey), nid;

	if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
		tlskey_err(err, errlen, "%s: an RSA key; sealmd signs only "
		    "with ECDSA P-256 or P-384 keys, because an RSA key would "
		    "make the broker a raw RSA signing and decryption oracle "
		    "for the worker (OpenSSL asks for raw RSA_NO_PADDING "
		    "operations).  Make an ECDSA key, e.g. openssl genpkey "
		    "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", path);
		return -1;
	}
	if (id != EVP_PKEY_EC || (ek = EVP_PKEY_get0_EC_KEY(pkey)) == NULL ||
	    ((nid = EC_GROUP_get_curve_name(EC_KEY_get0_group(ek))) !=
	    NID_X9_62_prime256v1 && nid != NID_secp384r1)) {
		tlskey_err(err, errlen, "%s: not an ECDSA key on P-256 or "
		    "P-384, the only keys sealmd signs with", path);
		return -1;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), pkey) != 1) {
		tlskey_err(err, errlen, "%s: does not match the certificate",
		    path);
		return -1;
	}
	return 0;
}

/* SHA-256 of the SubjectPublicKeyInfo: what the worker computes too. */
static int
tlskey_id(X509 *leaf, uint8_t id[TLS_KEYID_LEN])
{
	unsigned char	*der = NULL;
	int		 n;

	if ((n = i2d_PUBKEY(X509_get0_pubkey(leaf), &der)) <= 0)
		return -1;
	SHA256(der, (size_t)n, id);
	OPENSSL_free(der);
	return 0;
}

static void
tlskey_key_free(struct tlskey *k)
{
	if (k->tk_der != NULL)
		sodium_free(k->tk_der);
	memset(k, 0, sizeof(*k));
}

/* The key file into a SEC1 DER copy in no-access sodium_malloc pages. */
static int
tlskey_load_key(const char *path, X509 *leaf, struct tlskey *k, char *err,
    size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	EC_KEY		*ek = NULL;
	BIO		*bio;
	uint8_t		*pem, *p;
	size_t		 len;
	int		 n, r = -1;

	if ((pem = tlskey_read_file(path, 1, TLS_PEM_MAX, &len, err,
	    errlen)) == NULL)
		return -1;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, tlskey_nopass, NULL);
	BIO_free(bio);
	sodium_free(pem);
	if (pkey == NULL) {
		tlskey_err(err, errlen, "%s: not an unencrypted PEM private "
		    "key", path);
		return -1;
	}
	if (tlskey_check(pkey, leaf, path, err, errlen) == -1)
		goto out;
	if (tlskey_id(leaf, k->tk_id) == -1 ||
	    (ek = EVP_PKEY_get1_EC_KEY(pkey)) == NULL ||
	    (n = i2d_ECPrivateKey(ek, NULL)) <= 0 ||
	    (k->tk_der = sodium_malloc((size_t)n)) == NULL) {
		tlskey_err(err, errlen, "%s: cannot encode the key", path);
		goto out;
	}
	p = k->tk_der;
	if (i2d_ECPrivateKey(ek, &p) != n) {
		tlskey_err(err, errlen, "%s: cannot encode the key", path);
		goto out;
	}
	k->tk_len = (size_t)n;
	if (sodium_mprotect_noaccess(k->tk_der) == -1) {
		tlskey_err(err, errlen, "%s: mprotect: %s", path,
		    strerror(errno));
		goto out;
	}
	r = 0;
 out:
	if (r == -1)
		tlskey_key_free(k);
	EC_KEY_free(ek);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

static void
tlskey_ctx_free(struct tlsctx *tc)
{
	free(tc->tc_chain);
	size_t	i;

	free(tc->tc_ca);
	tlskey_key_free(&tc->tc_key);
	for (i = 0; i < TLS_OLD_KEYS; i++)
		tlskey_key_free(&tc->tc_old[i]);
	memset(tc, 0, sizeof(*tc));
}

static int
tlskey_load_ctx(const struct conf_tls *ct, struct tlsctx *tc, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX], why[CONF_ERR_MAX];
	X509	*leaf = NULL, *ca;
	int	 r = -1;

	if (tlskey_path(ct->ct_cert, path, sizeof(path), why,
	    sizeof(why)) == -1 ||
	    (tc->tc_chain = tlskey_read_file(path, 0, TLS_PEM_MAX,
	    &tc->tc_chainlen, why, sizeof(why))) == NULL ||
	    (leaf = tlskey_parse_certs(tc->tc_chain, tc->tc_chainlen, path,
	    why, sizeof(why))) == NULL)
		goto out;
	if (tlskey_path(ct->ct_key, path, sizeof(path), why,
	    sizeof(why)) == -1 ||
	    tlskey_load_key(path, leaf, &tc->tc_key, why, sizeof(why)) == -1)
		goto out;
	if (ct->ct_ca[0] != '\0') {
		if (tlskey_path(ct->ct_ca, path, sizeof(path), why,
		    sizeof(why)) == -1 ||
		    (tc->tc_ca = tlskey_read_file(path, 0, TLS_PEM_MAX,
		    &tc->tc_calen, why, sizeof(why))) == NULL ||
		    (ca = tlskey_parse_certs(tc->tc_ca, tc->tc_calen, path,
		    why, sizeof(why))) == NULL)
			goto out;
		X509_free(ca);
	}
	r = 0;
 out:
	X509_free(leaf);
	if (r == -1) {
		tlskey_err(err, errlen, "[%s] TLS: %s", ct->ct_section, why);
		tlskey_ctx_free(tc);
	}
	return r;
}

/*
 * Every certificate, key and token file of a configuration, or nothing.
 * The sign channel of ts is left closed.
 */
int
tlskey_load(const struct config *conf, struct tlsstate *ts, char *err,
    size_t errlen)
{
	size_t	i;

	memset(ts, 0, sizeof(*ts));
	chan_init(&ts->ts_chan, -1, 0);
	if (conf->c_ntls == 0)
		return 0;
	/* Once: OpenSSL's own copies of private numbers go there. */
	if (!CRYPTO_secure_malloc_initialized())
		(void)CRYPTO_secure_malloc_init(TLS_SECURE_HEAP, 16);
	for (i = 0; i < conf->c_ntls; i++) {
		if (tlskey_load_ctx(&conf->c_tls[i], &ts->ts_ctx[i], err,
		    errlen) == -1)
			goto fail;
		ts->ts_n++;
	}
	if (conf->c_token_file[0] != '\0' &&
	    tlsauth_load_tokens(conf->c_token_file, ts, err, errlen) == -1)
		goto fail;
	return 0;
 fail:
	tlskey_free(ts);
	return -1;
}

void
tlskey_free(struct tlsstate *ts)
{
	size_t	i;

	for (i = 0; i < ts->ts_n; i++)
		tlskey_ctx_free(&ts->ts_ctx[i]);
	ts->ts_n = 0;
	sodium_memzero(ts->ts_tokens, sizeof(ts->ts_tokens));
	ts->ts_ntokens = 0;
}

/*
 * SIGHUP: the new certificates and keys replace the old ones.  The keys
 * of the last TLS_OLD_KEYS generations stay for the connections accepted
 * before, whose handshake may still ask for them; nc is the configuration
 * they came from.
 */
void
tlskey_commit(struct broker *b, struct config *nc, struct tlsstate *ns)
{
	struct tlsstate	*ts = &b->b_tls;
	struct config	*oc = b->b_conf;
	struct tlsctx	*tc;
	size_t		 i, j;

	for (i = 0; i < ns->ts_n; i++) {
		tc = &ts->ts_ctx[i];
		free(tc->tc_chain);
		free(tc->tc_ca);
		tlskey_key_free(&tc->tc_old[TLS_OLD_KEYS - 1]);
		for (j = TLS_OLD_KEYS - 1; j > 0; j--)
			tc->tc_old[j] = tc->tc_old[j - 1];
		tc->tc_old[0] = tc->tc_key;
		tc->tc_key = ns->ts_ctx[i].tc_key;
		tc->tc_chain = ns->ts_ctx[i].tc_chain;
		tc->tc_chainlen = ns->ts_ctx[i].tc_chainlen;
		tc->tc_ca = ns->ts_ctx[i].tc_ca;
		tc->tc_calen = ns->ts_ctx[i].tc_calen;
		tc->tc_gen++;
		memset(&ns->ts_ctx[i], 0, sizeof(ns->ts_ctx[i]));
	}
	memcpy(ts->ts_tokens, ns->ts_tokens, sizeof(ts->ts_tokens));
	ts->ts_ntokens = ns->ts_ntokens;
	sodium_memzero(ns->ts_tokens, sizeof(ns->ts_tokens));
	ns->ts_n = 0;
	if (nc != oc) {
		memcpy(oc->c_tls, nc->c_tls, sizeof(oc->c_tls));
		memcpy(oc->c_allow_subject, nc->c_allow_subject,
		    sizeof(oc->c_allow_subject));
		oc->c_nallow_subject = nc->c_nallow_subject;
		memcpy(oc->c_token_file, nc->c_token_file,
		    sizeof(oc->c_token_file));
	}
	tlskey_send_certs(b);
}

/* Client CAs first: the chain message (re)configures the context. */
void
tlskey_send_certs(struct broker *b)
{
	static struct msg_tls_cert	 mt;
	const struct tlsctx		*tc;
	size_t				 i;
	int				 r = 0;

	if (b->b_chan.c_fd == -1)
		return;
	for (i = 0; i < b->b_tls.ts_n && r == 0; i++) {
		tc = &b->b_tls.ts_ctx[i];
		if (tc->tc_ca != NULL) {
			memset(&mt, 0, sizeof(mt));
			mt.mtc_ctx = (uint32_t)i + 1;
			mt.mtc_kind = TLS_PEM_CA;
			mt.mtc_len = (uint32_t)tc->tc_calen;
			memcpy(mt.mtc_pem, tc->tc_ca, tc->tc_calen);
			r = chan_send(&b->b_chan, MSG_TLS_CERT, 0, 0, &mt,
			    sizeof(mt), -1);
		}
		memset(&mt, 0, sizeof(mt));
		mt.mtc_ctx = (uint32_t)i + 1;
		mt.mtc_kind = TLS_PEM_CHAIN;
		mt.mtc_len = (uint32_t)tc->tc_chainlen;
		memcpy(mt.mtc_pem, tc->tc_chain, tc->tc_chainlen);
		if (r == 0)
			r = chan_send(&b->b_chan, MSG_TLS_CERT, 0, 0, &mt,
			    sizeof(mt), -1);
	}
	if (r == -1)
		supervise_kill(b, "cannot send certificates: %s",
		    strerror(errno));
}

/* The broker's end of a new worker's sign channel, from the launcher. */
void
tlskey_chan_set(struct broker *b, int fd)
{
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	tlskey_chan_close(b);
	chan_init(&b->b_tls.ts_chan, fd, 0);
	chan_cork(&b->b_tls.ts_chan);	/* audited first: broker_turn_end */
}

void
tlskey_chan_close(struct broker *b)
{
	struct chan	*c = &b->b_tls.ts_chan;

	chan_clear(c);
	if (c->c_fd != -1)
		close(c->c_fd);
	c->c_fd = -1;
}

int
tlskey_pollfd(struct broker *b, struct pollfd *pfd)
{
	struct chan	*c = &b->b_tls.ts_chan;

	if (c->c_fd == -1)
		return 0;
	pfd->fd = c->c_fd;
	pfd->events = POLLIN | (chan_pending(c) ? POLLOUT : 0);
	pfd->revents = 0;
	return 1;
}

/* Remember which certificate a new connection's handshake will use. */
void
tlskey_conn_new(struct broker *b, struct bconn *bc, int ctx)
{
	bc->bc_tls = ctx;
	bc->bc_signed = 0;
	if (ctx > 0)
		bc->bc_tlsgen = b->b_tls.ts_ctx[ctx - 1].tc_gen;
}

static int
tlskey_sign(const struct tlskey *k, const uint8_t *dg, size_t len,
    struct msg_tls_sig *sg)
{
	const unsigned char	*p = k->tk_der;
	EC_KEY			*ek;
	unsigned int		 n = sizeof(sg->msig_sig);
	int			 ok;

	if (sodium_mprotect_readonly(k->tk_der) == -1)
		fatal("%s", __func__);
	ek = d2i_ECPrivateKey(NULL, &p, (long)k->tk_len);
	if (sodium_mprotect_noaccess(k->tk_der) == -1)
		fatal("%s", __func__);
	ok = ek != NULL && ECDSA_size(ek) <= (int)sizeof(sg->msig_sig) &&
	    ECDSA_sign(0, dg, (int)len, sg->msig_sig, &n, ek) == 1;
	EC_KEY_free(ek);
	ERR_clear_error();
	sg->msig_len = ok ? n : 0;
	return ok ? 0 : -1;
}

/*
 * The key a sign request names, if its connection may use it: the
 * current one, or one from a reload since the connection was accepted.
 */
static const struct tlskey *
tlskey_find(struct broker *b, const struct bconn *bc, const uint8_t *id)
{
	const struct tlsctx	*tc = &b->b_tls.ts_ctx[bc->bc_tls - 1];
	uint32_t		 i, age = tc->tc_gen - bc->bc_tlsgen;

	if (sodium_memcmp(id, tc->tc_key.tk_id, TLS_KEYID_LEN) == 0)
		return &tc->tc_key;
	for (i = 0; i < TLS_OLD_KEYS && i < age; i++)
		if (tc->tc_old[i].tk_der != NULL &&
		    sodium_memcmp(id, tc->tc_old[i].tk_id, TLS_KEYID_LEN) == 0)
			return &tc->tc_old[i];
	return NULL;
}

static void
tlskey_dispatch(struct broker *b, const struct chan_msg *m)
{
	static struct msg_tls_sign	 ms;
	struct msg_tls_sig		 sg;
	struct bconn			*bc;
	const struct tlskey		*k;
	char				 hex[2 * 8 + 1];
	uint32_t			 connid = m->m_hdr.ch_connid, age;

	if (m->m_hdr.ch_type != MSG_TLS_SIGN) {
		supervise_kill(b, "sign channel: message type %u",
		    m->m_hdr.ch_type);
		return;
	}
	if (chan_get(m, &ms, sizeof(ms)) == -1) {
		supervise_kill(b, "tls.sign: %zu bytes, want %zu",
		    buf_left(&m->m_payload), sizeof(ms));
		return;
	}
	if (b->b_wstate != WORKER_UP && b->b_wstate != WORKER_STOPPING) {
		supervise_kill(b, "tls.sign before init");
		return;
	}
	if ((bc = broker_conn_get(b, connid)) == NULL || bc->bc_tls == 0) {
		supervise_kill(b, "tls.sign for connection %u, not a live TLS "
		    "connection", connid);
		return;
	}
	if (bc->bc_signed) {
		supervise_kill(b, "tls.sign: a second signature for connection "
		    "%u", connid);
		return;
	}
	if (ms.mts_op != TLS_SIGN_ECDSA) {
		supervise_kill(b, "tls.sign: operation %u refused: only ECDSA "
		    "signatures, never raw RSA or decryption", ms.mts_op);
		return;
	}
	if (ms.mts_len != 32 && ms.mts_len != 48 && ms.mts_len != 64) {
		supervise_kill(b, "tls.sign: a digest of %u bytes refused "
		    "(want 32, 48 or 64)", ms.mts_len);
		return;
	}
	k = tlskey_find(b, bc, ms.mts_keyid);
	age = b->b_tls.ts_ctx[bc->bc_tls - 1].tc_gen - bc->bc_tlsgen;
	if (k == NULL && age <= TLS_OLD_KEYS) {
		sodium_bin2hex(hex, sizeof(hex), ms.mts_keyid, 8);
		supervise_kill(b, "tls.sign: unknown key id %s...", hex);
		return;
	}
	bc->bc_signed = 1;
	memset(&sg, 0, sizeof(sg));
	/* Not the worker's fault: its handshake outlived the key ring. */
	if (k == NULL)
		log_warnx("tls.sign: connection %u began %u reloads ago, its "
		    "key is gone: handshake refused", connid, age);
	else if (tlskey_sign(k, ms.mts_data, ms.mts_len, &sg) == -1)
		log_warnx("tls.sign: signing failed");
	audit_op(b, bc->bc_listener, bc->bc_peer, "tls.sign", "",
	    sg.msig_len > 0 ? 200 : 500, NULL);
	if (chan_send(&b->b_tls.ts_chan, MSG_TLS_SIGN_ANS, m->m_hdr.ch_reqid,
	    connid, &sg, sizeof(sg), -1) == -1)
		supervise_kill(b, "sign channel: %s", strerror(errno));
}

void
tlskey_read(struct broker *b, const struct pollfd *pfd)
{
	static struct chan_msg	 m;
	struct chan		*c = &b->b_tls.ts_chan;
	int			 i, r;

	/* A kill while serving the main channel closed it already. */
	if (c->c_fd == -1 || pfd->fd != c->c_fd)
		return;
	/* POLLOUT: broker_turn_end sends what waits. */
	if (!(pfd->revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (i = 0; i < TLS_SIGN_BATCH && c->c_fd != -1; i++) {
		if ((r = chan_recv(c, &m)) == 0)
			break;
		if (r == -1) {
			/*
			 * At its end the worker closes both channels; the
			 * main one tells how it ended.  A worker that closes
			 * this one alone only loses its signatures.
			 */
			if (errno == EBADMSG)
				supervise_kill(b,
				    "sign channel: malformed frame");
			else
				tlskey_chan_close(b);
			break;
		}
		tlskey_dispatch(b, &m);
	}
}
