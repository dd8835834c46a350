/* SPDX-License-Identifier: ISC */
/*
 * The waiter table (broker/waiters.c), with the reader and the answer
 * path replaced by recorders: its bound (the caller answers 503 beyond
 * it), what frees a slot, and, on a shared store, the reads that another
 * node's commit calls for: none on a timer, those of the waiters a notice
 * names, and all of them again, WAITERS_POLL_MAX a turn, on a resync.
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
static char	 told[READER_TOLD_MAX][ID_LEN + 1];
static size_t	 ntold;
static int	 told_resync;

int
reader_told(char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	int	r = told_resync;

	cr_assert_leq(ntold, max);
	memcpy(ids, told, ntold * sizeof(told[0]));
	*n = ntold;
	ntold = 0;
	told_resync = 0;
	return r;
}

int
reader_on(void)
{
	return reader_is_on;
}

struct rjob *
reader_job(enum ahead_plan plan, int then)
{
	struct rjob	*j;

	cr_assert_not_null(j = calloc(1, sizeof(*j)));
	j->rj_ah.ah_plan = plan;
	j->rj_then = then;
	return j;
}

void
reader_submit(struct rjob *j)
{
	cr_assert_eq(j->rj_ah.ah_plan, AHEAD_ID);
	cr_assert_eq(j->rj_then, RT_WAIT_POLL);
	cr_assert_lt(npolled, NREC);
	memcpy(polled[npolled++], j->rj_ah.ah_key, ID_LEN + 1);
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

/* How many times each of the first n instances was read. */
static void
count_reads(unsigned int *seen, unsigned int n)
{
	unsigned int	k;
	size_t		i;

	memset(seen, 0, n * sizeof(*seen));
	for (i = 0; i < npolled; i++) {
		cr_assert_eq(sscanf(polled[i], "00000000-0000-4000-8000-%u",
		    &k), 1);
		cr_assert_lt(k, n);
		seen[k]++;
	}
}

/*
 * On a shared store a waiter's value is read once as it starts waiting
 * (a commit told before it waited is then seen), and after that only
 * when a notice calls for it: nothing is polled on a timer.
 */
Test(waiters, no_timed_poll_on_a_shared_store)
{
	unsigned int	seen[8], n;
	int		turn;

	reader_is_on = 1;
	for (n = 0; n < 8; n++)
		cr_assert_eq(add(n, n, 600000), 0);
	count_reads(seen, 8);
	for (n = 0; n < 8; n++)
		cr_assert_eq(seen[n], 1, "waiter %u read as it started", n);
	for (turn = 0; turn < 100; turn++) {
		waiters_told();
		waiters_poll();
	}
	cr_assert_eq(npolled, 8, "read again with nothing told");
}

/* A notice reads the waiters of the instances it names, once each. */
Test(waiters, a_notice_reads_its_waiters_only)
{
	unsigned int	seen[8];

	reader_is_on = 1;
	cr_assert_eq(add(1, 1, 600000), 0);
	cr_assert_eq(add(2, 1, 600000), 0);
	cr_assert_eq(add(3, 2, 600000), 0);
	npolled = 0;
	strcpy(told[ntold++], mkid(1));
	strcpy(told[ntold++], mkid(5));		/* nobody waits here */
	strcpy(told[ntold++], mkid(2));
	waiters_told();
	count_reads(seen, 8);
	cr_assert_eq(seen[1], 1);
	cr_assert_eq(seen[2], 1);
	cr_assert_eq(seen[5], 0);
	cr_assert_eq(npolled, 2);
	/* What the reads found answers them all. */
	waiters_wake(NULL, mkid(1));
	waiters_wake(NULL, mkid(2));
	cr_assert_eq(nanswered, 3);
	strcpy(told[ntold++], mkid(1));
	waiters_told();
	cr_assert_eq(npolled, 2, "no waiter left to read");
}

/*
 * A resync (the listener reconnected: what committed meanwhile was told
 * to nobody) reads every waiter again, at most WAITERS_POLL_MAX a loop
 * turn, each once, then stops.
 */
Test(waiters, a_resync_reads_every_waiter_in_turns)
{
	enum { N = 3 * WAITERS_POLL_MAX + 5 };
	unsigned int	seen[N];
	size_t		turn, before;
	unsigned int	n;

	reader_is_on = 1;
	for (n = 0; n < N; n++)
		cr_assert_eq(add(n, n, 600000), 0);
	npolled = 0;
	told_resync = 1;
	waiters_told();
	for (turn = 0; turn < WAITERS_MAX; turn++) {
		before = npolled;
		waiters_poll();
		cr_assert_leq(npolled - before, WAITERS_POLL_MAX);
	}
	count_reads(seen, N);
	for (n = 0; n < N; n++)
		cr_assert_eq(seen[n], 1, "waiter %u read %u times", n,
		    seen[n]);
}
