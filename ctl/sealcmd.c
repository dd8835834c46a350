/* SPDX-License-Identifier: ISC */
/*
 * sealmdctl seal-for and decrypt: the two ends of a password that sealmd
 * stores without being able to read.  seal-for seals to an ssh-ed25519
 * public key; decrypt opens a sealed box with the OpenSSH private key, or
 * RSA PKCS#1 v1.5 ciphertext with a PEM key.  Passwords come from stdin
 * or are generated, never from argv; they go to stdout or a new file of
 * mode 0600, never to stderr.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/sealbox.h"
#include "client/secret.h"
#include "client/sshkey.h"
#include "ctl/rsa.h"
#include "ctl/sealcmd.h"

#define SEALCMD_VALUE_IN_MAX	(64 * 1024)	/* says "too long" past it */
#define SEALCMD_READ_CHUNK	(16 * 1024)

enum {
	SEALCMD_OPT_RANDOM = 256,
	SEALCMD_OPT_PWFILE,
};

static const struct option sealcmd_seal_opts[] = {
	{ "help",		no_argument,	   NULL, 'h' },
	{ "random",		required_argument, NULL, SEALCMD_OPT_RANDOM },
	{ "password-file",	required_argument, NULL, SEALCMD_OPT_PWFILE },
	{ NULL,			0,		   NULL, 0 }
};

static const struct option sealcmd_decrypt_opts[] = {
	{ "help",		no_argument,		NULL, 'h' },
	{ "identity",		required_argument,	NULL, 'i' },
	{ NULL,			0,			NULL, 0 }
};

static void	sealcmd_badopt(int, char **) __attribute__((noreturn));
static int	sealcmd_is_space(uint8_t);
static int	sealcmd_pwfile(const char *, const struct buf *);
static int	sealcmd_read_value(struct bbuf *, struct buf *);
static int	sealcmd_open_box(const char *, const struct buf *,
		    const struct buf *, struct bbuf *);
static int	sealcmd_open_rsa(const char *, const struct buf *,
		    const struct bbuf *, struct bbuf *);
static int	sealcmd_is_ctl(uint8_t);
static int	sealcmd_emit(const struct bbuf *, struct bbuf *);

/* getopt_long said ':' (no argument) or '?' (unknown option). */
static void
sealcmd_badopt(int ch, char **argv)
{
	if (ch == ':')
		ctl_usage_err("option %s needs an argument",
		    argv[optind - 1]);
	if (optopt > 0 && optopt < 0x7f)
		ctl_usage_err("unknown option -%c", optopt);
	ctl_usage_err("unknown option %s", argv[optind - 1]);
}

static int
sealcmd_is_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The generated password in a new file: never replaces one. */
static int
sealcmd_pwfile(const char *path, const struct buf *pw)
{
	struct buf	 t = *pw;
	uint8_t		 p[SEALBOX_PLAIN_MAX + 1];
	size_t		 n = buf_left(pw);
	ssize_t		 w;
	size_t		 off = 0;
	int		 fd, rv = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		warn("%s", path);
		return -1;
	}
	if (n > SEALBOX_PLAIN_MAX || buf_get(&t, p, n) == -1)
		goto out;
	p[n++] = '\n';
	while (off < n) {
		if ((w = write(fd, &p[off], n - off)) == -1 && errno == EINTR)
			continue;
		if (w == -1)
			goto out;
		off += (size_t)w;
	}
	if (fsync(fd) == -1)
		goto out;
	rv = 0;
 out:
	if (rv == -1)
		warn("%s", path);
	if (close(fd) == -1 && rv == 0) {
		warn("%s", path);
		rv = -1;
	}
	if (rv == -1)
		(void)unlink(path);
	sodium_memzero(p, sizeof(p));
	return rv;
}

