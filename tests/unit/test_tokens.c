/*
 * Session tokens, with the clock as a parameter: binding, expiry, the
 * per-identity quota and eviction when the table is full.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "broker/tokens.h"
#include "privsep/msg.h"

#define T0	1000000		/* ms; any clock will do */

static void
setup(void)
{
	cr_assert_neq(sodium_init(), -1);
	tokens_init();
}

TestSuite(tokens, .init = setup);

static void
issue(const char *bind, uint32_t ttl, uint64_t now, char tok[TOKEN_LEN + 1])
{
	cr_assert_eq(tokens_issue(bind, ttl, now, tok, TOKEN_LEN + 1), 0,
	    "issue for %s", bind);
	cr_assert_eq(strlen(tok), TOKEN_LEN);
}

Test(tokens, bound_to_its_identity)
{
	char	tok[TOKEN_LEN + 1], other[TOKEN_LEN + 1];

	issue("10.0.0.5", 60, T0, tok);
	cr_assert(tokens_check(tok, "10.0.0.5", T0));
	cr_assert_not(tokens_check(tok, "10.0.0.6", T0));
	cr_assert_not(tokens_check(tok, "10.0.0.5 ", T0));
	/* A well-formed token that was never issued, and a cut one. */
	memcpy(other, tok, sizeof(other));
	other[0] = other[0] == 'A' ? 'B' : 'A';
	cr_assert_not(tokens_check(other, "10.0.0.5", T0));
	other[TOKEN_LEN - 1] = '\0';
	cr_assert_not(tokens_check(other, "10.0.0.5", T0));
}

Test(tokens, expire_after_ttl)
{
	char	tok[TOKEN_LEN + 1];

	issue("inst-a", 30, T0, tok);
	cr_assert(tokens_check(tok, "inst-a", T0 + 30 * 1000 - 1));
	cr_assert_not(tokens_check(tok, "inst-a", T0 + 30 * 1000));
}

Test(tokens, refuses_bad_arguments)
{
	char	tok[TOKEN_LEN + 1], small[TOKEN_LEN];
	char	longbind[200];

	memset(longbind, 'a', sizeof(longbind) - 1);
	longbind[sizeof(longbind) - 1] = '\0';
	cr_assert_eq(tokens_issue("x", 0, T0, tok, sizeof(tok)), -1);
	cr_assert_eq(tokens_issue("x", TOKEN_TTL_MAX + 1, T0, tok,
	    sizeof(tok)), -1);
	cr_assert_eq(tokens_issue("x", TOKEN_TTL_MAX, T0, tok, sizeof(tok)),
	    0);
	cr_assert_eq(tokens_issue("x", 1, T0, small, sizeof(small)), -1);
	cr_assert_eq(tokens_issue(longbind, 1, T0, tok, sizeof(tok)), -1);
}

/* An identity's tokens probe one window: up to the quota all live. */
Test(tokens, probing_keeps_an_identity_s_tokens)
{
	char	tok[TOKENS_PER_ID][TOKEN_LEN + 1];
	int	i;

	for (i = 0; i < TOKENS_PER_ID; i++)
		issue("inst-b", 600, T0 + (uint64_t)i, tok[i]);
	for (i = 0; i < TOKENS_PER_ID; i++)
		cr_assert(tokens_check(tok[i], "inst-b", T0 + 100),
		    "token %d", i);
}

/*
 * One guest asking for tokens as fast as it may (the issue's 10 PUTs a
 * second for six hours) replaces its own oldest, and never another
 * guest's.
 */
