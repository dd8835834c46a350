/* SPDX-License-Identifier: ISC */
/*
 * OpenSSH ssh-ed25519 public key lines and unencrypted private key files.
 * The private key format (OpenSSH PROTOCOL.key):
 *
 *	"openssh-key-v1\0" string ciphername string kdfname
 *	string kdfoptions uint32 nkeys string publickey string private
 *
 * where private is uint32 check uint32 check, then per key: string type,
 * string public (32), string secret (seed || public, 64), string comment,
 * then padding bytes 1, 2, 3, ... to the cipher's block size (8 for
 * "none").  Key bytes live only in bbufs, which wipe what they held.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/sshkey.h"

#define SSHKEY_TYPE		"ssh-ed25519"
#define SSHKEY_MAGIC		"openssh-key-v1"	/* then a NUL */
#define SSHKEY_BEGIN		"-----BEGIN OPENSSH PRIVATE KEY-----"
#define SSHKEY_END		"-----END OPENSSH PRIVATE KEY-----"
#define SSHKEY_BLOCK		8	/* padding unit of cipher "none" */
#define SSHKEY_SEED		32
#define SSHKEY_TYPE_MAX		64
#define SSHKEY_READ_CHUNK	(16 * 1024)

static int	sshkey_u32(struct buf *, uint32_t *);
static int	sshkey_string(struct buf *, struct buf *);
static int	sshkey_line(struct buf *, struct buf *);
static int	sshkey_is_b64char(uint8_t);
static int	sshkey_b64(const struct buf *, struct bbuf *);
static int	sshkey_blob_pub(struct buf *, uint8_t [SEALBOX_ED25519_PUB]);
static int	sshkey_armor(const struct buf *, struct bbuf *);
static int	sshkey_private(struct buf *, struct sshkey_ed25519 *);

/* The big-endian uint32 of the SSH wire format. */
static int
sshkey_u32(struct buf *b, uint32_t *v)
{
	uint8_t	p[4];

	if (buf_get(b, p, sizeof(p)) == -1)
		return -1;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

/* An SSH string: uint32 length, then that many bytes. */
static int
sshkey_string(struct buf *b, struct buf *s)
{
	uint32_t	len;

	if (sshkey_u32(b, &len) == -1)
		return -1;
	return buf_take(b, len, s);
}

/* Next line without its LF, a CR before that, and blanks around it. */
static int
sshkey_line(struct buf *text, struct buf *line)
{
	struct buf	t;
	uint8_t		ch;

	if (buf_sep(text, '\n', line) == -1)
		return -1;
	if (buf_left(line) > 0 &&
	    buf_peek(line, buf_left(line) - 1, &ch) == 0 && ch == '\r') {
		(void)buf_take(line, buf_left(line) - 1, &t);
		*line = t;
	}
	buf_trim_ows(line);
	return 0;
}

static int
sshkey_is_b64char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' || ch == '=';
}

