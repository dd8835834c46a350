/* SPDX-License-Identifier: ISC */
/*
 * A bounded job queue between the event loop and its threads (the
 * writer, the readers, the hasher).  The event loop submits; a full queue
 * refuses the job, and the caller answers 503 at once.  Threads take jobs
 * oldest first and finish them; the eventfd becomes readable, and
 * jobq_done hands the finished jobs back in the order they were submitted.
 * jobq_queue queues without waking a thread, for jobq_wake to wake one
 * for all of them: a thread that takes jobs and leaves some wakes another.
 * A job embeds a struct jobq_link; JOBQ_ITEM finds the job from it.
 */
#ifndef SEALMD_JOBQ_H
#define SEALMD_JOBQ_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct jobq_link {
	struct jobq_link	*jl_next;
	uint64_t		 jl_seq;	/* submit order */
};

struct jobq {
	pthread_mutex_t		 q_mtx;
	pthread_cond_t		 q_cv;
	struct jobq_link	*q_todo, *q_todo_tail;
	struct jobq_link	*q_done, *q_done_tail;
	size_t			 q_ntodo;
	size_t			 q_max;
	uint64_t		 q_seq;
	int			 q_stopping;
	int			 q_efd;
};

#define JOBQ_INITIALIZER(max)	{ PTHREAD_MUTEX_INITIALIZER,	\
	PTHREAD_COND_INITIALIZER, NULL, NULL, NULL, NULL, 0, (max), 0, 0, -1 }
#define JOBQ_ITEM(l, type, member)					\
	((type *)(void *)((char *)(l) - offsetof(type, member)))

int		 jobq_open(struct jobq *);
void		 jobq_stop(struct jobq *);
void		 jobq_close(struct jobq *);
int		 jobq_fd(const struct jobq *);
int		 jobq_submit(struct jobq *, struct jobq_link *);
int		 jobq_queue(struct jobq *, struct jobq_link *);
void		 jobq_wake(struct jobq *);
size_t		 jobq_queued(struct jobq *);
size_t		 jobq_take(struct jobq *, struct jobq_link **, size_t);
void		 jobq_finish(struct jobq *, struct jobq_link **, size_t);
struct jobq_link *jobq_done(struct jobq *);

#endif
