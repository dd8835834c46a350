/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of broker/ratelimit.c: burst and refill, sources kept
 * apart, a zero rate, the table's bound, and a look that takes nothing.
 */
#include <stdio.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "broker/ratelimit.h"

static void
setup(void)
{
	cr_assert_neq(sodium_init(), -1);
	ratelimit_init();
}

TestSuite(ratelimit, .init = setup);

Test(ratelimit, burst_then_refill)
{
	uint64_t	t = 1000;
	int		i;

	for (i = 0; i < 5; i++)
		cr_assert(ratelimit_allow("10.0.0.1", 2, 5, t), "request %d",
		    i);
	cr_assert_not(ratelimit_allow("10.0.0.1", 2, 5, t));
	/* 2 per second: one more after half a second, not before. */
	cr_assert_not(ratelimit_allow("10.0.0.1", 2, 5, t + 499));
	cr_assert(ratelimit_allow("10.0.0.1", 2, 5, t + 500));
	cr_assert_not(ratelimit_allow("10.0.0.1", 2, 5, t + 500));
	/* The bucket never holds more than the burst. */
	for (i = 0; i < 5; i++)
		cr_assert(ratelimit_allow("10.0.0.1", 2, 5, t + 100000));
	cr_assert_not(ratelimit_allow("10.0.0.1", 2, 5, t + 100000));
}

Test(ratelimit, sources_are_separate)
{
	cr_assert(ratelimit_allow("a", 1, 1, 10));
	cr_assert_not(ratelimit_allow("a", 1, 1, 10));
	cr_assert(ratelimit_allow("b", 1, 1, 10));
}

Test(ratelimit, zero_rate_is_off)
{
	int	i;

	for (i = 0; i < 1000; i++)
		cr_assert(ratelimit_allow("c", 0, 1, 10));
}

/* Many more sources than slots: bounded, and never wrongly refused. */
Test(ratelimit, table_is_bounded)
{
	char		key[32];
	unsigned int	i;

	for (i = 0; i < RL_SLOTS * 4; i++) {
		snprintf(key, sizeof(key), "src-%u", i);
		cr_assert(ratelimit_allow(key, 1, 1, 10), "%s", key);
	}
}

/* Asking takes nothing: only ratelimit_allow spends the burst. */
Test(ratelimit, would_only_asks)
{
	int	i;

	for (i = 0; i < 100; i++)
		cr_assert(ratelimit_would("d", 1, 2, 10));
	cr_assert(ratelimit_allow("d", 1, 2, 10));
	cr_assert(ratelimit_would("d", 1, 2, 10));
	cr_assert(ratelimit_allow("d", 1, 2, 10));
	cr_assert_not(ratelimit_would("d", 1, 2, 10));
	cr_assert_not(ratelimit_allow("d", 1, 2, 10));
	/* One second later, one more. */
	cr_assert(ratelimit_would("d", 1, 2, 1010));
	cr_assert(ratelimit_allow("d", 1, 2, 1010));
	cr_assert_not(ratelimit_would("d", 1, 2, 1010));
	cr_assert(ratelimit_would("e", 0, 1, 10));
}
