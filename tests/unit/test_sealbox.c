/* SPDX-License-Identifier: ISC */
/*
 * client/sealbox.c: the "sx1:" sealed-box format.  Round trips, the wrong
 * key, altered values, the 714-byte password limit and the 1020-byte
 * value it makes, and strict parsing of what decrypt reads.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "client/sealbox.h"

static uint8_t	pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static uint8_t	pk2[crypto_sign_PUBLICKEYBYTES];
static uint8_t	sk2[crypto_sign_SECRETKEYBYTES];

static void
setup(void)
{
	cr_assert_neq(sodium_init(), -1);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
}

TestSuite(sealbox, .init = setup);

static void
seal_ok(const uint8_t *pt, size_t len, char *value, size_t valuesz)
{
	int	e;

	e = sealbox_seal(pk, pt, len, value, valuesz);
	cr_assert_eq(e, SEALBOX_OK, "seal: %s", sealbox_strerror(e));
}

static int
open_value(const char *value, const uint8_t *key, uint8_t *pt, size_t *len)
{
	struct buf	v;

	buf_init(&v, value, strlen(value));
	return sealbox_open(&v, key, pt, SEALBOX_PLAIN_MAX, len);
}

Test(sealbox, limits_are_what_the_readme_says)
{
	cr_expect_eq(SEALBOX_BOX_MAX, 762);
	cr_expect_eq(SEALBOX_PLAIN_MAX, 714);
	cr_expect_eq(crypto_box_SEALBYTES, SEALBOX_OVERHEAD);
}

Test(sealbox, round_trip)
{
	static const char	pw[] = "P@ssw0rd-\xc3\xa9\xe4\xb8\xad";
	char			value[SEALBOX_VALUE_MAX + 1];
	char			value2[sizeof(value)];
	uint8_t			pt[SEALBOX_PLAIN_MAX];
	size_t			len = 0, i;
	struct buf		v;

	seal_ok((const uint8_t *)pw, strlen(pw), value, sizeof(value));
	cr_expect_eq(strncmp(value, "sx1:", 4), 0, "%s", value);
	/* One line of padded standard base64 after the prefix, no ':'. */
	cr_expect_null(strchr(value + 4, ':'));
	cr_expect_eq(strlen(value + 4) % 4, 0);
	for (i = 4; value[i] != '\0'; i++)
		cr_expect(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
		    "opqrstuvwxyz0123456789+/=", value[i]) != NULL,
		    "char %zu", i);
	buf_init(&v, value, strlen(value));
	cr_expect(sealbox_is_sealed(&v));
	cr_assert_eq(open_value(value, sk, pt, &len), SEALBOX_OK);
	cr_assert_eq(len, strlen(pw));
	cr_expect_eq(memcmp(pt, pw, len), 0);

	/* A fresh ephemeral key every time. */
	seal_ok((const uint8_t *)pw, strlen(pw), value2, sizeof(value2));
	cr_expect_str_neq(value, value2);
	cr_expect_eq(open_value(value2, sk, pt, &len), SEALBOX_OK);
}

Test(sealbox, one_byte_password)
{
	char	value[SEALBOX_VALUE_MAX + 1];
	uint8_t	pt[SEALBOX_PLAIN_MAX];
	size_t	len = 0;

	seal_ok((const uint8_t *)"x", 1, value, sizeof(value));
	cr_expect_eq(strlen(value), 4 + 68);	/* 49 bytes of base64 */
	cr_assert_eq(open_value(value, sk, pt, &len), SEALBOX_OK);
	cr_expect_eq(len, 1);
	cr_expect_eq(pt[0], 'x');
}

Test(sealbox, wrong_key_fails)
{
	char	value[SEALBOX_VALUE_MAX + 1];
	uint8_t	pt[SEALBOX_PLAIN_MAX];
	size_t	len = 12345;

	seal_ok((const uint8_t *)"secret", 6, value, sizeof(value));
	cr_expect_eq(open_value(value, sk2, pt, &len), SEALBOX_EOPEN);
	cr_expect_eq(len, 12345, "length set on failure");
}

