/* SPDX-License-Identifier: ISC */
/*
 * Read-ahead and the replay store, in the broker.  store_ahead_read makes
 * the reads a plan names, on the store of the thread that runs it (a
 * reader's, broker/reader.c); the replay store, in the event loop, is a
 * store engine that answers from that plan, only what it read.  A
 * request read ahead runs again on it, its ordinary code unchanged, so
 * no handler waits on the database and none is written twice.  Writes
 * never come here: they go to the writer.
 */
#include <string.h>

#include "privsep/log.h"
#include "store.h"
#include "store_replay.h"

static struct store	 replay_store;
static struct store	*replay_saved;	/* the real one, while replaying */

/*
 * A plan of that kind that has read nothing yet, in zeroed memory: a
 * is reader_job's, calloc'd or wiped whole by reader_free, so it is not
 * zeroed a second time here (tens of KB, on every read ahead).
 */
void
store_ahead_init(struct store_ahead *a, enum ahead_plan plan)
{
	a->ah_plan = plan;
	a->ah_r = a->ah_inst_r = a->ah_pw_r = STORE_ERR;
}

/* Read what the plan names, on st; the replay answers from it. */
void
store_ahead_read(struct store *st, struct store_ahead *a)
{
	size_t	i;

	switch (a->ah_plan) {
	case AHEAD_NONE:
		break;
	case AHEAD_ID:
	case AHEAD_ADDR:
		if (a->ah_key[0] == '\0')
			break;
		if (a->ah_want & AHEAD_WANT_PW)
			a->ah_r = store_head_pw(st, a->ah_key,
			    a->ah_plan == AHEAD_ADDR, &a->ah_i.head,
			    &a->ah_i.pw, &a->ah_pw_r);
		else
			a->ah_r = store_instance_head(st, a->ah_key,
			    a->ah_plan == AHEAD_ADDR, &a->ah_i.head);
		if (a->ah_r == STORE_OK && (a->ah_want & AHEAD_WANT_INST))
			a->ah_inst_r = store_instance_get(st,
			    a->ah_i.head.ri_id, &a->ah_i.inst);
		break;
	case AHEAD_LIST:
		a->ah_r = store_instance_list(st, a->ah_key, &a->ah_list);
		break;
	case AHEAD_COUNTS:
		a->ah_r = store_counts(st, &a->ah_c.ninst, &a->ah_c.npw);
		a->ah_c.kc_r = store_key_counts(st, a->ah_c.kc,
		    STORE_KEYCOUNTS_MAX, &a->ah_c.nkc);
		break;
	case AHEAD_EXPIRED:
		a->ah_r = store_pw_expired(st, a->ah_now, a->ah_ttl,
		    a->ah_ids.id, a->ah_ids.set_at, a->ah_max, &a->ah_ids.n);
		break;
	case AHEAD_OLDER:
		a->ah_r = store_pw_older(st, a->ah_newest, a->ah_key,
		    a->ah_ids.id, a->ah_max, &a->ah_ids.n);
		for (i = 0; a->ah_r == STORE_OK && i < a->ah_ids.n; i++)
			a->ah_ids.pw_r[i] = store_pw_get(st, a->ah_ids.id[i],
			    &a->ah_older[i]);
		break;
	}
}

/*
 * A guest's read (and a waiter's poll): an instance and its value, which
 * store_ahead_read_many reads with others in one call.
 */
int
store_ahead_batchable(const struct store_ahead *a)
{
	return (a->ah_plan == AHEAD_ID || a->ah_plan == AHEAD_ADDR) &&
	    a->ah_key[0] != '\0' && a->ah_want == AHEAD_WANT_PW;
}

/*
 * Up to STORE_HEAD_MANY_MAX batchable plans, read as store_ahead_read
 * would read each, in one call that PostgreSQL answers with one
 * statement.
 */
void
store_ahead_read_many(struct store *st, struct store_ahead *const *a,
    size_t n)
{
	struct store_head_req	 req[STORE_HEAD_MANY_MAX];
	size_t			 i;

	if (n > STORE_HEAD_MANY_MAX)
		fatalx("%s: %zu plans", __func__, n);
	for (i = 0; i < n; i++) {
		if (!store_ahead_batchable(a[i]))
			fatalx("%s: plan %d is not a guest's read", __func__,
			    (int)a[i]->ah_plan);
		req[i].hr_key = a[i]->ah_key;
		req[i].hr_by_addr = a[i]->ah_plan == AHEAD_ADDR;
		req[i].hr_inst = &a[i]->ah_i.head;
		req[i].hr_pw = &a[i]->ah_i.pw;
	}
	store_head_pw_many(st, req, n);
	for (i = 0; i < n; i++) {
		a[i]->ah_r = req[i].hr_r;
		a[i]->ah_pw_r = req[i].hr_pw_r;
	}
}

/*
 * The replay store: it answers from the plan, and only what the plan read.
 * Anything else is a plan that missed a read: logged, and answered as an
 * unavailable store would be, so the request gets 503, not a guess.
 */
