/* SPDX-License-Identifier: ISC */
/*
 * The hasher thread, in the broker: Argon2id hashes and checks for
 * verifier mode, one job at a time, so that the event loop never runs
 * one.  Jobs come from the event loop and go back to it through a jobq;
 * the queue's limit is in hasher.h.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hasher.h"
#include "privsep/log.h"

static pthread_t	 hasher_thread;
static struct jobq	 hasher_q = JOBQ_INITIALIZER(HASHER_QUEUE_MAX);

static void	*hasher_main(void *);

int
hasher_start(void)
{
	if (jobq_open(&hasher_q) == -1)
		return -1;
	if ((errno = pthread_create(&hasher_thread, NULL, hasher_main,
	    NULL)) != 0) {
		log_warn("pthread_create");
		return -1;
	}
	return 0;
}

void
hasher_stop(void)
{
	jobq_stop(&hasher_q);
	pthread_join(hasher_thread, NULL);
	jobq_close(&hasher_q);
}

int
hasher_fd(void)
{
	return jobq_fd(&hasher_q);
}

/* -1 when the queue is full: the caller answers 503. */
int
hasher_submit(struct hjob *j)
{
	return jobq_submit(&hasher_q, &j->hj_q);
}

/* Every finished job, oldest first. */
struct hjob *
hasher_done(void)
{
	struct jobq_link	*l;
	struct hjob		*list = NULL, **tail = &list;

	for (l = jobq_done(&hasher_q); l != NULL; l = l->jl_next) {
		*tail = JOBQ_ITEM(l, struct hjob, hj_q);
		tail = &(*tail)->hj_next;
	}
	*tail = NULL;
	return list;
}

static void
hasher_run(struct hjob *j)
{
	if (j->hj_op == HJ_HASH)
		j->hj_match = crypto_pwhash_str(j->hj_verifier,
		    (const char *)j->hj_value, j->hj_len, j->hj_ops,
		    j->hj_mem) == 0 ? 1 : -1;
	else
		j->hj_match = crypto_pwhash_str_verify(j->hj_verifier,
		    (const char *)j->hj_value, j->hj_len) == 0;
	sodium_memzero(j->hj_value, sizeof(j->hj_value));
}

static void *
hasher_main(void *arg)
{
	struct jobq_link	*l;

	(void)arg;
	while (jobq_take(&hasher_q, &l, 1) > 0) {
		hasher_run(JOBQ_ITEM(l, struct hjob, hj_q));
		jobq_finish(&hasher_q, &l, 1);
	}
	return NULL;
}
