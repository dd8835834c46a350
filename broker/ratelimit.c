/* SPDX-License-Identifier: ISC */
/*
 * Per-source rate limiting, in the broker's event loop: a token bucket
 * per guest source in a fixed table, its slot chosen by a keyed hash.
 * The worker never sees the table or the key.
 */
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

struct rl_entry {
	char		re_key[RL_KEY_MAX + 1];
	uint64_t	re_last_ms;
	uint64_t	re_mtokens;	/* thousandths of a request */
};

static struct rl_entry	rl_tab[RL_SLOTS];
static unsigned char	rl_hashkey[crypto_shorthash_KEYBYTES];

/* A keyed hash, so that nobody can aim many sources at one slot. */
void
ratelimit_init(void)
{
	randombytes_buf(rl_hashkey, sizeof(rl_hashkey));
	memset(rl_tab, 0, sizeof(rl_tab));
}

static struct rl_entry *
ratelimit_slot(const char *key, uint64_t burst_m)
{
	unsigned char	 h[crypto_shorthash_BYTES];
	struct rl_entry	*e, *victim = NULL;
	uint64_t	 start;
	size_t		 i;

	crypto_shorthash(h, (const unsigned char *)key, strlen(key),
	    rl_hashkey);
	memcpy(&start, h, sizeof(start));
	for (i = 0; i < RL_PROBE; i++) {
		e = &rl_tab[(start + i) % RL_SLOTS];
		if (e->re_key[0] == '\0' || strcmp(e->re_key, key) == 0) {
			victim = e;
			break;
		}
		if (victim == NULL || e->re_last_ms < victim->re_last_ms)
			victim = e;
	}
	if (strcmp(victim->re_key, key) != 0) {
		memset(victim, 0, sizeof(*victim));
		memcpy(victim->re_key, key, strlen(key) + 1);
		victim->re_mtokens = burst_m;
	}
	return victim;
}

/* The source's bucket, filled for the time since it was last seen. */
static struct rl_entry *
ratelimit_fill(const char *key, uint32_t rate, uint32_t burst,
    uint64_t now_ms)
{
	struct rl_entry	*e;
	uint64_t	 burst_m = (uint64_t)burst * 1000;

	e = ratelimit_slot(key, burst_m);
	if (now_ms > e->re_last_ms && e->re_last_ms != 0) {
		/* rate per second is rate thousandths per millisecond. */
		e->re_mtokens += (now_ms - e->re_last_ms) * rate;
		if (e->re_mtokens > burst_m)
			e->re_mtokens = burst_m;
	}
	e->re_last_ms = now_ms;
	return e;
}

/* 1 when the source may have one more operation now, 0 when it must wait. */
int
ratelimit_allow(const char *key, uint32_t rate, uint32_t burst,
    uint64_t now_ms)
{
	struct rl_entry	*e;

	if (rate == 0 || strlen(key) > RL_KEY_MAX)
		return 1;
	e = ratelimit_fill(key, rate, burst, now_ms);
	if (e->re_mtokens < 1000)
		return 0;
	e->re_mtokens -= 1000;
	return 1;
}

/* What ratelimit_allow would say, without taking anything. */
int
ratelimit_would(const char *key, uint32_t rate, uint32_t burst,
    uint64_t now_ms)
{
	if (rate == 0 || strlen(key) > RL_KEY_MAX)
		return 1;
	return ratelimit_fill(key, rate, burst, now_ms)->re_mtokens >= 1000;
}
