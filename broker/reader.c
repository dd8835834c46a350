/* SPDX-License-Identifier: ISC */
/*
 * The reader threads, in the broker, and the replay store (memo_*) the
 * event loop reads from when a request runs again on what a reader read
 * ahead.  Only a PostgreSQL store starts them; reader.h says why.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker.h"
#include "privsep/log.h"
#include "reader.h"

static pthread_t	 reader_thread[READER_THREADS];
static struct store	*reader_store[READER_THREADS];
static size_t		 reader_nthreads;
static struct jobq	 reader_q = JOBQ_INITIALIZER(READER_QUEUE_MAX);

/* The job being replayed, as the event loop's store. */
static struct store	 reader_memo;
static struct store	*reader_saved;
static int		 reader_replaying;

static void	*reader_main(void *);

/* One thread and connection each; a failure stops the broker's start. */
int
reader_start(const char *backend, const char *target)
{
	size_t	i;

	if (jobq_open(&reader_q) == -1)
		return -1;
	for (i = 0; i < READER_THREADS; i++) {
		if ((reader_store[i] = store_open(backend, target, 0)) == NULL)
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
	return reader_nthreads > 0 && !reader_replaying;
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
			    j->rj_i.head.mn_id, &j->rj_i.inst);
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

/*
 * The replay store: it answers from the job, and only what the plan read.
 * Anything else is a plan that missed a read: logged, and answered as an
 * unavailable store would be, so the request gets 503, not a guess.
 */
static int
memo_miss(const struct rjob *j, const char *what)
{
	if (j->rj_plan != RJ_NONE)
		log_warnx("reader: %s was not read ahead (plan %d)", what,
		    (int)j->rj_plan);
	return STORE_ERR;
}

/* The instance the plan looked up, if key names it. */
static int
memo_is(const struct rjob *j, const char *key, int by_addr)
{
	if (j->rj_plan != RJ_ID && j->rj_plan != RJ_ADDR)
		return 0;
	if (by_addr)
		return j->rj_plan == RJ_ADDR && strcmp(key, j->rj_key) == 0;
	if (j->rj_plan == RJ_ID && strcmp(key, j->rj_key) == 0)
		return 1;
	return j->rj_r == STORE_OK && strcmp(key, j->rj_i.head.mn_id) == 0;
}

static int
memo_instance_head(struct store *st, const char *key, int by_addr,
    struct msg_instance *inst)
{
	const struct rjob	*j = st->st_engine;

	inst->mn_naddr = inst->mn_nkeys = 0;
	if (!memo_is(j, key, by_addr))
		return memo_miss(j, "an instance");
	if (j->rj_r == STORE_OK)
		*inst = j->rj_i.head;
	return j->rj_r;
}

/*
 * Whether the plan read what want names of instance id: STORE_OK to take
 * it from the job, else the answer to give (the head's, or a miss).
 */
static int
memo_more(const struct rjob *j, const char *id, int want, const char *what)
{
	if (!memo_is(j, id, 0))
		return memo_miss(j, what);
	if (j->rj_r != STORE_OK)
		return j->rj_r;
	if (!(j->rj_want & want))
		return memo_miss(j, what);
	return STORE_OK;
}

static int
memo_instance_get(struct store *st, const char *id, struct msg_instance *inst)
{
	const struct rjob	*j = st->st_engine;
	int			 r;

	memset(inst, 0, sizeof(*inst));
	if ((r = memo_more(j, id, RJ_WANT_INST, "an instance record")) !=
	    STORE_OK)
		return r;
	if (j->rj_inst_r == STORE_OK)
		*inst = j->rj_i.inst;
	return j->rj_inst_r;
}

static int
memo_pw_get(struct store *st, const char *id, struct store_pw *pw)
{
	const struct rjob	*j = st->st_engine;
	size_t			 i;
	int			 r;

	memset(pw, 0, sizeof(*pw));
	if (j->rj_plan == RJ_OLDER) {
		for (i = 0; i < j->rj_ids.n; i++)
			if (strcmp(id, j->rj_ids.id[i]) == 0) {
				*pw = j->rj_older[i];
				return j->rj_ids.pw_r[i];
			}
		return memo_miss(j, "a value");
	}
	if ((r = memo_more(j, id, RJ_WANT_PW, "a value")) != STORE_OK)
		return r;
	if (j->rj_pw_r == STORE_OK)
		*pw = j->rj_i.pw;
	return j->rj_pw_r;
}

static int
memo_instance_list(struct store *st, const char *after,
    struct msg_list_ans *ans)
{
	const struct rjob	*j = st->st_engine;

	if (j->rj_plan != RJ_LIST ||
	    strcmp(after != NULL ? after : "", j->rj_key) != 0)
		return memo_miss(j, "a list");
	if (j->rj_r == STORE_OK) {
		ans->mla_n = j->rj_list.mla_n;
		ans->mla_more = j->rj_list.mla_more;
		memcpy(ans->mla_e, j->rj_list.mla_e, sizeof(ans->mla_e));
	}
	return j->rj_r;
}

static int
memo_counts(struct store *st, uint32_t *instances, uint32_t *passwords)
{
	const struct rjob	*j = st->st_engine;

	if (j->rj_plan != RJ_COUNTS)
		return memo_miss(j, "the counts");
	*instances = j->rj_c.ninst;
	*passwords = j->rj_c.npw;
	return j->rj_r;
}

static int
memo_key_counts(struct store *st, struct store_keycount *kc, size_t max,
    size_t *n)
{
	const struct rjob	*j = st->st_engine;

	*n = 0;
	if (j->rj_plan != RJ_COUNTS || j->rj_c.nkc > max)
		return memo_miss(j, "the key counts");
	if (j->rj_c.kc_r == STORE_OK) {
		memcpy(kc, j->rj_c.kc, j->rj_c.nkc * sizeof(*kc));
		*n = j->rj_c.nkc;
	}
	return j->rj_c.kc_r;
}

/* The ids the job read, into a caller's arrays no smaller than rj_max. */
static int
memo_ids(const struct rjob *j, char (*ids)[ID_LEN + 1], int64_t *set_at,
    size_t max, size_t *n)
{
	*n = 0;
	if (max < j->rj_max)
		return memo_miss(j, "a longer list of ids");
	if (j->rj_r != STORE_OK)
		return j->rj_r;
	memcpy(ids, j->rj_ids.id, j->rj_ids.n * sizeof(ids[0]));
	if (set_at != NULL)
		memcpy(set_at, j->rj_ids.set_at,
		    j->rj_ids.n * sizeof(set_at[0]));
	*n = j->rj_ids.n;
	return STORE_OK;
}

static int
memo_pw_expired(struct store *st, int64_t now, int64_t ttl,
    char (*ids)[ID_LEN + 1], int64_t *set_at, size_t max, size_t *n)
{
	const struct rjob	*j = st->st_engine;

	(void)now;
	(void)ttl;
	*n = 0;
	if (j->rj_plan != RJ_EXPIRED)
		return memo_miss(j, "the expired values");
	return memo_ids(j, ids, set_at, max, n);
}

static int
memo_pw_older(struct store *st, uint32_t newest, const char *after,
    char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	const struct rjob	*j = st->st_engine;

	*n = 0;
	if (j->rj_plan != RJ_OLDER || newest != j->rj_newest ||
	    strcmp(after, j->rj_key) != 0)
		return memo_miss(j, "the values to rewrap");
	return memo_ids(j, ids, NULL, max, n);
}

/* Writes go to the writer, never through the event loop's store. */
static int
memo_write(struct store *st)
{
	(void)st;
	log_warnx("reader: a write reached the event loop's store");
	return STORE_ERR;
}

static int
memo_instance_put(struct store *st, const struct msg_instance *inst,
    int *created)
{
	(void)inst;
	(void)created;
	return memo_write(st);
}

static int
memo_id_write(struct store *st, const char *id)
{
	(void)id;
	return memo_write(st);
}

static int
memo_pw_put(struct store *st, const char *id, const struct store_pw *pw)
{
	(void)id;
	(void)pw;
	return memo_write(st);
}

static int
memo_pw_rewrap(struct store *st, const char *id, const struct store_pw *old,
    const struct store_pw *new)
{
	(void)id;
	(void)old;
	(void)new;
	return memo_write(st);
}

static int
memo_pw_expire(struct store *st, const char *id, int64_t set_at)
{
	(void)id;
	(void)set_at;
	return memo_write(st);
}

static int
memo_pw_take(struct store *st, const char *id, struct store_pw *pw)
{
	(void)id;
	memset(pw, 0, sizeof(*pw));
	return memo_write(st);
}

static int
memo_batch_active(struct store *st)
{
	(void)st;
	return 0;
}

static void
memo_nothing(struct store *st)
{
	(void)st;
}

static struct store_ops memo_ops = {
	.close = memo_nothing,
	.instance_put = memo_instance_put,
	.instance_get = memo_instance_get,
	.instance_del = memo_id_write,
	.instance_list = memo_instance_list,
	.pw_put_if_absent = memo_pw_put,
	.pw_get = memo_pw_get,
	.pw_del = memo_id_write,
	.counts = memo_counts,
	.key_counts = memo_key_counts,
	.pw_older = memo_pw_older,
	.pw_rewrap = memo_pw_rewrap,
	.instance_head = memo_instance_head,
	.pw_expire = memo_pw_expire,
	.pw_expired = memo_pw_expired,
	.pw_take = memo_pw_take,
	.batch_begin = memo_write,
	.batch_commit = memo_write,
	.batch_active = memo_batch_active,
	.read_end = memo_nothing,
};

/* The event loop's store is the job until reader_replay_end. */
void
reader_replay_begin(struct broker *b, struct rjob *j)
{
	if (reader_replaying)
		fatalx("%s: nested replay", __func__);
	memo_ops.name = store_name(b->b_store);
	reader_memo.st_ops = &memo_ops;
	reader_memo.st_engine = j;
	reader_saved = b->b_store;
	b->b_store = &reader_memo;
	reader_replaying = 1;
}

void
reader_replay_end(struct broker *b)
{
	b->b_store = reader_saved;
	reader_replaying = 0;
}
