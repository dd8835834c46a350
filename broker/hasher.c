/* SPDX-License-Identifier: ISC */
/*
 * The hasher thread, in the broker: Argon2id hashes and checks for
 * verifier mode, one job at a time, so that the event loop never runs
 * one.  Jobs come from the event loop and go back to it through an
 * eventfd; the queue and its limit are in hasher.h.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "hasher.h"
#include "privsep/log.h"

static pthread_t	 hasher_thread;
static pthread_mutex_t	 hasher_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 hasher_cv = PTHREAD_COND_INITIALIZER;
static struct hjob	*hasher_todo, *hasher_finished;
static size_t		 hasher_ntodo;
static int		 hasher_stopping;
static int		 hasher_efd = -1;

static void	*hasher_main(void *);

int
hasher_start(void)
{
	if ((hasher_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		log_warn("eventfd");
		return -1;
	}
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
	pthread_mutex_lock(&hasher_mtx);
	hasher_stopping = 1;
	pthread_cond_signal(&hasher_cv);
	pthread_mutex_unlock(&hasher_mtx);
	pthread_join(hasher_thread, NULL);
	close(hasher_efd);
}

int
hasher_fd(void)
{
	return hasher_efd;
}

/* -1 when the queue is full: the caller answers 503. */
int
hasher_submit(struct hjob *j)
{
	struct hjob	**tail;

	pthread_mutex_lock(&hasher_mtx);
	if (hasher_ntodo >= HASHER_QUEUE_MAX) {
		pthread_mutex_unlock(&hasher_mtx);
		return -1;
	}
	j->hj_next = NULL;
	for (tail = &hasher_todo; *tail != NULL; tail = &(*tail)->hj_next)
		;
	*tail = j;
	hasher_ntodo++;
	pthread_cond_signal(&hasher_cv);
	pthread_mutex_unlock(&hasher_mtx);
	return 0;
}

struct hjob *
hasher_done(void)
{
	struct hjob	*list;
	uint64_t	 n;

	if (read(hasher_efd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("hasher eventfd");
	pthread_mutex_lock(&hasher_mtx);
	list = hasher_finished;
	hasher_finished = NULL;
	pthread_mutex_unlock(&hasher_mtx);
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
	struct hjob	*j;
	uint64_t	 one = 1;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&hasher_mtx);
		while (hasher_todo == NULL && !hasher_stopping)
			pthread_cond_wait(&hasher_cv, &hasher_mtx);
		if ((j = hasher_todo) == NULL) {
			pthread_mutex_unlock(&hasher_mtx);
			return NULL;
		}
		hasher_todo = j->hj_next;
		hasher_ntodo--;
		pthread_mutex_unlock(&hasher_mtx);

		hasher_run(j);

		pthread_mutex_lock(&hasher_mtx);
		j->hj_next = hasher_finished;
		hasher_finished = j;
		pthread_mutex_unlock(&hasher_mtx);
		if (write(hasher_efd, &one, sizeof(one)) == -1)
			log_warn("hasher eventfd");
	}
}
