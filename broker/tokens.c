#include <string.h>

#include <sodium.h>

#include "privsep/log.h"
#include "privsep/msg.h"
#include "tokens.h"

#define TOKEN_HASH_LEN	16
#define TOKEN_BIND_MAX	ADDR_MAX	/* a peer address or an instance id */

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
tokens_hash(const char *s, uint8_t out[TOKEN_HASH_LEN])
{
	crypto_generichash(out, TOKEN_HASH_LEN, (const unsigned char *)s,
	    strlen(s), tokens_key, sizeof(tokens_key));
}

/* The identity's window: keyed, so nobody can aim at another's. */
static size_t
tokens_window(const char *bind)
{
	uint8_t		h[TOKEN_HASH_LEN];
	uint64_t	v;

	tokens_hash(bind, h);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v % TOKENS_SLOTS);
}

static struct token *
tokens_at(size_t w, size_t i)
{
	return &tokens_tab[(w + i) % TOKENS_SLOTS];
}

/* Live tokens in window w that belong to bind. */
static size_t
tokens_held(size_t w, const char *bind, uint64_t now_ms)
{
	struct token	*t;
	size_t		 i, n = 0;

	for (i = 0; i < TOKENS_PROBE; i++) {
		t = tokens_at(w, i);
		if (t->tk_expires_ms > now_ms && strcmp(t->tk_bind, bind) == 0)
			n++;
	}
	return n;
}

/*
 * The slot a new token of bind takes: a free or expired one, unless bind
 * is at its quota; then its own soonest-expiring.  When every slot is
 * live, the identity holding most of the window gives way (soonest
 * expiring first), so a guest that floods evicts its own tokens.
 */
static struct token *
tokens_victim(size_t w, const char *bind, uint64_t now_ms)
{
	struct token	*t, *victim = NULL;
	size_t		 i, n, most = 0;
	int		 full;

	full = tokens_held(w, bind, now_ms) >= TOKENS_PER_ID;
	for (i = 0; i < TOKENS_PROBE; i++) {
		t = tokens_at(w, i);
		if (t->tk_expires_ms <= now_ms) {
			if (!full)
				return t;
			continue;
		}
		if (full && strcmp(t->tk_bind, bind) != 0)
			continue;
		n = full ? TOKENS_PER_ID : tokens_held(w, t->tk_bind, now_ms);
		if (victim == NULL || n > most || (n == most &&
		    t->tk_expires_ms < victim->tk_expires_ms)) {
			victim = t;
			most = n;
		}
	}
	if (victim == NULL)	/* a full window, or bind's own, is live */
		fatalx("token table: no slot to take");
	return victim;
}

/* A new token for bind, valid ttl seconds.  The table never grows. */
int
tokens_issue(const char *bind, uint32_t ttl, uint64_t now_ms, char *out,
    size_t outsz)
{
	unsigned char	 raw[32];
	struct token	*t;

	if (strlen(bind) > TOKEN_BIND_MAX || outsz < TOKEN_LEN + 1 ||
	    ttl == 0 || ttl > TOKEN_TTL_MAX)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, outsz, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	t = tokens_victim(tokens_window(bind), bind, now_ms);
	tokens_hash(out, t->tk_hash);
	(void)snprintf(t->tk_bind, sizeof(t->tk_bind), "%s", bind);
	t->tk_expires_ms = now_ms + (uint64_t)ttl * 1000;
	return 0;
}

/* 1 when token is live and was given to bind. */
int
tokens_check(const char *token, const char *bind, uint64_t now_ms)
{
	uint8_t		 h[TOKEN_HASH_LEN];
	struct token	*t;
	size_t		 i, w;
	int		 ok = 0;

	if (strlen(token) != TOKEN_LEN || strlen(bind) > TOKEN_BIND_MAX)
		return 0;
	tokens_hash(token, h);
	w = tokens_window(bind);
	for (i = 0; i < TOKENS_PROBE; i++) {
		t = tokens_at(w, i);
		if (t->tk_expires_ms > now_ms &&
		    sodium_memcmp(t->tk_hash, h, sizeof(h)) == 0 &&
		    strcmp(t->tk_bind, bind) == 0)
			ok = 1;
	}
	return ok;
}
