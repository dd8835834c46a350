/* SPDX-License-Identifier: ISC */
/*
 * The replay store, in the broker's event loop: a store engine that
 * answers from a reader job (broker/reader.h), only what its plan read
 * ahead.  A request read ahead runs again on it, its ordinary code
 * unchanged, so no handler waits on the database and none is written
 * twice.  Writes never come here: they go to the writer.
 */
#include <string.h>

#include "broker/reader.h"
#include "privsep/log.h"
#include "store.h"
#include "store_replay.h"

static struct store	 replay_store;
static struct store	*replay_saved;	/* the real one, while replaying */

/*
 * The replay store: it answers from the job, and only what the plan read.
 * Anything else is a plan that missed a read: logged, and answered as an
 * unavailable store would be, so the request gets 503, not a guess.
 */
static int
replay_miss(const struct rjob *j, const char *what)
{
	if (j->rj_plan != RJ_NONE)
		log_warnx("replay: %s was not read ahead (plan %d)", what,
		    (int)j->rj_plan);
	return STORE_ERR;
}

/* The instance the plan looked up, if key names it. */
static int
replay_is(const struct rjob *j, const char *key, int by_addr)
{
	if (j->rj_plan != RJ_ID && j->rj_plan != RJ_ADDR)
		return 0;
	if (by_addr)
		return j->rj_plan == RJ_ADDR && strcmp(key, j->rj_key) == 0;
	if (j->rj_plan == RJ_ID && strcmp(key, j->rj_key) == 0)
		return 1;
	return j->rj_r == STORE_OK && strcmp(key, j->rj_i.head.ri_id) == 0;
}

static int
replay_instance_head(struct store *st, const char *key, int by_addr,
    struct store_inst *inst)
{
	const struct rjob	*j = st->st_engine;

	inst->ri_naddr = inst->ri_nkeys = 0;
	if (!replay_is(j, key, by_addr))
		return replay_miss(j, "an instance");
	if (j->rj_r == STORE_OK)
		*inst = j->rj_i.head;
	return j->rj_r;
}

/*
 * Whether the plan read what want names of instance id: STORE_OK to take
 * it from the job, else the answer to give (the head's, or a miss).
 */
static int
replay_more(const struct rjob *j, const char *id, int want, const char *what)
{
	if (!replay_is(j, id, 0))
		return replay_miss(j, what);
	if (j->rj_r != STORE_OK)
		return j->rj_r;
	if (!(j->rj_want & want))
		return replay_miss(j, what);
	return STORE_OK;
}

static int
replay_instance_get(struct store *st, const char *id, struct store_inst *inst)
{
	const struct rjob	*j = st->st_engine;
	int			 r;

	memset(inst, 0, sizeof(*inst));
	if ((r = replay_more(j, id, RJ_WANT_INST, "an instance record")) !=
	    STORE_OK)
		return r;
	if (j->rj_inst_r == STORE_OK)
		*inst = j->rj_i.inst;
	return j->rj_inst_r;
}

static int
replay_pw_get(struct store *st, const char *id, struct store_pw *pw)
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
		return replay_miss(j, "a value");
	}
	if ((r = replay_more(j, id, RJ_WANT_PW, "a value")) != STORE_OK)
		return r;
	if (j->rj_pw_r == STORE_OK)
		*pw = j->rj_i.pw;
	return j->rj_pw_r;
}

static int
replay_instance_list(struct store *st, const char *after,
    struct store_list *ans)
{
	const struct rjob	*j = st->st_engine;

	if (j->rj_plan != RJ_LIST ||
	    strcmp(after != NULL ? after : "", j->rj_key) != 0)
		return replay_miss(j, "a list");
	if (j->rj_r == STORE_OK) {
		ans->sl_n = j->rj_list.sl_n;
		ans->sl_more = j->rj_list.sl_more;
		memcpy(ans->sl_e, j->rj_list.sl_e, sizeof(ans->sl_e));
	}
	return j->rj_r;
}

static int
replay_counts(struct store *st, uint32_t *instances, uint32_t *passwords)
{
	const struct rjob	*j = st->st_engine;

	if (j->rj_plan != RJ_COUNTS)
		return replay_miss(j, "the counts");
	*instances = j->rj_c.ninst;
	*passwords = j->rj_c.npw;
	return j->rj_r;
}

static int
replay_key_counts(struct store *st, struct store_keycount *kc, size_t max,
    size_t *n)
{
	const struct rjob	*j = st->st_engine;

	*n = 0;
	if (j->rj_plan != RJ_COUNTS || j->rj_c.nkc > max)
		return replay_miss(j, "the key counts");
	if (j->rj_c.kc_r == STORE_OK) {
		memcpy(kc, j->rj_c.kc, j->rj_c.nkc * sizeof(*kc));
		*n = j->rj_c.nkc;
	}
	return j->rj_c.kc_r;
}

/* The ids the job read, into a caller's arrays no smaller than rj_max. */
static int
replay_ids(const struct rjob *j, char (*ids)[ID_LEN + 1], int64_t *set_at,
    size_t max, size_t *n)
{
	*n = 0;
	if (max < j->rj_max)
		return replay_miss(j, "a longer list of ids");
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
replay_pw_expired(struct store *st, int64_t now, int64_t ttl,
    char (*ids)[ID_LEN + 1], int64_t *set_at, size_t max, size_t *n)
{
	const struct rjob	*j = st->st_engine;

	(void)now;
	(void)ttl;
	*n = 0;
	if (j->rj_plan != RJ_EXPIRED)
		return replay_miss(j, "the expired values");
	return replay_ids(j, ids, set_at, max, n);
}

static int
replay_pw_older(struct store *st, uint32_t newest, const char *after,
    char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	const struct rjob	*j = st->st_engine;

	*n = 0;
	if (j->rj_plan != RJ_OLDER || newest != j->rj_newest ||
	    strcmp(after, j->rj_key) != 0)
		return replay_miss(j, "the values to rewrap");
	return replay_ids(j, ids, NULL, max, n);
}

/* Writes go to the writer, never through the event loop's store. */
static int
replay_write(struct store *st)
{
	(void)st;
	log_warnx("replay: a write reached the event loop's store");
	return STORE_ERR;
}

static int
replay_instance_put(struct store *st, const struct store_inst *inst,
    int *created)
{
	(void)inst;
	(void)created;
	return replay_write(st);
}

static int
replay_instance_put_many(struct store *st, const struct store_inst *insts,
    size_t n, int *created, size_t *bad)
{
	(void)insts;
	(void)n;
	(void)created;
	*bad = 0;
	return replay_write(st);
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
	.instance_put = replay_instance_put,
	.instance_put_many = replay_instance_put_many,
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
 * *stp, the event loop's store, is the job until store_replay_end: the
 * request's ordinary code runs on what the job read.
 */
void
store_replay_begin(struct store **stp, struct rjob *j)
{
	if (replay_saved != NULL)
		fatalx("%s: nested replay", __func__);
	replay_ops.name = store_name(*stp);
	replay_store.st_ops = &replay_ops;
	replay_store.st_engine = j;
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

/* The event loop's store is a replay: reads come from the job. */
int
store_replaying(void)
{
	return replay_saved != NULL;
}
