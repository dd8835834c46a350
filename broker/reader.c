/* SPDX-License-Identifier: ISC */
/*
 * The reader threads, in the broker: each reads what a job's plan names,
 * on its own connection, for the event loop to replay the request on
 * (store/store_replay.c).  Only a PostgreSQL store starts them; reader.h
 * says why.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "privsep/log.h"
#include "reader.h"
#include "store/store_replay.h"

static pthread_t	 reader_thread[READER_THREADS];
static struct store	*reader_store[READER_THREADS];
static size_t		 reader_nthreads;
static struct jobq	 reader_q = JOBQ_INITIALIZER(READER_QUEUE_MAX);

static void	*reader_main(void *);

/* One thread and connection each; a failure stops the broker's start. */
int
reader_start(enum store_engine engine, const char *target)
{
	size_t	i;

	if (jobq_open(&reader_q) == -1)
		return -1;
	for (i = 0; i < READER_THREADS; i++) {
		if ((reader_store[i] = store_open(engine, target, 0)) == NULL)
			return -1;
		if ((errno = pthread_create(&reader_thread[i], NULL,
		    reader_main, reader_store[i])) != 0) {
			log_warn("pthread_create");
			store_close(reader_store[i]);
			return -1;
		}
		reader_nthreads++;
	}
	return 0;
}

void
reader_stop(void)
{
	struct rjob	*j, *next;
	size_t		 i;

	jobq_stop(&reader_q);
	for (i = 0; i < reader_nthreads; i++) {
		pthread_join(reader_thread[i], NULL);
		store_close(reader_store[i]);
	}
	reader_nthreads = 0;
	/* The threads emptied the queue; what they read goes unanswered. */
	if (jobq_fd(&reader_q) != -1)
		for (j = reader_done(); j != NULL; j = next) {
			next = j->rj_next;
			reader_free(j);
		}
	jobq_close(&reader_q);
}

/* -1 with no reader: poll skips it. */
int
reader_fd(void)
{
	return jobq_fd(&reader_q);
}

/* Reads go through the readers: they run, and this is not a replay. */
int
reader_on(void)
{
	return reader_nthreads > 0 && !store_replaying();
}

struct rjob *
reader_job(enum rj_plan plan, int then)
{
	struct rjob	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("calloc");
	j->rj_plan = plan;
	j->rj_then = then;
	j->rj_r = j->rj_inst_r = j->rj_pw_r = STORE_ERR;
	/* Rewrap batches alone need room for many values. */
	if (plan == RJ_OLDER && (j->rj_older = calloc(READER_OLDER_MAX,
	    sizeof(*j->rj_older))) == NULL)
		fatal("calloc");
	return j;
}

/* Values and the requests that carry them are wiped, not just freed. */
void
reader_free(struct rjob *j)
{
	if (j->rj_older != NULL) {
		sodium_memzero(j->rj_older, READER_OLDER_MAX *
		    sizeof(*j->rj_older));
		free(j->rj_older);
	}
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* A full queue reads nothing: the request is answered 503 at once. */
void
reader_submit(struct rjob *j)
{
	struct jobq_link	*l = &j->rj_q;

	if (jobq_submit(&reader_q, l) == -1) {
		j->rj_plan = RJ_NONE;
		jobq_finish(&reader_q, &l, 1);
	}
}

/* Every finished job, oldest first. */
struct rjob *
reader_done(void)
{
	struct jobq_link	*l;
	struct rjob		*list = NULL, **tail = &list;

	for (l = jobq_done(&reader_q); l != NULL; l = l->jl_next) {
		*tail = JOBQ_ITEM(l, struct rjob, rj_q);
		tail = &(*tail)->rj_next;
	}
	*tail = NULL;
	return list;
}

/* Read what the plan names, on a reader thread's own connection. */
static void
reader_run(struct store *st, struct rjob *j)
{
	size_t	i;

	switch (j->rj_plan) {
	case RJ_NONE:
		break;
	case RJ_ID:
	case RJ_ADDR:
		if (j->rj_key[0] == '\0')
			break;
		if (j->rj_want & RJ_WANT_PW)
			j->rj_r = store_head_pw(st, j->rj_key,
			    j->rj_plan == RJ_ADDR, &j->rj_i.head, &j->rj_i.pw,
			    &j->rj_pw_r);
		else
			j->rj_r = store_instance_head(st, j->rj_key,
			    j->rj_plan == RJ_ADDR, &j->rj_i.head);
		if (j->rj_r == STORE_OK && (j->rj_want & RJ_WANT_INST))
			j->rj_inst_r = store_instance_get(st,
			    j->rj_i.head.ri_id, &j->rj_i.inst);
		break;
	case RJ_LIST:
		j->rj_r = store_instance_list(st, j->rj_key, &j->rj_list);
		break;
	case RJ_COUNTS:
		j->rj_r = store_counts(st, &j->rj_c.ninst, &j->rj_c.npw);
		j->rj_c.kc_r = store_key_counts(st, j->rj_c.kc,
		    STORE_KEYCOUNTS_MAX, &j->rj_c.nkc);
		break;
	case RJ_EXPIRED:
		j->rj_r = store_pw_expired(st, j->rj_now, j->rj_ttl,
		    j->rj_ids.id, j->rj_ids.set_at, j->rj_max, &j->rj_ids.n);
		break;
	case RJ_OLDER:
		j->rj_r = store_pw_older(st, j->rj_newest, j->rj_key,
		    j->rj_ids.id, j->rj_max, &j->rj_ids.n);
		for (i = 0; j->rj_r == STORE_OK && i < j->rj_ids.n; i++)
			j->rj_ids.pw_r[i] = store_pw_get(st, j->rj_ids.id[i],
			    &j->rj_older[i]);
		break;
	}
}

static void *
reader_main(void *arg)
{
	struct store		*st = arg;
	struct jobq_link	*l;

	while (jobq_take(&reader_q, &l, 1) > 0) {
		reader_run(st, JOBQ_ITEM(l, struct rjob, rj_q));
		jobq_finish(&reader_q, &l, 1);
	}
	return NULL;
}
