/* SPDX-License-Identifier: ISC */
/*
 * Stateless session tokens, with the clock as a parameter: issue and
 * verify, binding to identity and listener class, expiry, tampering, a
 * wrong key, and rotation with a previous key still accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "broker/tokens.h"
#include "privsep/msg.h"

#define T0	1781000000000ULL	/* ms since the epoch; any will do */

static const uint8_t	key_a[] = "0123456789abcdef0123456789abcdef";
static const uint8_t	key_b[] = "fedcba9876543210fedcba9876543210";
static const uint8_t	key_c[] = "a third key, thirty-two bytes...";

static void
setup(void)
{
	cr_assert_neq(sodium_init(), -1);
	tokens_init();
}

TestSuite(tokens, .init = setup);

/* Put cur (and prev, may be NULL) in force, as every node would. */
static void
use_keys(const uint8_t *cur, const uint8_t *prev)
{
	struct tokens_ring	*r;
	char			 err[128];

	cr_assert_eq(tokens_keys(cur, cur ? 32 : 0, prev, prev ? 32 : 0, &r,
	    err, sizeof(err)), 0, "%s", err);
	tokens_commit(r);
}

static void
issue(int class, const char *bind, uint32_t ttl, uint64_t now,
    char tok[TOKEN_LEN + 1])
{
	cr_assert_eq(tokens_issue(class, bind, ttl, now, tok, TOKEN_LEN + 1),
	    0, "issue for %s", bind);
	cr_assert_eq(strlen(tok), TOKEN_LEN);
	cr_assert_eq(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_"), TOKEN_LEN);
}

Test(tokens, issue_and_verify)
{
	char	tok[TOKEN_LEN + 1], tok2[TOKEN_LEN + 1];

	use_keys(key_a, NULL);
	issue(IDENT_DIRECT, "10.0.0.5", 60, T0, tok);
	cr_assert(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0));
	/* Another node with the same key: nothing but the key is shared. */
	tokens_init();
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0));
	use_keys(key_a, NULL);
	cr_assert(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0 + 1));
	/* Any number of tokens, all live: there is no table to fill. */
	issue(IDENT_DIRECT, "10.0.0.5", 60, T0 + 1, tok2);
	cr_assert_str_neq(tok, tok2);
	cr_assert(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0 + 2));
	cr_assert(tokens_check(tok2, IDENT_DIRECT, "10.0.0.5", T0 + 2));
}

Test(tokens, bound_to_its_identity)
{
	char	tok[TOKEN_LEN + 1];

	use_keys(key_a, NULL);
	issue(IDENT_DIRECT, "10.0.0.5", 60, T0, tok);
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.6", T0));
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5 ", T0));
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.", T0));
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5@net", T0));
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "", T0));
}

/* The same string names a different guest behind the proxy. */
Test(tokens, bound_to_its_listener_class)
{
	char	tok[TOKEN_LEN + 1];

	use_keys(key_a, NULL);
	issue(IDENT_PROXY, "inst-a", 60, T0, tok);
	cr_assert(tokens_check(tok, IDENT_PROXY, "inst-a", T0));
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "inst-a", T0));
	issue(IDENT_DIRECT, "inst-a", 60, T0, tok);
	cr_assert_not(tokens_check(tok, IDENT_PROXY, "inst-a", T0));
}

/* As before: live while now is before issue time + ttl. */
Test(tokens, expire_after_ttl)
{
	char	tok[TOKEN_LEN + 1];

	use_keys(key_a, NULL);
	issue(IDENT_PROXY, "inst-a", 30, T0, tok);
	cr_assert(tokens_check(tok, IDENT_PROXY, "inst-a", T0 + 30 * 1000 - 1));
	cr_assert_not(tokens_check(tok, IDENT_PROXY, "inst-a", T0 + 30 * 1000));
	issue(IDENT_PROXY, "inst-a", TOKEN_TTL_MAX, T0, tok);
	cr_assert(tokens_check(tok, IDENT_PROXY, "inst-a",
	    T0 + TOKEN_TTL_MAX * 1000ULL - 1));
	cr_assert_not(tokens_check(tok, IDENT_PROXY, "inst-a",
	    T0 + TOKEN_TTL_MAX * 1000ULL));
}

/* Every bit of the token counts; so do its length and alphabet. */
Test(tokens, tampered_tokens_fail)
{
	char	tok[TOKEN_LEN + 1], bad[TOKEN_LEN + 2];
	size_t	i;

	use_keys(key_a, NULL);
	issue(IDENT_DIRECT, "10.0.0.5", 60, T0, tok);
	for (i = 0; i < TOKEN_LEN; i++) {
		memcpy(bad, tok, TOKEN_LEN + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		cr_assert_not(tokens_check(bad, IDENT_DIRECT, "10.0.0.5", T0),
		    "changed at %zu", i);
		bad[i] = '=';
		cr_assert_not(tokens_check(bad, IDENT_DIRECT, "10.0.0.5", T0));
	}
	memcpy(bad, tok, TOKEN_LEN + 1);
	bad[TOKEN_LEN - 1] = '\0';
	cr_assert_not(tokens_check(bad, IDENT_DIRECT, "10.0.0.5", T0));
	memcpy(bad, tok, TOKEN_LEN);
	bad[TOKEN_LEN] = 'A';
	bad[TOKEN_LEN + 1] = '\0';
	cr_assert_not(tokens_check(bad, IDENT_DIRECT, "10.0.0.5", T0));
	cr_assert_not(tokens_check("", IDENT_DIRECT, "10.0.0.5", T0));
}

/* A later expiry cannot be written in: the MAC covers it. */
Test(tokens, expiry_cannot_be_extended)
{
	char		tok[TOKEN_LEN + 1];
	uint8_t		raw[45];
	size_t		len;

	use_keys(key_a, NULL);
	issue(IDENT_DIRECT, "10.0.0.5", 1, T0, tok);
	cr_assert_eq(sodium_base642bin(raw, sizeof(raw), tok, TOKEN_LEN, NULL,
	    &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	cr_assert_eq(len, sizeof(raw));
	cr_assert_eq(raw[0], 1, "version");
	raw[5] = 0x7f;		/* the expiry's top byte: far future */
	sodium_bin2base64(tok, sizeof(tok), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0));
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0 + 5000));
}

