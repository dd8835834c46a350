/* SPDX-License-Identifier: ISC */
/*
 * Session tokens, in the broker's event loop: issued to a guest identity
 * for a TTL and checked on later requests, by a MAC under a key every
 * node shares, so that nothing is kept per token (tokens.h).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "privsep/log.h"
#include "privsep/msg.h"
#include "tokens.h"

#define TOKEN_VERSION	1
#define TOKEN_KID_LEN	4
#define TOKEN_HEAD_LEN	(1 + TOKEN_KID_LEN + 8)
#define TOKEN_MAC_LEN	32
#define TOKEN_RAW_LEN	(TOKEN_HEAD_LEN + TOKEN_MAC_LEN)
#define TOKEN_BIND_MAX	ADDR_MAX	/* a peer address or an instance id */

_Static_assert(TOKEN_LEN + 1 == sodium_base64_ENCODED_LEN(TOKEN_RAW_LEN,
    sodium_base64_VARIANT_URLSAFE_NO_PADDING), "TOKEN_LEN");
_Static_assert(TOKEN_BIND_MAX < 256, "a bind's length is one byte");

struct tokens_key {
	uint8_t		tk_mac[crypto_generichash_KEYBYTES];
	uint8_t		tk_kid[TOKEN_KID_LEN];
};

/* The current key issues and verifies; the previous one only verifies. */
struct tokens_ring {
	struct tokens_key	tr_cur;
	struct tokens_key	tr_prev;
	int			tr_have_prev;
	int			tr_shared;	/* 0: random, this process's */
};

/* sodium_malloc: guarded, locked, left out of core dumps; read-only. */
static struct tokens_ring	*tokens_ring;

/*
 * The MAC key from a token key file's bytes, with its own domain: the
 * same bytes used for anything else give an unrelated key.  The key id
 * is a keyed hash too: it names the key and tells nothing of it.
 */
static void
tokens_derive(struct tokens_key *k, const uint8_t *sec, size_t len)
{
	static const char		dom[] = "sealmd session token key v1";
	static const char		kid[] = "sealmd session token key id";
	crypto_generichash_state	st;
	uint8_t				h[crypto_generichash_BYTES_MIN];

	crypto_generichash_init(&st, NULL, 0, sizeof(k->tk_mac));
	crypto_generichash_update(&st, (const uint8_t *)dom, sizeof(dom));
	crypto_generichash_update(&st, sec, len);
	crypto_generichash_final(&st, k->tk_mac, sizeof(k->tk_mac));
	sodium_memzero(&st, sizeof(st));
	crypto_generichash(h, sizeof(h), (const uint8_t *)kid, sizeof(kid),
	    k->tk_mac, sizeof(k->tk_mac));
	memcpy(k->tk_kid, h, sizeof(k->tk_kid));
}

static void
tokens_use(struct tokens_ring *r)
{
	if (sodium_mprotect_readonly(r) == -1)
		fatal("%s", __func__);
	if (tokens_ring != NULL)
		sodium_free(tokens_ring);
	tokens_ring = r;
}

static struct tokens_ring *
tokens_ring_new(void)
{
	struct tokens_ring	*r;

	if ((r = sodium_malloc(sizeof(*r))) == NULL)
		fatal("%s", __func__);
	memset(r, 0, sizeof(*r));
	return r;
}

/* A random key of this process's own: tokens work on this node only. */
void
tokens_init(void)
{
	struct tokens_ring	*r = tokens_ring_new();
	uint8_t			 sec[TOKENS_KEY_MIN];

	randombytes_buf(sec, sizeof(sec));
	tokens_derive(&r->tr_cur, sec, sizeof(sec));
	sodium_memzero(sec, sizeof(sec));
	tokens_use(r);
}

/*
 * A ring of the shared keys, to put in force with tokens_commit: cur
 * issues, prev (may be NULL) is still accepted.  Without either, *out is
 * NULL: this node's own random key.
 */
int
tokens_keys(const uint8_t *cur, size_t curlen, const uint8_t *prev,
    size_t prevlen, struct tokens_ring **out, char *err, size_t errlen)
{
	struct tokens_ring	*r;

	*out = NULL;
	if (cur == NULL) {
		if (prev == NULL)
			return 0;
		(void)snprintf(err, errlen, "a previous token key without a "
		    "current one");
		return -1;
	}
	if (curlen < TOKENS_KEY_MIN || (prev != NULL &&
	    prevlen < TOKENS_KEY_MIN)) {
		(void)snprintf(err, errlen, "a token key is shorter than %d "
		    "bytes", TOKENS_KEY_MIN);
		return -1;
	}
	r = tokens_ring_new();
	r->tr_shared = 1;
	tokens_derive(&r->tr_cur, cur, curlen);
	if (prev != NULL) {
		tokens_derive(&r->tr_prev, prev, prevlen);
		r->tr_have_prev = 1;
		if (memcmp(r->tr_cur.tk_kid, r->tr_prev.tk_kid,
		    TOKEN_KID_LEN) == 0) {
			sodium_free(r);
			(void)snprintf(err, errlen, "the current and previous "
			    "token keys are the same");
			return -1;
		}
	}
	*out = r;
	return 0;
}

