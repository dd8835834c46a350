/* SPDX-License-Identifier: ISC */
/*
 * The writer thread, in the broker: every write to the store, run in
 * batches of one transaction each (group commit).  writer.h says what a
 * job holds and when it is answered.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privsep/log.h"
#include "stats.h"
#include "writer.h"

static pthread_t	 writer_thread;
static struct jobq	 writer_q = JOBQ_INITIALIZER(WRITER_QUEUE_MAX);
static pthread_mutex_t	 writer_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct store	*writer_store;
static struct msg_hist	 writer_commit_h, writer_group_h;	/* writer_mtx */

static void	*writer_main(void *);
static void	 writer_run_one(struct wjob *);
static void	 writer_key_count(struct wjob *);
static void	 writer_batch(struct wjob **, size_t);

/* Open the writer's own connection and start it. */
int
writer_start(enum store_engine engine, const char *target)
{
	if ((writer_store = store_open(engine, target, 0)) == NULL)
		return -1;
	if (jobq_open(&writer_q) == -1)
		return -1;
	if ((errno = pthread_create(&writer_thread, NULL, writer_main,
	    NULL)) != 0) {
		log_warn("pthread_create");
		return -1;
	}
	return 0;
}

/* Finish what is queued, then stop. */
void
writer_stop(void)
{
	jobq_stop(&writer_q);
	pthread_join(writer_thread, NULL);
	store_close(writer_store);
	jobq_close(&writer_q);
}

/* Readable when finished writes wait for writer_done. */
int
writer_fd(void)
{
	return jobq_fd(&writer_q);
}

/*
 * Queue a write; -1 when the queue is full (the caller answers 503).  The
 * thread starts on it at writer_wake, which the event loop calls once a
 * turn, before it sleeps: a turn's writes go to the writer together, as
 * one group, and the writer, woken for the first of them, does not take
 * the CPU from the loop to commit that one alone.
 */
int
writer_submit(struct wjob *j)
{
	return jobq_queue(&writer_q, &j->wj_q);
}

void
writer_wake(void)
{
	jobq_wake(&writer_q);
}

/* Every finished write, oldest first. */
struct wjob *
writer_done(void)
{
	struct jobq_link	*l;
	struct wjob		*list = NULL, **tail = &list;

	for (l = jobq_done(&writer_q); l != NULL; l = l->jl_next) {
		*tail = JOBQ_ITEM(l, struct wjob, wj_q);
		tail = &(*tail)->wj_next;
	}
	*tail = NULL;
	return list;
}

static void
writer_run_one(struct wjob *j)
{
	switch (j->wj_op) {
	case WJ_PW_PUT:
		j->wj_result = store_pw_put_if_absent(writer_store, j->wj_id,
		    &j->wj_pw);
		break;
	case WJ_INST_PUT:
		j->wj_result = store_instance_put(writer_store, j->wj_inst,
		    &j->wj_created);
		break;
	case WJ_INST_BATCH:
		j->wj_result = store_instance_put_many(writer_store,
		    j->wj_batch, j->wj_n, j->wj_createds, &j->wj_bad);
		break;
	case WJ_INST_DEL:
		j->wj_result = store_instance_del(writer_store, j->wj_id);
		break;
	case WJ_PW_DEL:
		j->wj_result = store_pw_del(writer_store, j->wj_id);
		break;
	case WJ_PW_EXPIRE:
		j->wj_result = store_pw_expire(writer_store, j->wj_id,
		    j->wj_set_at);
		break;
	case WJ_PW_TAKE:
		j->wj_result = store_pw_take(writer_store, j->wj_id,
		    &j->wj_pw);
		break;
	case WJ_PW_REWRAP:
		j->wj_result = store_pw_rewrap(writer_store, j->wj_id,
		    &j->wj_old, &j->wj_pw);
		break;
	case WJ_KEY_COUNT:
		writer_key_count(j);
		break;
	}
}

/*
 * In the writer's order, so that a value sealed by the key and queued
 * before this job is counted: it has been written, or it has failed.
 */
static void
writer_key_count(struct wjob *j)
{
	struct store_keycount	kc[STORE_KEYCOUNTS_MAX];
	size_t			n, i;

	j->wj_count = 0;
	j->wj_result = store_key_counts(writer_store, kc, STORE_KEYCOUNTS_MAX,
	    &n);
	for (i = 0; j->wj_result == STORE_OK && i < n; i++)
		if (kc[i].kc_id == j->wj_key)
			j->wj_count = kc[i].kc_records;
}

/*
 * One transaction for n writes.  A write that fails rolls back only its
 * own savepoint.  If SQLite ends the transaction by itself (a full disk),
 * what ran before in it is lost too: those writes fail, and the rest
 * start a new batch.  Nothing is reported done before its commit.
 */
static void
writer_batch(struct wjob **jobs, size_t n)
{
	struct timespec	t0, t1;
	size_t		first = 0, i, k;
	int		open = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (!open) {
			first = i;
			open = store_batch_begin(writer_store) == STORE_OK;
		}
		writer_run_one(jobs[i]);
		if (open && !store_batch_active(writer_store)) {
			for (k = first; k <= i; k++)
				jobs[k]->wj_result = STORE_ERR;
			open = 0;
		}
	}
	if (open && store_batch_commit(writer_store) != STORE_OK)
		for (k = first; k < n; k++)
			jobs[k]->wj_result = STORE_ERR;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_mutex_lock(&writer_mtx);
	stats_hist(&writer_commit_h, MET_H_COMMIT,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	stats_hist(&writer_group_h, MET_H_GROUP, (double)n);
	pthread_mutex_unlock(&writer_mtx);
}

/* Writes waiting for the writer: the rewrap pass keeps this small. */
size_t
writer_queued(void)
{
	return jobq_queued(&writer_q);
}

/* Commit latency and group size so far, for GET /metrics. */
void
writer_stats(struct msg_hist *commit, struct msg_hist *group)
{
	pthread_mutex_lock(&writer_mtx);
	*commit = writer_commit_h;
	*group = writer_group_h;
	pthread_mutex_unlock(&writer_mtx);
}

static void *
writer_main(void *arg)
{
	struct jobq_link	*l[WRITER_BATCH_MAX];
	struct wjob		*jobs[WRITER_BATCH_MAX];
	size_t			 n, i;

	(void)arg;
	while ((n = jobq_take(&writer_q, l, WRITER_BATCH_MAX)) > 0) {
		for (i = 0; i < n; i++)
			jobs[i] = JOBQ_ITEM(l[i], struct wjob, wj_q);
		writer_batch(jobs, n);
		jobq_finish(&writer_q, l, n);
	}
	return NULL;
}
