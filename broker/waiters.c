/* SPDX-License-Identifier: ISC */
/*
 * Owner GETs waiting for a value (?wait=), in the broker's event loop:
 * a fixed table, woken by a committed POST, a read of a shared store
 * that another node's commit called for, or their deadline.  See
 * waiters.h.
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "reader.h"
#include "waiters.h"

struct waiter {
	struct route	wt_rt;
	char		wt_id[ID_LEN + 1];
	uint64_t	wt_deadline_ms;		/* 0: free */
};

static struct waiter	waiters[WAITERS_MAX];
static size_t		waiters_n;	/* live; 0: loop turns skip the scan */
static size_t		waiters_scan;	/* slots left to read again */
static size_t		waiters_poll_at; /* where the last poll stopped */

/* A shared store: the readers read id's value; what they find wakes it. */
static void
waiters_read(const char *id)
{
	struct rjob	*j;

	j = reader_job(AHEAD_ID, RT_WAIT_POLL);
	j->rj_ah.ah_want = AHEAD_WANT_PW;
	(void)snprintf(j->rj_ah.ah_key, sizeof(j->rj_ah.ah_key), "%.*s",
	    ID_LEN, id);
	reader_submit(j);
}

static void
waiters_free(struct waiter *wt)
{
	wt->wt_deadline_ms = 0;
	waiters_n--;
}

/* -1 when the table is full (the caller answers 503). */
int
waiters_add(const struct route *rt, const char *id, uint64_t deadline_ms)
{
	size_t	i;

	for (i = 0; i < WAITERS_MAX; i++) {
		if (waiters[i].wt_deadline_ms != 0)
			continue;
		waiters[i].wt_rt = *rt;
		(void)snprintf(waiters[i].wt_id, sizeof(waiters[i].wt_id),
		    "%s", id);
		waiters[i].wt_deadline_ms = deadline_ms;
		waiters_n++;
		/*
		 * The caller's read may predate a commit whose notice came
		 * before this waiter: one read now sees it.
		 */
		if (reader_on())
			waiters_read(id);
		return 0;
	}
	return -1;
}

/* A value for id was committed: every waiter of id gets it now. */
void
waiters_wake(struct broker *b, const char *id)
{
	struct route	rt;
	size_t		i;

	for (i = 0; i < WAITERS_MAX && waiters_n > 0; i++) {
		if (waiters[i].wt_deadline_ms == 0 ||
		    strcmp(waiters[i].wt_id, id) != 0)
			continue;
		rt = waiters[i].wt_rt;
		waiters_free(&waiters[i]);
		ops_pw_get_for(b, &rt, id, 0);
	}
}

/* Time is up: the value is still not there, so the answer is empty. */
void
waiters_expire(struct broker *b, uint64_t now_ms)
{
	struct route	rt;
	size_t		i;

	for (i = 0; i < WAITERS_MAX && waiters_n > 0; i++) {
		if (waiters[i].wt_deadline_ms == 0 ||
		    waiters[i].wt_deadline_ms > now_ms)
			continue;
		rt = waiters[i].wt_rt;
		waiters_free(&waiters[i]);
		ops_pw_get_for(b, &rt, waiters[i].wt_id, 0);
	}
}

/*
 * A shared store: another node committed these instances' values (the
 * listener was told), so the readers read those that have waiters here;
 * resync: it was not told everything, and every waiter is read again.
 */
void
waiters_told(void)
{
	char	ids[READER_TOLD_MAX][ID_LEN + 1];
	size_t	i, k, n;

	if (reader_told(ids, READER_TOLD_MAX, &n) == 1)
		waiters_scan = WAITERS_MAX;
	for (k = 0; k < n && waiters_n > 0; k++)
		for (i = 0; i < WAITERS_MAX; i++)
			if (waiters[i].wt_deadline_ms != 0 &&
			    strcmp(waiters[i].wt_id, ids[k]) == 0) {
				waiters_read(ids[k]);
				break;
			}
}

/*
 * Reading every waiter again, up to WAITERS_POLL_MAX a loop turn, taking
 * the table in turn until each slot was looked at once.
 */
void
waiters_poll(void)
{
	size_t	i, k, n = 0;

	if (waiters_n == 0)
		waiters_scan = 0;
	if (waiters_scan == 0 || !reader_on())
		return;
	for (k = 0; k < waiters_scan && n < WAITERS_POLL_MAX; k++) {
		i = (waiters_poll_at + k) % WAITERS_MAX;
		if (waiters[i].wt_deadline_ms == 0)
			continue;
		n++;
		waiters_read(waiters[i].wt_id);
	}
	waiters_poll_at = (waiters_poll_at + k) % WAITERS_MAX;
	waiters_scan -= k;
}

/* The owner hung up: nobody is left to answer. */
void
waiters_drop_conn(uint32_t connid)
{
	size_t	i;

	for (i = 0; i < WAITERS_MAX && waiters_n > 0; i++)
		if (waiters[i].wt_deadline_ms != 0 &&
		    waiters[i].wt_rt.rt_connid == connid)
			waiters_free(&waiters[i]);
}

size_t
waiters_count(void)
{
	return waiters_n;
}

/* The worker died: every connection, and so every waiter, with it. */
void
waiters_clear(void)
{
	size_t	i;

	for (i = 0; i < WAITERS_MAX && waiters_n > 0; i++)
		if (waiters[i].wt_deadline_ms != 0)
			waiters_free(&waiters[i]);
}