/*
 * The ring from tokens_keys in force.  NULL: a random key of this
 * node's own, kept if there is one already (a reload keeps its tokens).
 */
void
tokens_commit(struct tokens_ring *r)
{
	if (r != NULL)
		tokens_use(r);
	else if (tokens_ring == NULL || tokens_ring->tr_shared)
		tokens_init();
}

void
tokens_discard(struct tokens_ring *r)
{
	if (r != NULL)
		sodium_free(r);
}

/* What verifies tokens, for the log: key ids are in every token. */
void
tokens_describe(char *buf, size_t bufsz)
{
	const struct tokens_ring	*r = tokens_ring;
	char				 cur[TOKEN_KID_LEN * 2 + 1];
	char				 prev[TOKEN_KID_LEN * 2 + 1];

	if (r == NULL || !r->tr_shared) {
		(void)snprintf(buf, bufsz, "a key of this node's own: tokens "
		    "are valid on this node only, until it stops");
		return;
	}
	sodium_bin2hex(cur, sizeof(cur), r->tr_cur.tk_kid, TOKEN_KID_LEN);
	sodium_bin2hex(prev, sizeof(prev), r->tr_prev.tk_kid, TOKEN_KID_LEN);
	(void)snprintf(buf, bufsz, "shared key %s%s%s", cur,
	    r->tr_have_prev ? ", previous " : "", r->tr_have_prev ? prev : "");
}

static void
tokens_mac(const struct tokens_key *k, const uint8_t *head, int class,
    const char *bind, uint8_t mac[TOKEN_MAC_LEN])
{
	crypto_generichash_state	st;
	uint8_t				c = (uint8_t)class;
	uint8_t				n = (uint8_t)strlen(bind);

	crypto_generichash_init(&st, k->tk_mac, sizeof(k->tk_mac),
	    TOKEN_MAC_LEN);
	crypto_generichash_update(&st, head, TOKEN_HEAD_LEN);
	crypto_generichash_update(&st, &c, sizeof(c));
	crypto_generichash_update(&st, &n, sizeof(n));
	crypto_generichash_update(&st, (const uint8_t *)bind, n);
	crypto_generichash_final(&st, mac, TOKEN_MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

/*
 * A token for bind on a listener of this identity class (IDENT_*),
 * valid ttl seconds from now_ms (wall clock: every node reads its own).
 */
int
tokens_issue(int class, const char *bind, uint32_t ttl, uint64_t now_ms,
    char *out, size_t outsz)
{
	const struct tokens_key	*k;
	uint8_t			 raw[TOKEN_RAW_LEN];
	uint64_t		 exp;
	size_t			 i;

	if (tokens_ring == NULL)
		fatalx("%s: no token key", __func__);
	if (strlen(bind) > TOKEN_BIND_MAX || outsz < TOKEN_LEN + 1 ||
	    class < 0 || class > UINT8_MAX || ttl == 0 ||
	    ttl > TOKEN_TTL_MAX)
		return -1;
	k = &tokens_ring->tr_cur;
	exp = now_ms + (uint64_t)ttl * 1000;
	raw[0] = TOKEN_VERSION;
	memcpy(&raw[1], k->tk_kid, TOKEN_KID_LEN);
	for (i = 0; i < 8; i++)
		raw[1 + TOKEN_KID_LEN + i] = (uint8_t)(exp >> (56 - 8 * i));
	tokens_mac(k, raw, class, bind, &raw[TOKEN_HEAD_LEN]);
	sodium_bin2base64(out, outsz, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

static const struct tokens_key *
tokens_find(const uint8_t *kid)
{
	const struct tokens_ring	*r = tokens_ring;

	if (memcmp(kid, r->tr_cur.tk_kid, TOKEN_KID_LEN) == 0)
		return &r->tr_cur;
	if (r->tr_have_prev &&
	    memcmp(kid, r->tr_prev.tk_kid, TOKEN_KID_LEN) == 0)
		return &r->tr_prev;
	return NULL;
}

/* 1 when token was issued for class and bind and is live at now_ms. */
int
tokens_check(const char *token, int class, const char *bind,
    uint64_t now_ms)
{
	const struct tokens_key	*k;
	uint8_t			 raw[TOKEN_RAW_LEN], mac[TOKEN_MAC_LEN];
	uint64_t		 exp = 0;
	size_t			 len, i;
	int			 ok;

	if (tokens_ring == NULL)
		fatalx("%s: no token key", __func__);
	if (strlen(token) != TOKEN_LEN || strlen(bind) > TOKEN_BIND_MAX ||
	    class < 0 || class > UINT8_MAX)
		return 0;
	/* Without an end pointer, a character left over is an error. */
	if (sodium_base642bin(raw, sizeof(raw), token, TOKEN_LEN, NULL, &len,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(raw) || raw[0] != TOKEN_VERSION ||
	    (k = tokens_find(&raw[1])) == NULL)
		return 0;
	for (i = 0; i < 8; i++)
		exp = exp << 8 | raw[1 + TOKEN_KID_LEN + i];
	tokens_mac(k, raw, class, bind, mac);
	ok = sodium_memcmp(mac, &raw[TOKEN_HEAD_LEN], sizeof(mac)) == 0 &&
	    exp > now_ms;
	sodium_memzero(mac, sizeof(mac));
	return ok;
}
