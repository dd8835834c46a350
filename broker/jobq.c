/* SPDX-License-Identifier: ISC */
/*
 * The job queue, in the broker: shared by the writer, the reader and the
 * hasher threads and the event loop that feeds them.  jobq.h says what it
 * promises.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "jobq.h"
#include "privsep/log.h"

/* The eventfd; the queue itself is static, see JOBQ_INITIALIZER. */
int
jobq_open(struct jobq *q)
{
	if ((q->q_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		log_warn("eventfd");
		return -1;
	}
	q->q_stopping = 0;
	return 0;
}

/* The threads finish what is queued, then jobq_take returns 0. */
void
jobq_stop(struct jobq *q)
{
	pthread_mutex_lock(&q->q_mtx);
	q->q_stopping = 1;
	pthread_cond_broadcast(&q->q_cv);
	pthread_mutex_unlock(&q->q_mtx);
}

/* After the threads are joined. */
void
jobq_close(struct jobq *q)
{
	if (q->q_efd != -1)
		close(q->q_efd);
	q->q_efd = -1;
}

/* Readable when finished jobs wait for jobq_done; -1 when not open. */
int
jobq_fd(const struct jobq *q)
{
	return q->q_efd;
}

/* Queue l, and with wake, wake a thread; -1 when the queue is full. */
static int
jobq_add(struct jobq *q, struct jobq_link *l, int wake)
{
	pthread_mutex_lock(&q->q_mtx);
	l->jl_seq = q->q_seq++;
	l->jl_next = NULL;
	if (q->q_ntodo >= q->q_max) {
		pthread_mutex_unlock(&q->q_mtx);
		return -1;
	}
	if (q->q_todo_tail != NULL)
		q->q_todo_tail->jl_next = l;
	else
		q->q_todo = l;
	q->q_todo_tail = l;
	q->q_ntodo++;
	if (wake)
		pthread_cond_signal(&q->q_cv);
	pthread_mutex_unlock(&q->q_mtx);
	return 0;
}

/*
 * -1 when the queue is full: the job is not queued, and the caller
 * answers 503 (or finishes the job itself with jobq_finish, in its turn).
 */
int
jobq_submit(struct jobq *q, struct jobq_link *l)
{
	return jobq_add(q, l, 1);
}

/*
 * As jobq_submit, but no thread wakes for it before jobq_wake: the event
 * loop queues a turn's jobs, then wakes one thread for them all, which
 * can take them together, instead of a thread switch per job.
 */
int
jobq_queue(struct jobq *q, struct jobq_link *l)
{
	return jobq_add(q, l, 0);
}

void
jobq_wake(struct jobq *q)
{
	pthread_mutex_lock(&q->q_mtx);
	if (q->q_todo != NULL)
		pthread_cond_signal(&q->q_cv);
	pthread_mutex_unlock(&q->q_mtx);
}

/* Jobs queued and not yet taken by a thread. */
size_t
jobq_queued(struct jobq *q)
{
	size_t	n;

	pthread_mutex_lock(&q->q_mtx);
	n = q->q_ntodo;
	pthread_mutex_unlock(&q->q_mtx);
	return n;
}

/*
 * For a thread: wait for work, take up to max jobs, oldest first.  0 once
 * the queue is stopping and empty: the thread returns.
 */
size_t
jobq_take(struct jobq *q, struct jobq_link **jobs, size_t max)
{
	size_t	n;

	pthread_mutex_lock(&q->q_mtx);
	while (q->q_todo == NULL && !q->q_stopping)
		pthread_cond_wait(&q->q_cv, &q->q_mtx);
	for (n = 0; n < max && q->q_todo != NULL; n++) {
		jobs[n] = q->q_todo;
		q->q_todo = q->q_todo->jl_next;
		q->q_ntodo--;
	}
	/* What is left is another thread's, which jobq_wake did not wake. */
	if (q->q_todo == NULL)
		q->q_todo_tail = NULL;
	else
		pthread_cond_signal(&q->q_cv);
	pthread_mutex_unlock(&q->q_mtx);
	return n;
}

/*
 * Finished jobs wait in submit order: behind those submitted before them
 * that finished already, never behind one still running (several threads
 * may take from one queue).
 */
void
jobq_finish(struct jobq *q, struct jobq_link **jobs, size_t n)
{
	struct jobq_link	**p, *l;
	uint64_t		  one = 1;
	size_t			  i;

	pthread_mutex_lock(&q->q_mtx);
	for (i = 0; i < n; i++) {
		l = jobs[i];
		if (q->q_done_tail == NULL ||
		    q->q_done_tail->jl_seq < l->jl_seq) {
			l->jl_next = NULL;
			if (q->q_done_tail != NULL)
				q->q_done_tail->jl_next = l;
			else
				q->q_done = l;
			q->q_done_tail = l;
			continue;
		}
		for (p = &q->q_done; (*p)->jl_seq < l->jl_seq;
		    p = &(*p)->jl_next)
			;
		l->jl_next = *p;
		*p = l;
	}
	pthread_mutex_unlock(&q->q_mtx);
	if (n > 0 && write(q->q_efd, &one, sizeof(one)) == -1)
		log_warn("jobq eventfd");
}

/* For the event loop: every finished job, in submit order. */
struct jobq_link *
jobq_done(struct jobq *q)
{
	struct jobq_link	*list;
	uint64_t		 n;

	if (read(q->q_efd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("jobq eventfd");
	pthread_mutex_lock(&q->q_mtx);
	list = q->q_done;
	q->q_done = q->q_done_tail = NULL;
	pthread_mutex_unlock(&q->q_mtx);
	return list;
}