static int
replay_miss(const struct store_ahead *a, const char *what)
{
	if (a->ah_plan != AHEAD_NONE)
		log_warnx("replay: %s was not read ahead (plan %d)", what,
		    (int)a->ah_plan);
	return STORE_ERR;
}

/* The instance the plan looked up, if key names it. */
static int
replay_is(const struct store_ahead *a, const char *key, int by_addr)
{
	if (a->ah_plan != AHEAD_ID && a->ah_plan != AHEAD_ADDR)
		return 0;
	if (by_addr)
		return a->ah_plan == AHEAD_ADDR && strcmp(key, a->ah_key) == 0;
	if (a->ah_plan == AHEAD_ID && strcmp(key, a->ah_key) == 0)
		return 1;
	return a->ah_r == STORE_OK && strcmp(key, a->ah_i.head.ri_id) == 0;
}

static int
replay_instance_head(struct store *st, const char *key, int by_addr,
    struct store_inst *inst)
{
	const struct store_ahead	*a = st->st_engine;

	inst->ri_naddr = inst->ri_nkeys = 0;
	if (!replay_is(a, key, by_addr))
		return replay_miss(a, "an instance");
	if (a->ah_r == STORE_OK)
		*inst = a->ah_i.head;
	return a->ah_r;
}

/*
 * Whether the plan read what want names of instance id: STORE_OK to take
 * it from the plan, else the answer to give (the head's, or a miss).
 */
static int
replay_more(const struct store_ahead *a, const char *id, int want,
    const char *what)
{
	if (!replay_is(a, id, 0))
		return replay_miss(a, what);
	if (a->ah_r != STORE_OK)
		return a->ah_r;
	if (!(a->ah_want & want))
		return replay_miss(a, what);
	return STORE_OK;
}

static int
replay_instance_get(struct store *st, const char *id, struct store_inst *inst)
{
	const struct store_ahead	*a = st->st_engine;
	int				 r;

	if ((r = replay_more(a, id, AHEAD_WANT_INST, "an instance record")) ==
	    STORE_OK)
		r = a->ah_inst_r;
	/* The copy defines all of inst: zero it only when there is none. */
	if (r == STORE_OK)
		*inst = a->ah_i.inst;
	else
		memset(inst, 0, sizeof(*inst));
	return r;
}

static int
replay_pw_get(struct store *st, const char *id, struct store_pw *pw)
{
	const struct store_ahead	*a = st->st_engine;
	size_t				 i;
	int				 r;

	memset(pw, 0, sizeof(*pw));
	if (a->ah_plan == AHEAD_OLDER) {
		for (i = 0; i < a->ah_ids.n; i++)
			if (strcmp(id, a->ah_ids.id[i]) == 0) {
				*pw = a->ah_older[i];
				return a->ah_ids.pw_r[i];
			}
		return replay_miss(a, "a value");
	}
	if ((r = replay_more(a, id, AHEAD_WANT_PW, "a value")) != STORE_OK)
		return r;
	if (a->ah_pw_r == STORE_OK)
		*pw = a->ah_i.pw;
	return a->ah_pw_r;
}

static int
replay_instance_list(struct store *st, const char *after,
    struct store_list *ans)
{
	const struct store_ahead	*a = st->st_engine;

	if (a->ah_plan != AHEAD_LIST ||
	    strcmp(after != NULL ? after : "", a->ah_key) != 0)
		return replay_miss(a, "a list");
	if (a->ah_r == STORE_OK) {
		ans->sl_n = a->ah_list.sl_n;
		ans->sl_more = a->ah_list.sl_more;
		memcpy(ans->sl_e, a->ah_list.sl_e, sizeof(ans->sl_e));
	}
	return a->ah_r;
}

static int
replay_counts(struct store *st, uint32_t *instances, uint32_t *passwords)
{
	const struct store_ahead	*a = st->st_engine;

	if (a->ah_plan != AHEAD_COUNTS)
		return replay_miss(a, "the counts");
	*instances = a->ah_c.ninst;
	*passwords = a->ah_c.npw;
	return a->ah_r;
}

static int
replay_key_counts(struct store *st, struct store_keycount *kc, size_t max,
    size_t *n)
{
	const struct store_ahead	*a = st->st_engine;

	*n = 0;
	if (a->ah_plan != AHEAD_COUNTS || a->ah_c.nkc > max)
		return replay_miss(a, "the key counts");
	if (a->ah_c.kc_r == STORE_OK) {
		memcpy(kc, a->ah_c.kc, a->ah_c.nkc * sizeof(*kc));
		*n = a->ah_c.nkc;
	}
	return a->ah_c.kc_r;
}

