/* SPDX-License-Identifier: ISC */
/* The job queue the writer, the readers and the hasher share. */
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "broker/jobq.h"

#define QMAX	4

struct job {
	int			 j_n;
	struct jobq_link	 j_q;
};

static struct jobq	q = JOBQ_INITIALIZER(QMAX);
static struct job	jobs[QMAX + 2];

static void
setup(void)
{
	int	i;

	cr_assert_eq(jobq_open(&q), 0);
	for (i = 0; i < QMAX + 2; i++)
		jobs[i].j_n = i;
}

static void
teardown(void)
{
	jobq_close(&q);
}

static int
readable(void)
{
	struct pollfd	pfd;

	pfd.fd = jobq_fd(&q);
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0);
}

static int
num(struct jobq_link *l)
{
	return JOBQ_ITEM(l, struct job, j_q)->j_n;
}

TestSuite(jobq, .init = setup, .fini = teardown);

Test(jobq, fifo_and_bound)
{
	struct jobq_link	*l[QMAX + 2];
	size_t			 i;

	for (i = 0; i < QMAX; i++)
		cr_assert_eq(jobq_submit(&q, &jobs[i].j_q), 0, "job %zu", i);
	cr_assert_eq(jobq_queued(&q), QMAX);
	/* Full: refused, and nothing queued. */
	cr_assert_eq(jobq_submit(&q, &jobs[QMAX].j_q), -1);
	cr_assert_eq(jobq_queued(&q), QMAX);
	cr_assert_eq(jobq_take(&q, l, 1), 1);
	cr_assert_eq(num(l[0]), 0);
	/* Room again for one. */
	cr_assert_eq(jobq_submit(&q, &jobs[QMAX + 1].j_q), 0);
	cr_assert_eq(jobq_submit(&q, &jobs[QMAX].j_q), -1);
	cr_assert_eq(jobq_take(&q, l, QMAX + 2), QMAX);
	cr_assert_eq(num(l[0]), 1);
	cr_assert_eq(num(l[1]), 2);
	cr_assert_eq(num(l[2]), 3);
	cr_assert_eq(num(l[3]), QMAX + 1);
	cr_assert_eq(jobq_queued(&q), 0);
}

/* Finished out of order (several threads), handed back in submit order. */
Test(jobq, done_in_submit_order_and_wakes)
{
	struct jobq_link	*l[QMAX], *d, *refused = &jobs[QMAX].j_q;
	static const int	 want[] = { 0, 1, 2, 3, QMAX };
	size_t			 i;

	for (i = 0; i < QMAX; i++)
		cr_assert_eq(jobq_submit(&q, &jobs[i].j_q), 0);
	cr_assert_eq(jobq_submit(&q, refused), -1);
	cr_assert_eq(jobq_take(&q, l, QMAX), QMAX);
	cr_assert_eq(readable(), 0, "readable before anything finished");
	jobq_finish(&q, &refused, 1);
	cr_assert_eq(readable(), 1, "no wake-up");
	jobq_finish(&q, &l[2], 1);
	jobq_finish(&q, &l[0], 1);
	jobq_finish(&q, &l[3], 1);
	jobq_finish(&q, &l[1], 1);
	d = jobq_done(&q);
	cr_assert_eq(readable(), 0, "still readable once read");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_not_null(d, "job %zu missing", i);
		cr_assert_eq(num(d), want[i], "place %zu: job %d", i, num(d));
		d = d->jl_next;
	}
	cr_assert_null(d);
	cr_assert_null(jobq_done(&q));
}

static void *
worker(void *arg)
{
	struct jobq_link	*l;
	size_t			*ran = arg;

	while (jobq_take(&q, &l, 1) == 1) {
		(*ran)++;
		jobq_finish(&q, &l, 1);
	}
	return NULL;
}

/* A thread waits for work, and finishes what is queued before it stops. */
Test(jobq, thread_wakes_and_drains)
{
	struct pollfd	 pfd;
	pthread_t	 t;
	size_t		 ran = 0, i, n = 0;
	struct jobq_link *d;

	cr_assert_eq(pthread_create(&t, NULL, worker, &ran), 0);
	/* Let it reach its wait, so that only the submit can wake it. */
	usleep(100000);
	cr_assert_eq(jobq_submit(&q, &jobs[0].j_q), 0);
	pfd.fd = jobq_fd(&q);
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 30000), 1, "the thread did not wake");
	for (i = 1; i < QMAX; i++)
		cr_assert_eq(jobq_submit(&q, &jobs[i].j_q), 0);
	jobq_stop(&q);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(ran, QMAX);
	for (d = jobq_done(&q); d != NULL; d = d->jl_next)
		cr_assert_eq(num(d), (int)n++);
	cr_assert_eq(n, QMAX);
}

/* Held: a thread that took a job keeps it until the test lets go. */
static pthread_mutex_t	hold_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	hold_cv = PTHREAD_COND_INITIALIZER;
static int		hold_go;

static void *
holder(void *arg)
{
	struct jobq_link	*l;

	(void)arg;
	while (jobq_take(&q, &l, 1) == 1) {
		pthread_mutex_lock(&hold_mtx);
		while (!hold_go)
			pthread_cond_wait(&hold_cv, &hold_mtx);
		pthread_mutex_unlock(&hold_mtx);
		jobq_finish(&q, &l, 1);
	}
	return NULL;
}

static void
let_go(void)
{
	pthread_mutex_lock(&hold_mtx);
	hold_go = 1;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_mtx);
}

/* Up to 30 s for the queue to hold n jobs not taken. */
static int
queued_becomes(size_t n)
{
	int	i;

	for (i = 0; i < 3000 && jobq_queued(&q) != n; i++)
		usleep(10000);
	return jobq_queued(&q) == n;
}

/* jobq_queue wakes no thread; jobq_wake does. */
Test(jobq, queue_waits_for_wake)
{
	struct pollfd	 pfd;
	pthread_t	 t;
	size_t		 ran = 0;

	cr_assert_eq(pthread_create(&t, NULL, worker, &ran), 0);
	usleep(100000);
	cr_assert_eq(jobq_queue(&q, &jobs[0].j_q), 0);
	usleep(100000);
	cr_assert_eq(jobq_queued(&q), 1, "a thread woke without jobq_wake");
	jobq_wake(&q);
	pfd.fd = jobq_fd(&q);
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 30000), 1, "jobq_wake woke no thread");
	jobq_stop(&q);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(ran, 1);
	cr_assert_null(jobq_done(&q)->jl_next);
}

/*
 * One wake for two jobs, each thread taking one: the thread that takes
 * the first wakes another for the second, though it still holds its own.
 */
Test(jobq, what_a_take_leaves_wakes_another)
{
	pthread_t	t[2];
	size_t		i;

	hold_go = 0;
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, holder, NULL), 0);
	usleep(100000);
	cr_assert_eq(jobq_queue(&q, &jobs[0].j_q), 0);
	cr_assert_eq(jobq_queue(&q, &jobs[1].j_q), 0);
	jobq_wake(&q);
	cr_expect(queued_becomes(0), "the second job waits for nobody");
	let_go();
	jobq_stop(&q);
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
}
