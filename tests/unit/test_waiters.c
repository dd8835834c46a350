/* SPDX-License-Identifier: ISC */
/*
 * The waiter table (broker/waiters.c), with the reader and the answer
 * path replaced by recorders: its bound (the caller answers 503 beyond
 * it), what frees a slot, and, on a shared store, polls that read at most
 * WAITERS_POLL_MAX waiters a turn and so must take every waiter in turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "broker/broker.h"
#include "broker/reader.h"
#include "broker/waiters.h"

#define NREC	(2 * WAITERS_MAX)

static int	 reader_is_on;
static char	 polled[NREC][ID_LEN + 1];
static size_t	 npolled;
static uint32_t	 answered[NREC];	/* connection ids, in order */
static size_t	 nanswered;

int
reader_on(void)
{
	return reader_is_on;
}

struct rjob *
reader_job(enum rj_plan plan, int then)
{
	struct rjob	*j;

	cr_assert_not_null(j = calloc(1, sizeof(*j)));
	j->rj_plan = plan;
	j->rj_then = then;
	return j;
}

void
reader_submit(struct rjob *j)
{
	cr_assert_eq(j->rj_plan, RJ_ID);
	cr_assert_eq(j->rj_then, RT_WAIT_POLL);
	cr_assert_lt(npolled, NREC);
	memcpy(polled[npolled++], j->rj_key, ID_LEN + 1);
	free(j);
}

void
ops_pw_get_for(struct broker *b, const struct route *rt, const char *id,
    uint32_t wait)
{
	(void)b;
	(void)id;
	cr_assert_eq(wait, 0);
	cr_assert_lt(nanswered, NREC);
	answered[nanswered++] = rt->rt_connid;
}

static const char *
mkid(unsigned int n)
{
	static char	id[ID_LEN + 1];

	snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012u", n);
	return id;
}

/* A waiter on connection conn for instance n until deadline. */
static int
add(uint32_t conn, unsigned int n, uint64_t deadline)
{
	struct route	rt;

	memset(&rt, 0, sizeof(rt));
	rt.rt_connid = conn;
	rt.rt_serial = conn;
	return waiters_add(&rt, mkid(n), deadline);
}

static void
fill(void)
{
	uint32_t	i;

	for (i = 0; i < WAITERS_MAX; i++)
		cr_assert_eq(add(i, i, 600000), 0, "waiter %u", i);
	cr_assert_eq(add(WAITERS_MAX, 0, 600000), -1, "the table is full");
}

Test(waiters, full_then_a_hangup_frees_one_slot)
{
	fill();
	waiters_drop_conn(7);
	cr_assert_eq(add(WAITERS_MAX, 1, 600000), 0);
	cr_assert_eq(add(WAITERS_MAX + 1, 2, 600000), -1);
	/* The one who hung up is never answered. */
	waiters_wake(NULL, mkid(7));
	cr_assert_eq(nanswered, 0);
	waiters_wake(NULL, mkid(1));
	cr_assert_eq(nanswered, 2);
	cr_assert(answered[0] != 7 && answered[1] != 7);
}

Test(waiters, expiry_answers_and_frees)
{
	uint32_t	i;

	for (i = 0; i < WAITERS_MAX; i++)
		cr_assert_eq(add(i, i, i < 3 ? 1000 : 600000), 0);
	waiters_expire(NULL, 999);
	cr_assert_eq(nanswered, 0);
	waiters_expire(NULL, 1000);
	cr_assert_eq(nanswered, 3);
	for (i = 0; i < 3; i++)
		cr_assert_eq(add(WAITERS_MAX + i, i, 600000), 0);
	cr_assert_eq(add(2 * WAITERS_MAX, 0, 600000), -1);
}

Test(waiters, a_post_answers_every_waiter_of_its_instance_only)
{
	cr_assert_eq(add(1, 5, 600000), 0);
	cr_assert_eq(add(2, 6, 600000), 0);
	cr_assert_eq(add(3, 5, 600000), 0);
	waiters_wake(NULL, mkid(5));
	cr_assert_eq(nanswered, 2);
	cr_assert_eq(answered[0] + answered[1], 4);
	waiters_wake(NULL, mkid(5));
	cr_assert_eq(nanswered, 2);
	waiters_clear();
	waiters_wake(NULL, mkid(6));
	cr_assert_eq(nanswered, 2, "cleared with its worker");
}

/*
 * A POST on another node wakes nobody here: only the polls find it.  Each
 * poll turn reads at most WAITERS_POLL_MAX waiters, so with more than
 * that waiting every one must still be read within as many turns as it
 * takes to read them all once.
 */
Test(waiters, more_than_a_poll_turn_are_all_polled)
{
	enum { N = 3 * WAITERS_POLL_MAX + 5 };
	unsigned int	seen[N];
	uint64_t	now = 0;
	size_t		turn, i, before;
	unsigned int	n;

	reader_is_on = 1;
	for (n = 0; n < N; n++)
		cr_assert_eq(add(n, n, 600000), 0);
	memset(seen, 0, sizeof(seen));
	for (turn = 0; turn < (N + WAITERS_POLL_MAX - 1) / WAITERS_POLL_MAX;
	    turn++) {
		now += WAITERS_POLL_MS;
		before = npolled;
		waiters_poll(now);
		cr_assert_leq(npolled - before, WAITERS_POLL_MAX);
		waiters_poll(now);		/* once a WAITERS_POLL_MS */
		cr_assert_leq(npolled - before, WAITERS_POLL_MAX);
	}
	for (i = 0; i < npolled; i++) {
		cr_assert_eq(sscanf(polled[i], "00000000-0000-4000-8000-%u",
		    &n), 1);
		cr_assert_lt(n, N);
		seen[n]++;
	}
	for (n = 0; n < N; n++)
		cr_assert_geq(seen[n], 1, "waiter %u never polled", n);
	/* What the polls found answers them all. */
	for (n = 0; n < N; n++)
		waiters_wake(NULL, mkid(n));
	cr_assert_eq(nanswered, N);
	before = npolled;
	waiters_poll(now + WAITERS_POLL_MS);
	cr_assert_eq(npolled, before, "no waiter left to poll");
}
