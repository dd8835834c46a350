/* SPDX-License-Identifier: ISC */
/*
 * client/sshkey.c: ssh-ed25519 public key lines and "openssh-key-v1" private
 * key files, on keys that ssh-keygen makes; encrypted and other key
 * types refused, and every field of the private key checked.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <sodium.h>

#include "client/sealbox.h"
#include "client/sshkey.h"
#include "tests/unit/tutil.h"

/* Offsets in the decoded private key of one ssh-ed25519 key (PROTOCOL.key). */
#define OFF_CIPHER	15	/* string "none" */
#define OFF_KDF		23
#define OFF_NKEYS	35
#define OFF_PRIVLEN	94
#define OFF_CHECK2	102
#define OFF_PUB2	125	/* the public key inside the private section */
#define OFF_SEED	161
#define OFF_PUB3	193	/* the public half of seed || public */

static char	tdir[] = "/tmp/sealmd-test-sshkey-XXXXXX";

static void
setup(void)
{
	cr_assert_neq(sodium_init(), -1);
	cr_assert_not_null(mkdtemp(tdir));
}

static void
teardown(void)
{
	tutil_rm_tree(tdir);
}

TestSuite(sshkey, .init = setup, .fini = teardown);

/* ssh-keygen -t type -N pass -f tdir/name */
static void
keygen(const char *type, const char *pass, const char *name)
{
	char	cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t %s -N '%s' -C test "
	    "-f '%s/%s' </dev/null >/dev/null 2>&1", type, pass, tdir, name);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static char *
slurp(const char *name, size_t *len)
{
	char	 p[PATH_MAX], *s;
	FILE	*f;
	long	 n;

	snprintf(p, sizeof(p), "%s/%s", tdir, name);
	cr_assert_not_null(f = fopen(p, "rb"), "%s", p);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	cr_assert_not_null(s = calloc(1, (size_t)n + 1));
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return s;
}

static int
parse_priv_text(const char *text, size_t len, struct sshkey_ed25519 *k)
{
	struct buf	b;

	buf_init(&b, text, len);
	return sshkey_priv_parse(&b, k);
}

static int
parse_priv(const char *name, struct sshkey_ed25519 *k)
{
	char	*s;
	size_t	 len;
	int	 e;

	s = slurp(name, &len);
	e = parse_priv_text(s, len, k);
	free(s);
	return e;
}

static int
parse_pub_text(const char *line, uint8_t pub[SEALBOX_ED25519_PUB])
{
	struct buf	b;

	buf_init(&b, line, strlen(line));
	return sshkey_pub_parse(&b, pub);
}