/* seal-for [--random N --password-file FILE] KEYFILE */
int
sealcmd_seal_for(int argc, char **argv, struct bbuf *out)
{
	struct bbuf	 pwb;
	struct buf	 pw, t, arg;
	const char	*pwfile = NULL;
	char		 value[SEALBOX_VALUE_MAX + 1];
	uint8_t		 pub[SEALBOX_ED25519_PUB], pt[SEALBOX_PLAIN_MAX];
	uint64_t	 nrandom = 0;
	size_t		 len;
	int		 ch, e, rv = -1;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", sealcmd_seal_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf("usage: sealmdctl seal-for [--random N "
			    "--password-file FILE] KEYFILE\n");
			exit(0);
		case SEALCMD_OPT_RANDOM:
			buf_init(&arg, optarg, strlen(optarg));
			if (buf_to_u64(&arg, SEALBOX_PLAIN_MAX,
			    &nrandom) == -1 || nrandom < SECRET_RANDOM_MIN)
				ctl_usage_err("seal-for: --random: a length"
				    " from %d to %d", SECRET_RANDOM_MIN,
				    SEALBOX_PLAIN_MAX);
			break;
		case SEALCMD_OPT_PWFILE:
			pwfile = optarg;
			break;
		default:
			sealcmd_badopt(ch, argv);
		}
	}
	if (optind >= argc)
		ctl_usage_err("seal-for: missing KEYFILE");
	if (argc - optind > 1)
		ctl_usage_err("seal-for: unexpected argument %s",
		    argv[optind + 1]);
	/* Only the file may hold it: stdout is the value, often piped on. */
	if ((nrandom > 0) != (pwfile != NULL))
		ctl_usage_err("seal-for: --random and --password-file go "
		    "together");
	if (sodium_init() == -1) {
		warnx("cannot initialise libsodium");
		return -1;
	}
	if (sshkey_pub_file(argv[optind], pub) == -1)
		return -1;
	if (nrandom > 0)
		e = secret_random(&pwb, (size_t)nrandom, &pw);
	else
		e = secret_read(STDIN_FILENO, &pwb, SEALBOX_PLAIN_MAX, 1,
		    &pw);
	if (e == -1)
		goto out;
	t = pw;
	len = buf_left(&pw);
	(void)buf_get(&t, pt, len);
	if ((e = sealbox_seal(pub, pt, len, value, sizeof(value))) !=
	    SEALBOX_OK) {
		warnx("seal-for: %s: %s", argv[optind], sealbox_strerror(e));
		goto out;
	}
	if (pwfile != NULL && sealcmd_pwfile(pwfile, &pw) == -1)
		goto out;
	if (bbuf_add_str(out, value) == -1 || bbuf_add(out, "\n", 1) == -1) {
		warnx("seal-for: out of memory");
		goto out;
	}
	rv = 0;
 out:
	sodium_memzero(pt, sizeof(pt));
	bbuf_free(&pwb);
	return rv;
}

/* The stored value from stdin, without blanks or newlines around it. */
static int
sealcmd_read_value(struct bbuf *bb, struct buf *value)
{
	struct buf	b;
	ssize_t		n;
	size_t		skip = 0;
	uint8_t		ch;

	bbuf_init(bb, SEALCMD_VALUE_IN_MAX);
	while ((n = bbuf_read_fd(bb, STDIN_FILENO, SEALCMD_READ_CHUNK)) != 0) {
		if (n != -1 || errno == EINTR)
			continue;
		if (errno == ENOBUFS)
			warnx("decrypt: the value on stdin is longer than %d"
			    " bytes", SEALCMD_VALUE_IN_MAX);
		else
			warn("decrypt: stdin");
		return -1;
	}
	bbuf_view(bb, &b);
	while (buf_peek(&b, skip, &ch) == 0 && sealcmd_is_space(ch))
		skip++;
	(void)buf_skip(&b, skip);
	*value = b;
	while (buf_peek(&b, buf_left(&b) - 1, &ch) == 0 &&
	    sealcmd_is_space(ch)) {
		(void)buf_take(&b, buf_left(&b) - 1, value);
		b = *value;
	}
	if (buf_left(value) == 0) {
		warnx("decrypt: no value on stdin (is the password set?)");
		return -1;
	}
	return 0;
}

static int
sealcmd_open_box(const char *file, const struct buf *value,
    const struct buf *keytext, struct bbuf *out)
{
	struct sshkey_ed25519	 k;
	uint8_t			 pt[SEALBOX_PLAIN_MAX];
	size_t			 len;
	int			 e, rv = -1;

	if (!sshkey_is_private(keytext)) {
		warnx("decrypt: %s: the value is a sealed box (sx1:), which "
		    "needs the instance's OpenSSH ssh-ed25519 private key",
		    file);
		return -1;
	}
	switch ((e = sshkey_priv_parse(keytext, &k))) {
	case SSHKEY_OK:
		break;
	case SSHKEY_EENCRYPTED:
		warnx("decrypt: %s: %s; remove it from a copy first "
		    "(ssh-keygen -p -N '' -f COPY)", file, sshkey_strerror(e));
		return -1;
	default:
		warnx("decrypt: %s: %s", file, sshkey_strerror(e));
		return -1;
	}
	if ((e = sealbox_open(value, k.ek_priv, pt, sizeof(pt), &len)) !=
	    SEALBOX_OK) {
		warnx("decrypt: %s", sealbox_strerror(e));
		goto out;
	}
	if (bbuf_add(out, pt, len) == -1) {
		warnx("decrypt: out of memory");
		goto out;
	}
	rv = 0;
 out:
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(pt, sizeof(pt));
	return rv;
}