Test(sealbox, every_altered_byte_fails)
{
	char	value[SEALBOX_VALUE_MAX + 8], b64[SEALBOX_VALUE_MAX];
	uint8_t	box[SEALBOX_BOX_MAX], pt[SEALBOX_PLAIN_MAX];
	size_t	boxlen, i, len;
	int	e;

	seal_ok((const uint8_t *)"tamper-me", 9, value, sizeof(value));
	cr_assert_eq(sodium_base642bin(box, sizeof(box), value + 4,
	    strlen(value + 4), NULL, &boxlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL), 0);
	cr_assert_eq(boxlen, 9 + SEALBOX_OVERHEAD);
	/* Ephemeral key, tag and ciphertext: each byte is covered. */
	for (i = 0; i < boxlen; i++) {
		box[i] ^= 0x01;
		sodium_bin2base64(b64, sizeof(b64), box, boxlen,
		    sodium_base64_VARIANT_ORIGINAL);
		snprintf(value, sizeof(value), "sx1:%s", b64);
		e = open_value(value, sk, pt, &len);
		cr_expect_eq(e, SEALBOX_EOPEN, "byte %zu: %d", i, e);
		box[i] ^= 0x01;
	}
	/* A truncated box is refused too. */
	sodium_bin2base64(b64, sizeof(b64), box, boxlen - 1,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(value, sizeof(value), "sx1:%s", b64);
	cr_expect_eq(open_value(value, sk, pt, &len), SEALBOX_EOPEN);
}

Test(sealbox, length_limit)
{
	uint8_t	pt[SEALBOX_PLAIN_MAX + 1], out[SEALBOX_PLAIN_MAX];
	char	value[SEALBOX_VALUE_MAX + 1], big[2048];
	size_t	len = 0;

	memset(pt, 'a', sizeof(pt));
	seal_ok(pt, SEALBOX_PLAIN_MAX, value, sizeof(value));
	cr_expect_eq(strlen(value), SEALBOX_VALUE_MAX,
	    "the longest value is exactly Nova's limit");
	cr_assert_eq(open_value(value, sk, out, &len), SEALBOX_OK);
	cr_expect_eq(len, SEALBOX_PLAIN_MAX);
	cr_expect_eq(sealbox_seal(pk, pt, SEALBOX_PLAIN_MAX + 1, big,
	    sizeof(big)), SEALBOX_ETOOLONG);
	cr_expect_eq(sealbox_seal(pk, pt, 0, value, sizeof(value)),
	    SEALBOX_EEMPTY);
	/* The caller's buffer must hold the value and its NUL. */
	cr_expect_eq(sealbox_seal(pk, pt, SEALBOX_PLAIN_MAX, value,
	    SEALBOX_VALUE_MAX), SEALBOX_ESPACE);
	/* And opening wants room for the password. */
	cr_expect_eq(sealbox_seal(pk, pt, 10, value, sizeof(value)),
	    SEALBOX_OK);
	{
		struct buf	v;

		buf_init(&v, value, strlen(value));
		cr_expect_eq(sealbox_open(&v, sk, out, 9, &len),
		    SEALBOX_ESPACE);
	}
}

Test(sealbox, bad_public_key)
{
	uint8_t	small[SEALBOX_ED25519_PUB] = { 1 };	/* the identity */
	char	value[SEALBOX_VALUE_MAX + 1];

	cr_expect_eq(sealbox_seal(small, (const uint8_t *)"x", 1, value,
	    sizeof(value)), SEALBOX_EKEY);
	memset(small, 0, sizeof(small));
	cr_expect_eq(sealbox_seal(small, (const uint8_t *)"x", 1, value,
	    sizeof(value)), SEALBOX_EKEY);
}

Test(sealbox, strict_format)
{
	char		value[SEALBOX_VALUE_MAX + 1], bad[2048];
	uint8_t		pt[SEALBOX_PLAIN_MAX], box[SEALBOX_OVERHEAD];
	size_t		len, n;
	struct buf	v;

	seal_ok((const uint8_t *)"fmt", 3, value, sizeof(value));
	n = strlen(value);

	/* The caller trims; a newline or blank left in is an error. */
	snprintf(bad, sizeof(bad), "%s\n", value);
	cr_expect_eq(open_value(bad, sk, pt, &len), SEALBOX_EFORMAT);
	snprintf(bad, sizeof(bad), " %s", value);
	cr_expect_eq(open_value(bad, sk, pt, &len), SEALBOX_EFORMAT);
	/* Other prefixes and versions, RSA base64, empty bodies. */
	snprintf(bad, sizeof(bad), "sx2:%s", value + 4);
	cr_expect_eq(open_value(bad, sk, pt, &len), SEALBOX_EFORMAT);
	cr_expect_eq(open_value(value + 4, sk, pt, &len), SEALBOX_EFORMAT);
	cr_expect_eq(open_value("sx1:", sk, pt, &len), SEALBOX_EFORMAT);
	cr_expect_eq(open_value("SX1:AAAA", sk, pt, &len), SEALBOX_EFORMAT);
	/* Unpadded, urlsafe, bad characters. */
	memcpy(bad, value, n + 1);
	while (bad[strlen(bad) - 1] == '=')
		bad[strlen(bad) - 1] = '\0';
	if (strlen(bad) != n)
		cr_expect_eq(open_value(bad, sk, pt, &len), SEALBOX_EFORMAT);
	memcpy(bad, value, n + 1);
	bad[10] = '-';
	cr_expect_eq(open_value(bad, sk, pt, &len), SEALBOX_EFORMAT);
	memcpy(bad, value, n + 1);
	bad[10] = '\0';
	buf_init(&v, bad, n);	/* a NUL inside */
	cr_expect_eq(sealbox_open(&v, sk, pt, sizeof(pt), &len),
	    SEALBOX_EFORMAT);
	/* Exactly the overhead: no password at all. */
	memset(box, 0, sizeof(box));
	memcpy(bad, "sx1:", 4);
	sodium_bin2base64(bad + 4, sizeof(bad) - 4, box, sizeof(box),
	    sodium_base64_VARIANT_ORIGINAL);
	cr_expect_eq(open_value(bad, sk, pt, &len), SEALBOX_EFORMAT);
	/* Longer than 1020 bytes. */
	memset(bad, 'A', sizeof(bad));
	memcpy(bad, "sx1:", 4);
	bad[4 + 1020] = '\0';
	cr_expect_eq(open_value(bad, sk, pt, &len), SEALBOX_EFORMAT);
}

Test(sealbox, noncanonical_base64_is_refused)
{
	char	value[SEALBOX_VALUE_MAX + 1];
	uint8_t	pt[SEALBOX_PLAIN_MAX];
	size_t	len, n;
	char	*last;

	/* 49 bytes: "==" padding, so the last digit has 4 spare bits. */
	seal_ok((const uint8_t *)"x", 1, value, sizeof(value));
	n = strlen(value);
	cr_assert_eq(value[n - 1], '=');
	cr_assert_eq(value[n - 2], '=');
	last = &value[n - 3];
	/* Set a spare bit: same bytes, another spelling. */
	if (strchr("AQgw", *last) != NULL) {
		*last = (char)(*last + 1);
		cr_expect_eq(open_value(value, sk, pt, &len),
		    SEALBOX_EFORMAT);
	}
}

Test(sealbox, is_sealed)
{
	struct buf	v;

	buf_init(&v, "sx1:", 4);
	cr_expect(sealbox_is_sealed(&v));
	buf_init(&v, "sx1", 3);
	cr_expect(!sealbox_is_sealed(&v));
	buf_init(&v, "AAAA", 4);
	cr_expect(!sealbox_is_sealed(&v));
	cr_expect_str_neq(sealbox_strerror(SEALBOX_ETOOLONG), "");
	cr_expect_not_null(strstr(sealbox_strerror(SEALBOX_ETOOLONG), "714"));
}