Test(tokens, quota_per_identity)
{
	char		 victim[TOKEN_LEN + 1], last[TOKENS_PER_ID + 1][TOKEN_LEN + 1];
	uint64_t	 now = T0;
	int		 i, n = 3 * TOKENS_SLOTS;

	issue("inst-victim", TOKEN_TTL_MAX, now, victim);
	for (i = 0; i < n; i++) {
		now += 100;
		issue("inst-flood", TOKEN_TTL_MAX, now,
		    last[i % (TOKENS_PER_ID + 1)]);
	}
	cr_assert(tokens_check(victim, "inst-victim", now),
	    "a flood of another identity evicted the victim's token");
	/* The newest TOKENS_PER_ID of the flood live; the one before not. */
	for (i = 0; i < TOKENS_PER_ID; i++)
		cr_assert(tokens_check(last[(n - 1 - i) %
		    (TOKENS_PER_ID + 1)], "inst-flood", now), "newest - %d", i);
	cr_assert_not(tokens_check(last[(n - 1 - TOKENS_PER_ID) %
	    (TOKENS_PER_ID + 1)], "inst-flood", now),
	    "more than %d live tokens for one identity", TOKENS_PER_ID);
}

/*
 * Many guests flooding at once, four times the table between them, still
 * hold only their quotas: the victim's one token stays.
 */
Test(tokens, flooders_evict_their_own)
{
	char		 victim[TOKEN_LEN + 1], tok[TOKEN_LEN + 1];
	char		 bind[32];
	uint64_t	 now = T0;
	int		 i, j;

	issue("10.1.0.1", TOKEN_TTL_MAX, now, victim);
	for (j = 0; j < 64; j++) {
		(void)snprintf(bind, sizeof(bind), "10.2.0.%d", j);
		for (i = 0; i < 4 * TOKENS_SLOTS / 64; i++) {
			now++;
			issue(bind, TOKEN_TTL_MAX, now, tok);
		}
	}
	cr_assert(tokens_check(victim, "10.1.0.1", now));
}

static char	(*many)[TOKEN_LEN + 1];

static size_t
count_live(int n, uint64_t now)
{
	char	bind[32];
	size_t	live = 0;
	int	i;

	for (i = 0; i < n; i++) {
		(void)snprintf(bind, sizeof(bind), "id-%d", i);
		live += (size_t)tokens_check(many[i], bind, now);
	}
	return live;
}

/*
 * Far more identities than slots: the table stays its size, each new
 * token is valid at once, and a full table is used in full.
 */
Test(tokens, full_table_evicts_and_stays_bounded)
{
	char		 bind[32];
	int		 i, n = 3 * TOKENS_SLOTS;
	size_t		 live;

	many = calloc((size_t)n, sizeof(*many));
	cr_assert_not_null(many);
	for (i = 0; i < n; i++) {
		(void)snprintf(bind, sizeof(bind), "id-%d", i);
		issue(bind, 600, T0 + (uint64_t)i, many[i]);
		cr_assert(tokens_check(many[i], bind, T0 + (uint64_t)i),
		    "the newest token (%d) is not live", i);
	}
	live = count_live(n, T0 + (uint64_t)n);
	cr_assert_leq(live, TOKENS_SLOTS);
	cr_assert_geq(live, TOKENS_SLOTS * 99 / 100, "only %zu live", live);
	/* The soonest-expiring gave way: the newest are all still there. */
	for (i = n - 64; i < n; i++) {
		(void)snprintf(bind, sizeof(bind), "id-%d", i);
		cr_assert(tokens_check(many[i], bind, T0 + (uint64_t)n));
	}
	free(many);
}

/* Expired tokens make room before any live one is evicted. */
Test(tokens, expired_slots_are_reused_first)
{
	char		 bind[32], tok[TOKEN_LEN + 1];
	int		 i, n = TOKENS_SLOTS / 8;
	uint64_t	 later = T0 + 11 * 1000;

	for (i = 0; i < 2 * TOKENS_SLOTS; i++) {
		(void)snprintf(bind, sizeof(bind), "old-%d", i);
		issue(bind, 10, T0, tok);
	}
	many = calloc((size_t)n, sizeof(*many));
	cr_assert_not_null(many);
	for (i = 0; i < n; i++) {
		(void)snprintf(bind, sizeof(bind), "id-%d", i);
		issue(bind, 600, later, many[i]);
	}
	cr_assert_eq(count_live(n, later), (size_t)n,
	    "a live token was evicted while expired ones held slots");
	free(many);
}
