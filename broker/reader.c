/* SPDX-License-Identifier: ISC */
/*
 * The reader threads, in the broker: each reads what a job's plan names
 * (store_ahead_read, store/store_replay.c) on its own connection, for the
 * event loop to replay the request on.  Only a PostgreSQL store starts
 * them; reader.h says why.  One more thread listens, on a connection of
 * its own, for the values any node commits, and hands their instance ids
 * to the event loop through the readers' eventfd.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "privsep/log.h"
#include "reader.h"
#include "store/store_replay.h"

static pthread_t	 reader_thread[READER_THREADS];
static struct store	*reader_store[READER_THREADS];
static size_t		 reader_nthreads;
/*
 * Readers reading guests' reads now, and when the last of them began
 * (CLOCK_MONOTONIC ms); and whether the event loop queued another read
 * since it last woke a reader.  The loop's alone: reader_other.
 */
static atomic_int	 reader_guests;
static _Atomic int64_t	 reader_guests_ms;
static int		 reader_other;
static struct jobq	 reader_q = JOBQ_INITIALIZER(READER_QUEUE_MAX);
/*
 * Jobs wiped and kept for the next requests, the event loop's: a job is
 * 22 KiB, and allocating a batch of them afresh each turn faulted new
 * pages in and gave them back.
 */
static struct rjob	*reader_pool;
static size_t		 reader_npool;

/* The listener: what it was told, for the event loop to take. */
static pthread_t	 reader_lthread;
static struct store	*reader_lstore;
static atomic_int	 reader_lstop;
static pthread_mutex_t	 reader_lmtx = PTHREAD_MUTEX_INITIALIZER;
static char		 reader_lids[READER_TOLD_MAX][ID_LEN + 1];
static size_t		 reader_nlids;
static int		 reader_lresync;

static void	*reader_main(void *);
static void	*reader_listen(void *);

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
	if ((reader_lstore = store_open(engine, target, 0)) == NULL)
		return -1;
	if ((errno = pthread_create(&reader_lthread, NULL, reader_listen,
	    reader_lstore)) != 0) {
		log_warn("pthread_create");
		store_close(reader_lstore);
		reader_lstore = NULL;
		return -1;
	}
	return 0;
}

void
reader_stop(void)
{
	struct rjob	*j, *next;
	size_t		 i;

	if (reader_lstore != NULL) {
		atomic_store(&reader_lstop, 1);
		pthread_join(reader_lthread, NULL);
		store_close(reader_lstore);
		reader_lstore = NULL;
	}
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
	while ((j = reader_pool) != NULL) {
		reader_pool = j->rj_next;
		free(j);
	}
	reader_npool = 0;
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
reader_job(enum ahead_plan plan, int then)
{
	struct rjob	*j;

	if ((j = reader_pool) != NULL) {
		reader_pool = j->rj_next;
		reader_npool--;
		j->rj_next = NULL;
	} else if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("calloc");
	store_ahead_init(&j->rj_ah, plan);
	j->rj_then = then;
	/* Rewrap batches alone need room for many values. */
	if (plan == AHEAD_OLDER && (j->rj_ah.ah_older =
	    calloc(AHEAD_OLDER_MAX, sizeof(*j->rj_ah.ah_older))) == NULL)
		fatal("calloc");
	return j;
}

/*
 * Values and the requests that carry them are wiped, not just freed or
 * kept.
 */
void
reader_free(struct rjob *j)
{
	if (j->rj_ah.ah_older != NULL) {
		sodium_memzero(j->rj_ah.ah_older, AHEAD_OLDER_MAX *
		    sizeof(*j->rj_ah.ah_older));
		free(j->rj_ah.ah_older);
	}
	sodium_memzero(j, sizeof(*j));
	if (reader_npool == READER_POOL_MAX) {
		free(j);
		return;
	}
	j->rj_next = reader_pool;
	reader_pool = j;
	reader_npool++;
}

/*
 * A full queue reads nothing: the request is answered 503 at once.  No
 * reader wakes before reader_wake.
 */
void
reader_submit(struct rjob *j)
{
	struct jobq_link	*l = &j->rj_q;

	if (!store_ahead_batchable(&j->rj_ah))
		reader_other = 1;
	if (jobq_queue(&reader_q, l) == -1) {
		j->rj_ah.ah_plan = AHEAD_NONE;
		jobq_finish(&reader_q, &l, 1);
	}
}

static int64_t
reader_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The event loop, before it waits: one reader wakes for what its turn
 * submitted, and takes the guests' reads together.  While one reads
 * guests, the next turns' guests wait for it: it takes them all when it
 * is back, in one statement, instead of one more reader taking each
 * turn's few.  Not for long: a whole batch waiting, any other read, or
 * a guests' statement older than READER_GUESTS_MS (a lock held in the
 * database) wakes another reader, so that a stuck read stalls only the
 * requests it holds.
 */
