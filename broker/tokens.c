#include <string.h>

#include <sodium.h>

#include "privsep/msg.h"
#include "tokens.h"

#define TOKEN_HASH_LEN	16
#define TOKEN_BIND_MAX	64	/* an instance id or a peer address */

struct token {
	uint8_t		tk_hash[TOKEN_HASH_LEN];
	char		tk_bind[TOKEN_BIND_MAX + 1];
	uint64_t	tk_expires_ms;		/* 0: free */
};

static struct token	tokens_tab[TOKENS_SLOTS];
static unsigned char	tokens_key[crypto_generichash_KEYBYTES];

void
tokens_init(void)
{
	randombytes_buf(tokens_key, sizeof(tokens_key));
	memset(tokens_tab, 0, sizeof(tokens_tab));
}

static void
tokens_hash(const char *token, uint8_t out[TOKEN_HASH_LEN])
{
	crypto_generichash(out, TOKEN_HASH_LEN, (const unsigned char *)token,
	    strlen(token), tokens_key, sizeof(tokens_key));
}

static size_t
tokens_slot0(const uint8_t hash[TOKEN_HASH_LEN])
{
	uint64_t	v;

	memcpy(&v, hash, sizeof(v));
	return (size_t)(v % TOKENS_SLOTS);
}

/*
 * A new token for bind, valid ttl seconds.  When every slot it may use is
 * live, the one expiring soonest gives way: the table never grows.
 */
int
tokens_issue(const char *bind, uint32_t ttl, uint64_t now_ms, char *out,
    size_t outsz)
{
	unsigned char	 raw[32];
	uint8_t		 h[TOKEN_HASH_LEN];
	struct token	*t, *victim = NULL;
	size_t		 i, s0;

	if (strlen(bind) > TOKEN_BIND_MAX || outsz < TOKEN_LEN + 1 ||
	    ttl == 0 || ttl > TOKEN_TTL_MAX)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, outsz, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	tokens_hash(out, h);
	s0 = tokens_slot0(h);
	for (i = 0; i < TOKENS_PROBE; i++) {
		t = &tokens_tab[(s0 + i) % TOKENS_SLOTS];
		if (t->tk_expires_ms <= now_ms) {
			victim = t;
			break;
		}
		if (victim == NULL || t->tk_expires_ms < victim->tk_expires_ms)
			victim = t;
	}
	memcpy(victim->tk_hash, h, sizeof(h));
	(void)snprintf(victim->tk_bind, sizeof(victim->tk_bind), "%s", bind);
	victim->tk_expires_ms = now_ms + (uint64_t)ttl * 1000;
	return 0;
}

/* 1 when token is live and was given to bind. */
int
tokens_check(const char *token, const char *bind, uint64_t now_ms)
{
	uint8_t		 h[TOKEN_HASH_LEN];
	struct token	*t;
	size_t		 i, s0;
	int		 ok = 0;

	if (strlen(token) != TOKEN_LEN)
		return 0;
	tokens_hash(token, h);
	s0 = tokens_slot0(h);
	for (i = 0; i < TOKENS_PROBE; i++) {
		t = &tokens_tab[(s0 + i) % TOKENS_SLOTS];
		if (t->tk_expires_ms > now_ms &&
		    sodium_memcmp(t->tk_hash, h, sizeof(h)) == 0 &&
		    strcmp(t->tk_bind, bind) == 0)
			ok = 1;
	}
	return ok;
}