static int
sealcmd_open_rsa(const char *file, const struct buf *value,
    const struct bbuf *key, struct bbuf *out)
{
	struct buf	 keytext;
	const char	*why;
	size_t		 pos;

	/* RSA base64 has no ':'; a prefix we do not know is a newer format. */
	if (buf_find(value, ':', &pos) == 0) {
		warnx("decrypt: unknown value format (only RSA base64 and "
		    "%s are known)", SEALBOX_PREFIX);
		return -1;
	}
	bbuf_view(key, &keytext);
	if (sshkey_is_private(&keytext)) {
		warnx("decrypt: %s: an OpenSSH-format key, but the value is "
		    "RSA ciphertext, which needs a PEM RSA key (an OpenSSH RSA"
		    " key converts: ssh-keygen -p -m PEM -N '' -f COPY)", file);
		return -1;
	}
	if (rsa_decrypt(key, value, out, &why) == -1) {
		warnx("decrypt: %s: %s", file, why);
		return -1;
	}
	return 0;
}

static int
sealcmd_is_ctl(uint8_t ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/*
 * The password and a newline.  Anyone who knows the public key can seal a
 * value, so to a terminal control bytes go escaped, lest a hostile guest
 * drive the owner's terminal; to a pipe or file they go as they are.
 */
static int
sealcmd_emit(const struct bbuf *pt, struct bbuf *out)
{
	struct buf	b;
	uint8_t		ch;
	int		escaped = 0, rv = 0;

	bbuf_view(pt, &b);
	if (!isatty(STDOUT_FILENO)) {
		if (bbuf_add(out, pt->bb_data, pt->bb_len) == -1)
			rv = -1;
	} else {
		while (rv == 0 && buf_get_u8(&b, &ch) == 0) {
			if (sealcmd_is_ctl(ch)) {
				escaped = 1;
				rv = bbuf_printf(out, "\\x%02x", ch);
			} else
				rv = bbuf_add(out, &ch, 1);
		}
	}
	if (rv == 0)
		rv = bbuf_add(out, "\n", 1);
	if (rv == -1)
		warnx("decrypt: out of memory");
	else if (escaped)
		warnx("decrypt: control characters in the password are shown "
		    "as \\xNN; redirect stdout for the raw bytes");
	return rv;
}

/* decrypt --identity FILE < value */
int
sealcmd_decrypt(int argc, char **argv, struct bbuf *out)
{
	struct bbuf	 in, key, pt;
	struct buf	 value, keytext;
	const char	*file = NULL;
	int		 ch, rv = -1;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hi:", sealcmd_decrypt_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf("usage: sealmdctl decrypt --identity FILE "
			    "< value\n");
			exit(0);
		case 'i':
			file = optarg;
			break;
		default:
			sealcmd_badopt(ch, argv);
		}
	}
	if (optind < argc)
		ctl_usage_err("decrypt: unexpected argument %s (the value "
		    "comes on stdin)", argv[optind]);
	if (file == NULL)
		ctl_usage_err("decrypt: --identity FILE is required");
	if (sodium_init() == -1) {
		warnx("cannot initialise libsodium");
		return -1;
	}
	bbuf_init(&key, 0);
	bbuf_init(&pt, SEALBOX_VALUE_MAX);
	if (sealcmd_read_value(&in, &value) == -1 ||
	    sshkey_read_file(file, &key) == -1)
		goto out;
	bbuf_view(&key, &keytext);
	if (sealbox_is_sealed(&value))
		rv = sealcmd_open_box(file, &value, &keytext, &pt);
	else
		rv = sealcmd_open_rsa(file, &value, &key, &pt);
	if (rv == 0)
		rv = sealcmd_emit(&pt, out);
 out:
	bbuf_free(&in);
	bbuf_free(&key);
	bbuf_free(&pt);
	return rv;
}