void
reader_wake(void)
{
	if (reader_nthreads > 0 && (reader_other ||
	    atomic_load(&reader_guests) == 0 ||
	    reader_now_ms() - atomic_load(&reader_guests_ms) >
	    READER_GUESTS_MS ||
	    jobq_queued(&reader_q) >= STORE_HEAD_MANY_MAX))
		jobq_wake(&reader_q);
	reader_other = 0;
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

/*
 * The jobs one take found queued: the guests' reads first, in one call
 * that PostgreSQL answers with one statement, and handed back at once;
 * then the rest, one by one.  Each job still reads the database now:
 * nothing is kept from one take to the next.
 */
static void
reader_run_many(struct store *st, struct jobq_link **l, size_t n)
{
	struct store_ahead	*ah[STORE_HEAD_MANY_MAX];
	struct jobq_link	*hl[STORE_HEAD_MANY_MAX];
	struct rjob		*j;
	size_t			 i, m = 0;
	int			 rest[STORE_HEAD_MANY_MAX];

	/* A finished job is the event loop's: it may be gone at once. */
	for (i = 0; i < n; i++) {
		j = JOBQ_ITEM(l[i], struct rjob, rj_q);
		if ((rest[i] = !store_ahead_batchable(&j->rj_ah)))
			continue;
		hl[m] = l[i];
		ah[m++] = &j->rj_ah;
	}
	if (m > 0) {
		atomic_store(&reader_guests_ms, reader_now_ms());
		atomic_fetch_add(&reader_guests, 1);
		store_ahead_read_many(st, ah, m);
		jobq_finish(&reader_q, hl, m);
		atomic_fetch_sub(&reader_guests, 1);
	}
	for (i = 0; i < n; i++) {
		if (!rest[i])
			continue;
		j = JOBQ_ITEM(l[i], struct rjob, rj_q);
		store_ahead_read(st, &j->rj_ah);
		jobq_finish(&reader_q, &l[i], 1);
	}
}

static void *
reader_main(void *arg)
{
	struct store		*st = arg;
	struct jobq_link	*l[STORE_HEAD_MANY_MAX];
	size_t			 n;

	/*
	 * As many as one statement reads: fewer statements, each for more
	 * guests, cost the database and this thread less.  What this take
	 * leaves wakes another reader.
	 */
	while ((n = jobq_take(&reader_q, l, STORE_HEAD_MANY_MAX)) > 0)
		reader_run_many(st, l, n);
	return NULL;
}

/*
 * The ids told since the last call, at most max; 1 when every waiter must
 * be read again instead: the listener has just (re)connected, and what
 * committed before was told to nobody, or more was told than fits.
 */
int
reader_told(char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	int	resync;

	pthread_mutex_lock(&reader_lmtx);
	resync = reader_lresync || reader_nlids > max;
	*n = resync ? 0 : reader_nlids;
	memcpy(ids, reader_lids, *n * sizeof(ids[0]));
	reader_nlids = 0;
	reader_lresync = 0;
	pthread_mutex_unlock(&reader_lmtx);
	return resync;
}

static void *
reader_listen(void *arg)
{
	struct store	*st = arg;
	char		 ids[READER_TOLD_MAX][ID_LEN + 1];
	uint64_t	 one = 1;
	size_t		 i, n;
	int		 r, wait = 0;

	while (!atomic_load(&reader_lstop)) {
		/*
		 * Unreachable, or a server that refuses LISTEN (a standby):
		 * try again after a pause that doubles, in slices that see
		 * a stop.
		 */
		if ((r = store_notified(st, READER_LISTEN_MS, ids,
		    READER_TOLD_MAX, &n)) == -1) {
			wait = wait == 0 ? READER_LISTEN_MS : wait * 2;
			if (wait > READER_LISTEN_MAX_MS)
				wait = READER_LISTEN_MAX_MS;
			for (i = 0; i < (size_t)(wait / READER_LISTEN_MS) &&
			    !atomic_load(&reader_lstop); i++)
				(void)poll(NULL, 0, READER_LISTEN_MS);
			continue;
		}
		wait = 0;
		if (r == 0 && n == 0)
			continue;
		pthread_mutex_lock(&reader_lmtx);
		reader_lresync |= r;
		for (i = 0; i < n; i++) {
			if (reader_nlids == READER_TOLD_MAX) {
				reader_lresync = 1;
				break;
			}
			memcpy(reader_lids[reader_nlids++], ids[i],
			    sizeof(ids[i]));
		}
		pthread_mutex_unlock(&reader_lmtx);
		if (write(jobq_fd(&reader_q), &one, sizeof(one)) == -1)
			log_warn("reader eventfd");
	}
	return NULL;
}