/* The ids the plan read, into a caller's arrays no smaller than ah_max. */
static int
replay_ids(const struct store_ahead *a, char (*ids)[ID_LEN + 1],
    int64_t *set_at, size_t max, size_t *n)
{
	*n = 0;
	if (max < a->ah_max)
		return replay_miss(a, "a longer list of ids");
	if (a->ah_r != STORE_OK)
		return a->ah_r;
	memcpy(ids, a->ah_ids.id, a->ah_ids.n * sizeof(ids[0]));
	if (set_at != NULL)
		memcpy(set_at, a->ah_ids.set_at,
		    a->ah_ids.n * sizeof(set_at[0]));
	*n = a->ah_ids.n;
	return STORE_OK;
}

static int
replay_pw_expired(struct store *st, int64_t now, int64_t ttl,
    char (*ids)[ID_LEN + 1], int64_t *set_at, size_t max, size_t *n)
{
	const struct store_ahead	*a = st->st_engine;

	(void)now;
	(void)ttl;
	*n = 0;
	if (a->ah_plan != AHEAD_EXPIRED)
		return replay_miss(a, "the expired values");
	return replay_ids(a, ids, set_at, max, n);
}

static int
replay_pw_older(struct store *st, uint32_t newest, const char *after,
    char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	const struct store_ahead	*a = st->st_engine;

	*n = 0;
	if (a->ah_plan != AHEAD_OLDER || newest != a->ah_newest ||
	    strcmp(after, a->ah_key) != 0)
		return replay_miss(a, "the values to rewrap");
	return replay_ids(a, ids, NULL, max, n);
}

/* Writes go to the writer, never through the event loop's store. */
static int
replay_write(struct store *st)
{
	(void)st;
	log_warnx("replay: a write reached the event loop's store");
	return STORE_ERR;
}

/* A registration fails at its put_begin: the other three never run. */
static int
replay_put_begin(struct store *st, int *nested)
{
	*nested = 0;
	(void)replay_write(st);
	return -1;
}

static int
replay_put_write(struct store *st, const struct store_inst *inst,
    int *created)
{
	(void)inst;
	(void)created;
	return replay_write(st);
}

static int
replay_put_commit(struct store *st, int nested)
{
	(void)nested;
	(void)replay_write(st);
	return -1;
}

static void
replay_put_abort(struct store *st, int nested)
{
	(void)st;
	(void)nested;
}

static int
replay_id_write(struct store *st, const char *id)
{
	(void)id;
	return replay_write(st);
}

static int
replay_pw_put(struct store *st, const char *id, const struct store_pw *pw)
{
	(void)id;
	(void)pw;
	return replay_write(st);
}

static int
replay_pw_rewrap(struct store *st, const char *id, const struct store_pw *old,
    const struct store_pw *new)
{
	(void)id;
	(void)old;
	(void)new;
	return replay_write(st);
}

static int
replay_pw_expire(struct store *st, const char *id, int64_t set_at)
{
	(void)id;
	(void)set_at;
	return replay_write(st);
}

static int
replay_pw_take(struct store *st, const char *id, struct store_pw *pw)
{
	(void)id;
	memset(pw, 0, sizeof(*pw));
	return replay_write(st);
}

static int
replay_batch_active(struct store *st)
{
	(void)st;
	return 0;
}

static void
replay_nothing(struct store *st)
{
	(void)st;
}

static struct store_ops replay_ops = {
	.close = replay_nothing,
	.put_begin = replay_put_begin,
	.put_write = replay_put_write,
	.put_commit = replay_put_commit,
	.put_abort = replay_put_abort,
	.instance_get = replay_instance_get,
	.instance_del = replay_id_write,
	.instance_list = replay_instance_list,
	.pw_put_if_absent = replay_pw_put,
	.pw_get = replay_pw_get,
	.pw_del = replay_id_write,
	.counts = replay_counts,
	.key_counts = replay_key_counts,
	.pw_older = replay_pw_older,
	.pw_rewrap = replay_pw_rewrap,
	.instance_head = replay_instance_head,
	.pw_expire = replay_pw_expire,
	.pw_expired = replay_pw_expired,
	.pw_take = replay_pw_take,
	.batch_begin = replay_write,
	.batch_commit = replay_write,
	.batch_active = replay_batch_active,
	.read_end = replay_nothing,
};

/*
 * *stp, the event loop's store, is a's until store_replay_end: the
 * request's ordinary code runs on what a's plan read.
 */
void
store_replay_begin(struct store **stp, struct store_ahead *a)
{
	if (replay_saved != NULL)
		fatalx("%s: nested replay", __func__);
	replay_ops.name = store_name(*stp);
	replay_store.st_ops = &replay_ops;
	replay_store.st_engine = a;
	replay_saved = *stp;
	*stp = &replay_store;
}

void
store_replay_end(struct store **stp)
{
	if (replay_saved == NULL)
		fatalx("%s: no replay", __func__);
	*stp = replay_saved;
	replay_saved = NULL;
}

/* The event loop's store is a replay: reads come from a plan. */
int
store_replaying(void)
{
	return replay_saved != NULL;
}