/* Strict padded base64 of the whole of in, appended to out. */
static int
sshkey_b64(const struct buf *in, struct bbuf *out)
{
	struct bbuf	 s;
	struct buf	 t = *in;
	uint8_t		*p, *d;
	size_t		 n = buf_left(in), avail, len;
	int		 rv = -1;

	bbuf_init(&s, n + 1);
	if (n == 0 || bbuf_reserve(&s, n + 1, &p, &avail) == -1 ||
	    avail < n + 1 || buf_get(&t, p, n) == -1)
		goto out;
	p[n] = '\0';
	if (bbuf_reserve(out, n, &d, &avail) == -1 || avail < n ||
	    sodium_base642bin(d, avail, (const char *)p, n, NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	bbuf_commit(out, len);
	rv = 0;
 out:
	bbuf_free(&s);
	return rv;
}

/* string "ssh-ed25519", string key (32 bytes), and nothing more. */
static int
sshkey_blob_pub(struct buf *b, uint8_t pub[SEALBOX_ED25519_PUB])
{
	struct buf	type, key;

	if (sshkey_string(b, &type) == -1)
		return SSHKEY_EFORMAT;
	if (!buf_eq(&type, SSHKEY_TYPE))
		return SSHKEY_ETYPE;
	if (sshkey_string(b, &key) == -1 ||
	    buf_left(&key) != SEALBOX_ED25519_PUB || buf_left(b) != 0)
		return SSHKEY_EFORMAT;
	(void)buf_get(&key, pub, SEALBOX_ED25519_PUB);
	return SSHKEY_OK;
}

/*
 * "TYPE BASE64 [COMMENT]" whose blob opens with the string TYPE, as
 * OpenSSH writes every public key: ETYPE for a sound line of another
 * type, EFORMAT for anything else.
 */
int
sshkey_pub_parse(const struct buf *line, uint8_t pub[SEALBOX_ED25519_PUB])
{
	struct bbuf	bin;
	struct buf	l = *line, type, b64, blob, btype;
	char		tname[SSHKEY_TYPE_MAX + 1];
	int		rv = SSHKEY_EFORMAT;

	if (buf_token(&l, &type) == -1 || buf_token(&l, &b64) == -1 ||
	    buf_copy_str(&type, tname, sizeof(tname)) == -1 ||
	    !buf_all(&b64, sshkey_is_b64char))
		return SSHKEY_EFORMAT;
	bbuf_init(&bin, buf_left(&b64));
	if (sshkey_b64(&b64, &bin) == -1)
		goto out;
	bbuf_view(&bin, &blob);
	if (sshkey_string(&blob, &btype) == -1 || !buf_eq(&btype, tname))
		goto out;
	if (strcmp(tname, SSHKEY_TYPE) != 0) {
		rv = SSHKEY_ETYPE;
		goto out;
	}
	bbuf_view(&bin, &blob);
	rv = sshkey_blob_pub(&blob, pub);
 out:
	bbuf_free(&bin);
	return rv;
}

/* The first non-blank line is the OpenSSH private key armor. */
int
sshkey_is_private(const struct buf *text)
{
	struct buf	t = *text, line;

	while (sshkey_line(&t, &line) == 0)
		if (buf_left(&line) > 0)
			return buf_eq(&line, SSHKEY_BEGIN);
	return 0;
}

/* The base64 between the armor lines, decoded into bin. */
static int
sshkey_armor(const struct buf *text, struct bbuf *bin)
{
	struct bbuf	b64;
	struct buf	t = *text, line, all;
	uint8_t		*p;
	size_t		avail, n;
	int		rv = -1, begun = 0;

	bbuf_init(&b64, buf_left(text));
	while (sshkey_line(&t, &line) == 0) {
		if (!begun) {
			if (buf_left(&line) == 0)
				continue;
			if (!buf_eq(&line, SSHKEY_BEGIN))
				goto out;
			begun = 1;
			continue;
		}
		if (buf_eq(&line, SSHKEY_END)) {
			bbuf_view(&b64, &all);
			rv = sshkey_b64(&all, bin);
			goto out;
		}
		if (!buf_all(&line, sshkey_is_b64char))
			goto out;
		n = buf_left(&line);
		if (n > 0 && (bbuf_reserve(&b64, n, &p, &avail) == -1 ||
		    avail < n || buf_get(&line, p, n) == -1))
			goto out;
		bbuf_commit(&b64, n);
	}
 out:
	bbuf_free(&b64);
	return rv;
}

/* The private section of an unencrypted key, checked against k->ek_pub. */
static int
sshkey_private(struct buf *b, struct sshkey_ed25519 *k)
{
	struct buf	type, pub, sec, comment;
	uint8_t		seed[SSHKEY_SEED], half[SEALBOX_ED25519_PUB];
	uint8_t		check[SEALBOX_ED25519_PUB], pad;
	uint32_t	c1, c2, i;
	int		rv = SSHKEY_EFORMAT;

	/* A mismatch in clear text means corruption, not a passphrase. */
	if (buf_left(b) % SSHKEY_BLOCK != 0 || sshkey_u32(b, &c1) == -1 ||
	    sshkey_u32(b, &c2) == -1 || c1 != c2 ||
	    sshkey_string(b, &type) == -1)
		return SSHKEY_EFORMAT;
	if (!buf_eq(&type, SSHKEY_TYPE))
		return SSHKEY_ETYPE;
	if (sshkey_string(b, &pub) == -1 ||
	    buf_left(&pub) != SEALBOX_ED25519_PUB ||
	    sshkey_string(b, &sec) == -1 ||
	    buf_left(&sec) != SEALBOX_ED25519_PRIV ||
	    sshkey_string(b, &comment) == -1 ||
	    buf_get(&pub, half, sizeof(half)) == -1 ||
	    memcmp(half, k->ek_pub, sizeof(half)) != 0 ||
	    buf_get(&sec, seed, sizeof(seed)) == -1 ||
	    buf_get(&sec, half, sizeof(half)) == -1 ||
	    memcmp(half, k->ek_pub, sizeof(half)) != 0)
		goto out;
	for (i = 1; buf_get_u8(b, &pad) == 0; i++)
		if (pad != i || i >= SSHKEY_BLOCK)
			goto out;
	/* The seed must really make this public key. */
	if (crypto_sign_seed_keypair(check, k->ek_priv, seed) != 0 ||
	    memcmp(check, k->ek_pub, sizeof(check)) != 0)
		goto out;
	rv = SSHKEY_OK;
 out:
	sodium_memzero(seed, sizeof(seed));
	if (rv != SSHKEY_OK)
		sodium_memzero(k->ek_priv, sizeof(k->ek_priv));
	return rv;
}

int
sshkey_priv_parse(const struct buf *text, struct sshkey_ed25519 *k)
{
	struct bbuf	bin;
	struct buf	b, cipher, kdf, kdfopts, pubblob, priv;
	uint32_t	nkeys;
	uint8_t		nul;
	int		rv = SSHKEY_EFORMAT;

	memset(k, 0, sizeof(*k));
	bbuf_init(&bin, buf_left(text));
	if (sshkey_armor(text, &bin) == -1)
		goto out;
	bbuf_view(&bin, &b);
	if (!buf_has_prefix(&b, SSHKEY_MAGIC) ||
	    buf_skip(&b, strlen(SSHKEY_MAGIC)) == -1 ||
	    buf_get_u8(&b, &nul) == -1 || nul != '\0' ||
	    sshkey_string(&b, &cipher) == -1 ||
	    sshkey_string(&b, &kdf) == -1 ||
	    sshkey_string(&b, &kdfopts) == -1 ||
	    sshkey_u32(&b, &nkeys) == -1)
		goto out;
	if (!buf_eq(&cipher, "none")) {
		rv = SSHKEY_EENCRYPTED;
		goto out;
	}
	/* ssh-keygen writes one key per file; more is not a key file. */
	if (!buf_eq(&kdf, "none") || buf_left(&kdfopts) != 0 || nkeys != 1 ||
	    sshkey_string(&b, &pubblob) == -1)
		goto out;
	if ((rv = sshkey_blob_pub(&pubblob, k->ek_pub)) != SSHKEY_OK)
		goto out;
	rv = SSHKEY_EFORMAT;
	if (sshkey_string(&b, &priv) == -1 || buf_left(&b) != 0)
		goto out;
	rv = sshkey_private(&priv, k);
 out:
	bbuf_free(&bin);
	if (rv != SSHKEY_OK)
		sodium_memzero(k, sizeof(*k));
	return rv;
}

const char *
sshkey_strerror(int e)
{
	switch (e) {
	case SSHKEY_OK:
		return "success";
	case SSHKEY_EFORMAT:
		return "not a valid OpenSSH key";
	case SSHKEY_ETYPE:
		return "not an ssh-ed25519 key";
	case SSHKEY_EENCRYPTED:
		return "the private key is protected by a passphrase";
	}
	return "unknown error";
}

/*
 * A whole small regular file into bb (which the caller frees: it wipes).
 * Reports its own errors.
 */
int
sshkey_read_file(const char *path, struct bbuf *bb)
{
	struct stat	st;
	ssize_t		n;
	int		fd, rv = -1;

	bbuf_init(bb, SSHKEY_FILE_MAX + 1);
	/* O_NONBLOCK: a FIFO must not hang the open. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		warn("%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		warn("%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx("%s: not a regular file", path);
		goto out;
	}
	while ((n = bbuf_read_fd(bb, fd, SSHKEY_READ_CHUNK)) != 0) {
		if (n != -1 || errno == EINTR)
			continue;
		if (errno == ENOBUFS)
			warnx("%s: larger than %d bytes", path,
			    SSHKEY_FILE_MAX);
		else
			warn("%s", path);
		goto out;
	}
	rv = 0;
 out:
	close(fd);
	return rv;
}

/* The first non-blank line of an OpenSSH public key file. */
int
sshkey_pub_file(const char *path, uint8_t pub[SEALBOX_ED25519_PUB])
{
	struct bbuf	bb;
	struct buf	t, line;
	int		e, rv = -1;

	if (sshkey_read_file(path, &bb) == -1)
		goto out;
	bbuf_view(&bb, &t);
	do {
		if (sshkey_line(&t, &line) == -1) {
			warnx("%s: no key in file", path);
			goto out;
		}
	} while (buf_left(&line) == 0);
	/* Nothing of the line is quoted: it might be a private key. */
	if (buf_has_prefix(&line, "-----BEGIN")) {
		warnx("%s: this is a private key, not a public key", path);
		goto out;
	}
	if ((e = sshkey_pub_parse(&line, pub)) != SSHKEY_OK) {
		warnx("%s: %s", path, e == SSHKEY_ETYPE ?
		    "not an ssh-ed25519 public key" :
		    "not an OpenSSH public key line (ssh-ed25519 BASE64 "
		    "[COMMENT])");
		goto out;
	}
	rv = 0;
 out:
	bbuf_free(&bb);
	return rv;
}