/* The private key's decoded blob, for tests that alter a field. */
static size_t
priv_blob(const char *name, uint8_t *bin, size_t binsz)
{
	char	*s, *b64, *p, *q;
	size_t	 len, binlen;

	s = slurp(name, &len);
	cr_assert_not_null(p = strstr(s, "-----\n"));
	p += 6;
	cr_assert_not_null(q = strstr(p, "-----END"));
	cr_assert_not_null(b64 = calloc(1, (size_t)(q - p) + 1));
	for (len = 0; p < q; p++)
		if (*p != '\n')
			b64[len++] = *p;
	cr_assert_eq(sodium_base642bin(bin, binsz, b64, len, NULL, &binlen,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	free(b64);
	free(s);
	return binlen;
}

/* Armor a blob again, wrapped at 70 columns as ssh-keygen does. */
static int
parse_blob(const uint8_t *bin, size_t len, struct sshkey_ed25519 *k)
{
	char	b64[4096], text[4096 + 200];
	size_t	n, i, o;
	int	e;

	sodium_bin2base64(b64, sizeof(b64), bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
	o = (size_t)snprintf(text, sizeof(text),
	    "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	n = strlen(b64);
	for (i = 0; i < n; i += 70)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%.70s\n",
		    b64 + i);
	o += (size_t)snprintf(text + o, sizeof(text) - o,
	    "-----END OPENSSH PRIVATE KEY-----\n");
	e = parse_priv_text(text, o, k);
	return e;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

Test(sshkey, ed25519_private_key_matches_public_and_signs)
{
	struct sshkey_ed25519	k;
	uint8_t			pub[SEALBOX_ED25519_PUB];
	uint8_t			sig[crypto_sign_BYTES];
	char			*line;
	size_t			len;
	struct buf		b;

	keygen("ed25519", "", "id");
	line = slurp("id.pub", &len);
	buf_init(&b, line, len);
	cr_assert_eq(sshkey_pub_parse(&b, pub), SSHKEY_OK, "%s", line);
	cr_assert_eq(parse_priv("id", &k), SSHKEY_OK);
	cr_expect_eq(memcmp(k.ek_pub, pub, sizeof(pub)), 0);
	/* The secret key is libsodium's seed || public key. */
	cr_expect_eq(memcmp(&k.ek_priv[32], pub, sizeof(pub)), 0);
	crypto_sign_detached(sig, NULL, (const uint8_t *)"m", 1, k.ek_priv);
	cr_expect_eq(crypto_sign_verify_detached(sig, (const uint8_t *)"m", 1,
	    pub), 0);
	free(line);
}

Test(sshkey, seal_to_pub_file_open_with_private_file)
{
	struct sshkey_ed25519	k;
	uint8_t			pub[SEALBOX_ED25519_PUB], pt[SEALBOX_PLAIN_MAX];
	char			value[SEALBOX_VALUE_MAX + 1], p[PATH_MAX];
	size_t			len = 0;
	struct buf		v;

	keygen("ed25519", "", "id");
	snprintf(p, sizeof(p), "%s/id.pub", tdir);
	cr_assert_eq(sshkey_pub_file(p, pub), 0);
	cr_assert_eq(sealbox_seal(pub, (const uint8_t *)"pw", 2, value,
	    sizeof(value)), SEALBOX_OK);
	cr_assert_eq(parse_priv("id", &k), SSHKEY_OK);
	buf_init(&v, value, strlen(value));
	cr_assert_eq(sealbox_open(&v, k.ek_priv, pt, sizeof(pt), &len),
	    SEALBOX_OK);
	cr_expect_eq(len, 2);
	cr_expect_eq(memcmp(pt, "pw", 2), 0);
}

Test(sshkey, crlf_and_blank_lines_are_accepted)
{
	struct sshkey_ed25519	 k;
	char			*s, *t;
	size_t			 len, i, o = 0;

	keygen("ed25519", "", "id");
	s = slurp("id", &len);
	cr_assert_not_null(t = calloc(1, 2 * len + 8));
	t[o++] = '\n';
	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			t[o++] = '\r';
		t[o++] = s[i];
	}
	cr_expect_eq(parse_priv_text(t, o, &k), SSHKEY_OK);
	free(s);
	free(t);
}

Test(sshkey, encrypted_key_is_refused)
{
	struct sshkey_ed25519	k;
	size_t			i;

	keygen("ed25519", "correct horse", "enc");
	memset(&k, 0xa5, sizeof(k));
	cr_expect_eq(parse_priv("enc", &k), SSHKEY_EENCRYPTED);
	for (i = 0; i < sizeof(k.ek_priv); i++)
		cr_assert_eq(k.ek_priv[i], 0, "key bytes left on failure");
}

Test(sshkey, other_key_types_are_refused)
{
	struct sshkey_ed25519	 k;
	uint8_t			 pub[SEALBOX_ED25519_PUB];
	char			*line;
	size_t			 len;
	struct buf		 b;

	keygen("rsa", "", "rsa");
	keygen("ecdsa", "", "ecdsa");
	cr_expect_eq(parse_priv("rsa", &k), SSHKEY_ETYPE);
	cr_expect_eq(parse_priv("ecdsa", &k), SSHKEY_ETYPE);
	line = slurp("rsa.pub", &len);
	buf_init(&b, line, len);
	cr_expect_eq(sshkey_pub_parse(&b, pub), SSHKEY_ETYPE);
	free(line);
	line = slurp("ecdsa.pub", &len);
	buf_init(&b, line, len);
	cr_expect_eq(sshkey_pub_parse(&b, pub), SSHKEY_ETYPE);
	free(line);
}

Test(sshkey, altered_private_fields_are_refused)
{
	struct sshkey_ed25519	k;
	uint8_t			bin[1024], work[1024];
	size_t			len;

	keygen("ed25519", "", "id");
	len = priv_blob("id", bin, sizeof(bin));
	cr_assert_eq(memcmp(&bin[OFF_CIPHER], "\0\0\0\4none", 8), 0);
	cr_assert_eq(parse_blob(bin, len, &k), SSHKEY_OK);

#define ALTER(what, off, want) do {					\
	memcpy(work, bin, len);						\
	work[(off)] ^= 0x01;						\
	cr_expect_eq(parse_blob(work, len, &k), (want), "%s", what);	\
} while (0)
	ALTER("magic", 3, SSHKEY_EFORMAT);
	ALTER("cipher name", OFF_CIPHER + 4, SSHKEY_EENCRYPTED);
	ALTER("kdf name", OFF_KDF + 4, SSHKEY_EFORMAT);
	ALTER("key count", OFF_NKEYS + 3, SSHKEY_EFORMAT);
	ALTER("check word", OFF_CHECK2, SSHKEY_EFORMAT);
	ALTER("inner public key", OFF_PUB2, SSHKEY_EFORMAT);
	ALTER("seed", OFF_SEED, SSHKEY_EFORMAT);
	ALTER("public half", OFF_PUB3, SSHKEY_EFORMAT);
	ALTER("last padding byte", len - 1, SSHKEY_EFORMAT);
#undef ALTER

	/* Bytes after the private section. */
	memcpy(work, bin, len);
	work[len] = 0;
	cr_expect_eq(parse_blob(work, len + 1, &k), SSHKEY_EFORMAT);
	/* A private section whose length is not a multiple of 8. */
	memcpy(work, bin, len);
	put_u32(&work[OFF_PRIVLEN], (uint32_t)(len - OFF_PRIVLEN - 4 - 1));
	cr_expect_eq(parse_blob(work, len - 1, &k), SSHKEY_EFORMAT);
	/* Truncated anywhere. */
	for (size_t n = 0; n < len; n += 7)
		cr_expect_eq(parse_blob(bin, n, &k), SSHKEY_EFORMAT, "at %zu",
		    n);
}

Test(sshkey, armor_is_checked)
{
	struct sshkey_ed25519	 k;
	char			*s, *p;
	size_t			 len;
	struct buf		 b;

	keygen("ed25519", "", "id");
	s = slurp("id", &len);
	buf_init(&b, s, len);
	cr_expect(sshkey_is_private(&b));
	/* No END line. */
	p = strstr(s, "-----END");
	cr_assert_not_null(p);
	cr_expect_eq(parse_priv_text(s, (size_t)(p - s), &k), SSHKEY_EFORMAT);
	/* A character outside base64 in the body. */
	s[40] = '*';
	cr_expect_eq(parse_priv_text(s, len, &k), SSHKEY_EFORMAT);
	free(s);

	cr_expect_eq(parse_priv_text("", 0, &k), SSHKEY_EFORMAT);
	cr_expect_eq(parse_priv_text("-----BEGIN RSA PRIVATE KEY-----\n", 32,
	    &k), SSHKEY_EFORMAT);
	buf_init(&b, "-----BEGIN PRIVATE KEY-----\n", 28);
	cr_expect(!sshkey_is_private(&b));
	buf_init(&b, "\n\n-----BEGIN OPENSSH PRIVATE KEY-----\r\n", 39);
	cr_expect(sshkey_is_private(&b));
}

Test(sshkey, public_key_lines)
{
	uint8_t		 pub[SEALBOX_ED25519_PUB], pub2[SEALBOX_ED25519_PUB];
	char		*line, buf[512], *b64, *sp;
	size_t		 len;

	keygen("ed25519", "", "id");
	line = slurp("id.pub", &len);
	line[strcspn(line, "\n")] = '\0';
	cr_assert_eq(parse_pub_text(line, pub), SSHKEY_OK);
	sp = strchr(line, ' ');
	b64 = sp + 1;
	*strchr(b64, ' ') = '\0';

	/* No comment, tabs, blanks around it. */
	snprintf(buf, sizeof(buf), "ssh-ed25519 %s", b64);
	cr_expect_eq(parse_pub_text(buf, pub2), SSHKEY_OK);
	cr_expect_eq(memcmp(pub, pub2, sizeof(pub)), 0);
	snprintf(buf, sizeof(buf), "  ssh-ed25519\t%s  a comment here \t",
	    b64);
	cr_expect_eq(parse_pub_text(buf, pub2), SSHKEY_OK);
	/* Broken ones. */
	cr_expect_eq(parse_pub_text("", pub2), SSHKEY_EFORMAT);
	cr_expect_eq(parse_pub_text("ssh-ed25519", pub2), SSHKEY_EFORMAT);
	cr_expect_eq(parse_pub_text("ssh-ed25519 !!!!", pub2), SSHKEY_EFORMAT);
	snprintf(buf, sizeof(buf), "ssh-ed25519 %.*s", (int)strlen(b64) - 4,
	    b64);
	cr_expect_eq(parse_pub_text(buf, pub2), SSHKEY_EFORMAT);
	/* The type word and the blob disagree. */
	snprintf(buf, sizeof(buf), "ssh-rsa %s", b64);
	cr_expect_eq(parse_pub_text(buf, pub2), SSHKEY_EFORMAT);
	snprintf(buf, sizeof(buf), "ssh-ed25519-cert-v01@openssh.com %s",
	    b64);
	cr_expect_eq(parse_pub_text(buf, pub2), SSHKEY_EFORMAT);
	free(line);
}

Test(sshkey, public_blob_with_trailing_bytes_is_refused)
{
	uint8_t	blob[64], pub[SEALBOX_ED25519_PUB];
	char	b64[128], line[200];

	put_u32(blob, 11);
	memcpy(&blob[4], "ssh-ed25519", 11);
	put_u32(&blob[15], 32);
	memset(&blob[19], 0x42, 32);
	sodium_bin2base64(b64, sizeof(b64), blob, 51,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof(line), "ssh-ed25519 %s", b64);
	cr_expect_eq(parse_pub_text(line, pub), SSHKEY_OK);
	blob[51] = 0;
	sodium_bin2base64(b64, sizeof(b64), blob, 52,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof(line), "ssh-ed25519 %s", b64);
	cr_expect_eq(parse_pub_text(line, pub), SSHKEY_EFORMAT);
	put_u32(&blob[15], 31);
	sodium_bin2base64(b64, sizeof(b64), blob, 50,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof(line), "ssh-ed25519 %s", b64);
	cr_expect_eq(parse_pub_text(line, pub), SSHKEY_EFORMAT);
}

Test(sshkey, pub_file_errors, .init = cr_redirect_stderr)
{
	uint8_t	pub[SEALBOX_ED25519_PUB];
	char	p[PATH_MAX];

	keygen("ed25519", "", "id");
	snprintf(p, sizeof(p), "%s/id", tdir);
	cr_expect_eq(sshkey_pub_file(p, pub), -1);
	snprintf(p, sizeof(p), "%s/missing", tdir);
	cr_expect_eq(sshkey_pub_file(p, pub), -1);
	cr_expect_eq(sshkey_pub_file(tdir, pub), -1);
	fflush(stderr);
	/* Said why, without quoting the private key ("openssh-key-v1"). */
	cr_expect_stderr_neq_str("");
}

Test(sshkey, pub_file_error_does_not_quote_the_key,
    .init = cr_redirect_stderr)
{
	uint8_t	 pub[SEALBOX_ED25519_PUB];
	char	 p[PATH_MAX], text[4096];
	size_t	 n;
	FILE	*f;

	keygen("ed25519", "", "id");
	snprintf(p, sizeof(p), "%s/id", tdir);
	cr_expect_eq(sshkey_pub_file(p, pub), -1);
	fflush(stderr);
	cr_assert_not_null(f = cr_get_redirected_stderr());
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	cr_expect_not_null(strstr(text, "private key"), "%s", text);
	cr_expect_null(strstr(text, "b3BlbnNzaC1rZXktdjE"), "%s", text);
}