Test(tokens, wrong_key_fails)
{
	char	tok[TOKEN_LEN + 1];

	use_keys(key_a, NULL);
	issue(IDENT_DIRECT, "10.0.0.5", 60, T0, tok);
	use_keys(key_b, NULL);
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0));
	/* A node without a configured key has its own. */
	use_keys(NULL, NULL);
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0));
}

/*
 * Rotation: a new key issues while the previous one still verifies the
 * tokens it issued; once it is dropped they fail.
 */
Test(tokens, rotation_accepts_the_previous_key)
{
	char	old[TOKEN_LEN + 1], new[TOKEN_LEN + 1], pre[TOKEN_LEN + 1];

	use_keys(key_a, NULL);
	issue(IDENT_DIRECT, "10.0.0.5", 600, T0, old);
	/* Step 1: the next key accepted, not yet issuing. */
	use_keys(key_a, key_b);
	issue(IDENT_DIRECT, "10.0.0.5", 600, T0, pre);
	cr_assert(tokens_check(old, IDENT_DIRECT, "10.0.0.5", T0));
	/* Step 2: it issues; the old one is accepted. */
	use_keys(key_b, key_a);
	issue(IDENT_DIRECT, "10.0.0.5", 600, T0, new);
	cr_assert(tokens_check(old, IDENT_DIRECT, "10.0.0.5", T0));
	cr_assert(tokens_check(pre, IDENT_DIRECT, "10.0.0.5", T0));
	cr_assert(tokens_check(new, IDENT_DIRECT, "10.0.0.5", T0));
	cr_assert_not(tokens_check(old, IDENT_DIRECT, "10.0.0.6", T0));
	/* Step 3: the old key gone, its tokens fail; the new ones live. */
	use_keys(key_b, NULL);
	cr_assert_not(tokens_check(old, IDENT_DIRECT, "10.0.0.5", T0));
	cr_assert(tokens_check(new, IDENT_DIRECT, "10.0.0.5", T0));
	/* An unrelated previous key does not bring old tokens back. */
	use_keys(key_b, key_c);
	cr_assert_not(tokens_check(old, IDENT_DIRECT, "10.0.0.5", T0));
}

/* Without a configured key a reload keeps this node's own key. */
Test(tokens, own_key_survives_a_reload_without_a_key)
{
	char	tok[TOKEN_LEN + 1];

	issue(IDENT_DIRECT, "10.0.0.5", 60, T0, tok);
	use_keys(NULL, NULL);
	cr_assert(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0));
	/* From a shared key back to none: a new key of its own. */
	use_keys(key_a, NULL);
	issue(IDENT_DIRECT, "10.0.0.5", 60, T0, tok);
	use_keys(NULL, NULL);
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, "10.0.0.5", T0));
}

Test(tokens, keys_refused)
{
	struct tokens_ring	*r = (struct tokens_ring *)1;
	char			 err[128];

	cr_assert_eq(tokens_keys(key_a, 31, NULL, 0, &r, err, sizeof(err)),
	    -1);
	cr_assert_null(r);
	cr_assert_not_null(strstr(err, "shorter than 32"), "%s", err);
	cr_assert_eq(tokens_keys(key_a, 32, key_b, 31, &r, err, sizeof(err)),
	    -1);
	cr_assert_eq(tokens_keys(NULL, 0, key_b, 32, &r, err, sizeof(err)),
	    -1);
	cr_assert_eq(tokens_keys(key_a, 32, key_a, 32, &r, err, sizeof(err)),
	    -1);
	cr_assert_not_null(strstr(err, "the same"), "%s", err);
	cr_assert_null(r);
}

Test(tokens, refuses_bad_arguments)
{
	char	tok[TOKEN_LEN + 1], small[TOKEN_LEN];
	char	longbind[ADDR_MAX + 2];

	memset(longbind, 'a', sizeof(longbind) - 1);
	longbind[sizeof(longbind) - 1] = '\0';
	cr_assert_eq(tokens_issue(IDENT_DIRECT, "x", 0, T0, tok, sizeof(tok)),
	    -1);
	cr_assert_eq(tokens_issue(IDENT_DIRECT, "x", TOKEN_TTL_MAX + 1, T0,
	    tok, sizeof(tok)), -1);
	cr_assert_eq(tokens_issue(IDENT_DIRECT, "x", TOKEN_TTL_MAX, T0, tok,
	    sizeof(tok)), 0);
	cr_assert_eq(tokens_issue(IDENT_DIRECT, "x", 1, T0, small,
	    sizeof(small)), -1);
	cr_assert_eq(tokens_issue(IDENT_DIRECT, longbind, 1, T0, tok,
	    sizeof(tok)), -1);
	cr_assert_not(tokens_check(tok, IDENT_DIRECT, longbind, T0));
	longbind[ADDR_MAX] = '\0';
	cr_assert_eq(tokens_issue(IDENT_DIRECT, longbind, 1, T0, tok,
	    sizeof(tok)), 0);
	cr_assert(tokens_check(tok, IDENT_DIRECT, longbind, T0));
}
