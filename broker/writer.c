/* SPDX-License-Identifier: ISC */
/*
 * The writer thread, in the broker: every write to the store, run in
 * batches of one transaction each (group commit).  writer.h says what a
 * job holds and when it is answered.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privsep/log.h"
#include "stats.h"
#include "writer.h"

static pthread_t	 writer_thread;
static pthread_mutex_t	 writer_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 writer_cv = PTHREAD_COND_INITIALIZER;
static struct wjob	*writer_todo, *writer_todo_tail;
static struct wjob	*writer_finished;
static size_t		 writer_ntodo;
static int		 writer_stopping;
static int		 writer_efd = -1;
static struct store	*writer_store;
static struct msg_hist	 writer_commit_h, writer_group_h;	/* writer_mtx */

static void	*writer_main(void *);
static void	 writer_run_one(struct wjob *);
static void	 writer_key_count(struct wjob *);
static void	 writer_batch(struct wjob **, size_t);

/* Open the writer's own connection and start it. */
int
writer_start(const char *backend, const char *target)
{
	if ((writer_store = store_open(backend, target, 0)) == NULL)
		return -1;
	if ((writer_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		log_warn("eventfd");
		return -1;
	}
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
	pthread_mutex_lock(&writer_mtx);
	writer_stopping = 1;
	pthread_cond_signal(&writer_cv);
	pthread_mutex_unlock(&writer_mtx);
	pthread_join(writer_thread, NULL);
	store_close(writer_store);
	close(writer_efd);
}

/* Readable when finished writes wait for writer_done. */
int
writer_fd(void)
{
	return writer_efd;
}

/* Queue a write; -1 when the queue is full (the caller answers 503). */
int
writer_submit(struct wjob *j)
{
	pthread_mutex_lock(&writer_mtx);
	if (writer_ntodo >= WRITER_QUEUE_MAX) {
		pthread_mutex_unlock(&writer_mtx);
		return -1;
	}
	j->wj_next = NULL;
	if (writer_todo_tail != NULL)
		writer_todo_tail->wj_next = j;
	else
		writer_todo = j;
	writer_todo_tail = j;
	writer_ntodo++;
	pthread_cond_signal(&writer_cv);
	pthread_mutex_unlock(&writer_mtx);
	return 0;
}

/* Every finished write, oldest first. */
struct wjob *
writer_done(void)
{
	struct wjob	*list, *rev = NULL, *next;
	uint64_t	 n;

	if (read(writer_efd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("writer eventfd");
	pthread_mutex_lock(&writer_mtx);
	list = writer_finished;
	writer_finished = NULL;
	pthread_mutex_unlock(&writer_mtx);
	for (; list != NULL; list = next) {
		next = list->wj_next;
		list->wj_next = rev;
		rev = list;
	}
	return rev;
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
		j->wj_result = store_instance_put(writer_store, &j->wj_inst,
		    &j->wj_created);
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
	size_t	n;

	pthread_mutex_lock(&writer_mtx);
	n = writer_ntodo;
	pthread_mutex_unlock(&writer_mtx);
	return n;
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
	struct wjob	*jobs[WRITER_BATCH_MAX];
	size_t		 n, i;
	uint64_t	 one = 1;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&writer_mtx);
		while (writer_todo == NULL && !writer_stopping)
			pthread_cond_wait(&writer_cv, &writer_mtx);
		if (writer_todo == NULL) {
			pthread_mutex_unlock(&writer_mtx);
			return NULL;
		}
		for (n = 0; n < WRITER_BATCH_MAX && writer_todo != NULL; n++) {
			jobs[n] = writer_todo;
			writer_todo = writer_todo->wj_next;
			writer_ntodo--;
		}
		if (writer_todo == NULL)
			writer_todo_tail = NULL;
		pthread_mutex_unlock(&writer_mtx);

		writer_batch(jobs, n);

		pthread_mutex_lock(&writer_mtx);
		for (i = 0; i < n; i++) {
			jobs[i]->wj_next = writer_finished;
			writer_finished = jobs[i];
		}
		pthread_mutex_unlock(&writer_mtx);
		if (write(writer_efd, &one, sizeof(one)) == -1)
			log_warn("writer eventfd");
	}
}
