/* SPDX-License-Identifier: ISC */
/*
 * Engine-independent store entry points: each dispatches to the engine's
 * struct store_ops, so callers never know which engine they hold.
 */
#include <stddef.h>
#include <string.h>

#include "privsep/log.h"
#include "store.h"

/*
 * backend "sqlite" opens the file target, migrating it; "postgresql" the
 * database conninfo target, and migrates an older schema only with
 * migrate: other nodes may still run on it.
 */
struct store *
store_open(enum store_engine engine, const char *target, int migrate)
{
	switch (engine) {
	case STORE_POSTGRESQL:
		return store_open_postgresql(target, migrate);
	case STORE_SQLITE:
		break;
	}
	return store_open_sqlite(target);
}

/* As the configuration spells it. */
const char *
store_engine_name(enum store_engine engine)
{
	return engine == STORE_POSTGRESQL ? "postgresql" : "sqlite";
}

/*
 * Across a network: its reads go through the reader threads, and the
 * broker's sandbox lets it reach the database.
 */
int
store_engine_remote(enum store_engine engine)
{
	return engine == STORE_POSTGRESQL;
}

static int
store_str_ok(const char *str, size_t size)
{
	return strnlen(str, size) < size;
}

/*
 * What an engine is asked to keep.  The broker validated it; an engine
 * checks again, since it is what keeps it.
 */
int
store_inst_ok(const struct store_inst *inst)
{
	uint32_t	i, j;

	if (inst->ri_id[0] == '\0' ||
	    !store_str_ok(inst->ri_id, sizeof(inst->ri_id)) ||
	    !store_str_ok(inst->ri_project, sizeof(inst->ri_project)) ||
	    !store_str_ok(inst->ri_hostname, sizeof(inst->ri_hostname)) ||
	    inst->ri_naddr > INST_ADDRS_MAX || inst->ri_nkeys > INST_KEYS_MAX)
		return 0;
	for (i = 0; i < inst->ri_naddr; i++) {
		if (inst->ri_addr[i][0] == '\0' ||
		    !store_str_ok(inst->ri_addr[i], sizeof(inst->ri_addr[i])))
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(inst->ri_addr[i], inst->ri_addr[j]) == 0)
				return 0;
	}
	for (i = 0; i < inst->ri_nkeys; i++)
		if (!store_str_ok(inst->ri_keys[i].rk_name,
		    sizeof(inst->ri_keys[i].rk_name)) ||
		    !store_str_ok(inst->ri_keys[i].rk_data,
		    sizeof(inst->ri_keys[i].rk_data)))
			return 0;
	return 1;
}

int
store_pw_ok(const struct store_pw *pw)
{
	uint32_t	i;

	if (pw->sp_nchunks < 1 || pw->sp_nchunks > PW_CHUNKS) {
		log_warnx("store: bad chunk count %u", pw->sp_nchunks);
		return 0;
	}
	for (i = 0; i < pw->sp_nchunks; i++)
		if (pw->sp_chunk[i].ss_len < SEAL_TAG_LEN ||
		    pw->sp_chunk[i].ss_len > PW_CHUNK_LEN + SEAL_TAG_LEN ||
		    pw->sp_chunk[i].ss_format < SEAL_FORMAT_V1 ||
		    pw->sp_chunk[i].ss_format > SEAL_FORMAT_V2) {
			log_warnx("store: bad sealed length or format");
			return 0;
		}
	return 1;
}

const char *
store_name(const struct store *st)
{
	return st->st_ops->name;
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->st_ops->close(st);
}

/* One registration: a batch of one. */
int
store_instance_put(struct store *st, const struct store_inst *inst,
    int *created)
{
	size_t	bad;

	return store_instance_put_many(st, inst, 1, created, &bad);
}

/*
 * n registrations in one transaction (bulk registration, or one):
 * created[i] tells whether the i-th was new; on the first that fails,
 * none is kept, *bad is its index and its result is returned.  One
 * transaction or savepoint for them all, none per entry (a round trip
 * each on PostgreSQL, a journal truncation each on SQLite): any failure
 * undoes the whole batch anyway.
 */
int
store_instance_put_many(struct store *st, const struct store_inst *insts,
    size_t n, int *created, size_t *bad)
{
	const struct store_ops	*ops = st->st_ops;
	size_t			 i;
	int			 nested, r = STORE_OK;

	*bad = 0;
	if (ops->put_begin(st, &nested) == -1)
		return STORE_ERR;
	for (i = 0; i < n && r == STORE_OK; i++) {
		if (!store_inst_ok(&insts[i])) {
			log_warnx("%s: malformed instance record", __func__);
			r = STORE_ERR;
		} else
			r = ops->put_write(st, &insts[i], &created[i]);
		if (r != STORE_OK)
			*bad = i;
	}
	if (r == STORE_OK && ops->put_commit(st, nested) == -1) {
		*bad = n;
		r = STORE_ERR;
	}
	if (r != STORE_OK)
		ops->put_abort(st, nested);
	return r;
}

int
store_instance_get(struct store *st, const char *id,
    struct store_inst *inst)
{
	return st->st_ops->instance_get(st, id, inst);
}

int
store_instance_del(struct store *st, const char *id)
{
	return st->st_ops->instance_del(st, id);
}

int
store_instance_list(struct store *st, const char *after,
    struct store_list *ans)
{
	return st->st_ops->instance_list(st, after, ans);
}

int
store_pw_put_if_absent(struct store *st, const char *id,
    const struct store_pw *pw)
{
	return st->st_ops->pw_put_if_absent(st, id, pw);
}

int
store_pw_get(struct store *st, const char *id, struct store_pw *pw)
{
	return st->st_ops->pw_get(st, id, pw);
}

int
store_pw_del(struct store *st, const char *id)
{
	return st->st_ops->pw_del(st, id);
}

int
store_counts(struct store *st, uint32_t *instances, uint32_t *passwords)
{
	return st->st_ops->counts(st, instances, passwords);
}

int
store_batch_begin(struct store *st)
{
	return st->st_ops->batch_begin(st);
}

int
store_batch_commit(struct store *st)
{
	return st->st_ops->batch_commit(st);
}

int
store_batch_active(struct store *st)
{
	return st->st_ops->batch_active(st);
}

int
store_key_counts(struct store *st, struct store_keycount *kc, size_t max,
    size_t *n)
{
	return st->st_ops->key_counts(st, kc, max, n);
}

int
store_pw_older(struct store *st, uint32_t newest, const char *after,
    char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
	return st->st_ops->pw_older(st, newest, after, ids, max, n);
}

int
store_pw_rewrap(struct store *st, const char *id, const struct store_pw *old,
    const struct store_pw *new)
{
	return st->st_ops->pw_rewrap(st, id, old, new);
}

int
store_pw_expire(struct store *st, const char *id, int64_t set_at)
{
	return st->st_ops->pw_expire(st, id, set_at);
}

int
store_pw_expired(struct store *st, int64_t now, int64_t ttl,
    char (*ids)[ID_LEN + 1], int64_t *set_at, size_t max, size_t *n)
{
	return st->st_ops->pw_expired(st, now, ttl, ids, set_at, max, n);
}

int
store_pw_take(struct store *st, const char *id, struct store_pw *pw)
{
	return st->st_ops->pw_take(st, id, pw);
}

int
store_instance_head(struct store *st, const char *key, int by_addr,
    struct store_inst *inst)
{
	return st->st_ops->instance_head(st, key, by_addr, inst);
}

/* At most max of them, in address order. */
int
store_addr_unscoped(struct store *st, struct store_addr *out, size_t max,
    size_t *n)
{
	return st->st_ops->addr_unscoped(st, out, max, n);
}

size_t
store_addr_base(const char *key)
{
	return strcspn(key, "@");
}

int
store_head_pw(struct store *st, const char *key, int by_addr,
    struct store_inst *inst, struct store_pw *pw, int *pw_r)
{
	int	r;

	*pw_r = STORE_ERR;
	if (st->st_ops->head_pw != NULL)
		return st->st_ops->head_pw(st, key, by_addr, inst, pw, pw_r);
	/* An engine with cheap reads makes two. */
	if ((r = store_instance_head(st, key, by_addr, inst)) == STORE_OK)
		*pw_r = store_pw_get(st, inst->ri_id, pw);
	return r;
}

/*
 * Every request its own answer, as store_head_pw gives it.  An engine
 * that reads them all at once fails them all at once: no retry one by
 * one, which could wait n times on a database that does not answer.
 */
void
store_head_pw_many(struct store *st, struct store_head_req *req, size_t n)
{
	size_t	i;

	if (n > STORE_HEAD_MANY_MAX)
		fatalx("%s: %zu keys", __func__, n);
	if (st->st_ops->head_pw_many == NULL) {
		for (i = 0; i < n; i++)
			req[i].hr_r = store_head_pw(st, req[i].hr_key,
			    req[i].hr_by_addr, req[i].hr_inst, req[i].hr_pw,
			    &req[i].hr_pw_r);
		return;
	}
	for (i = 0; i < n; i++)
		req[i].hr_r = req[i].hr_pw_r = STORE_ERR;
	if (st->st_ops->head_pw_many(st, req, n) == 0)
		return;
	for (i = 0; i < n; i++) {
		req[i].hr_r = req[i].hr_pw_r = STORE_ERR;
		memset(req[i].hr_inst, 0, sizeof(*req[i].hr_inst));
		memset(req[i].hr_pw, 0, sizeof(*req[i].hr_pw));
	}
}

int
store_notified(struct store *st, int ms, char (*ids)[ID_LEN + 1],
    size_t max, size_t *n)
{
	*n = 0;
	if (st->st_ops->notified == NULL)
		return -1;
	return st->st_ops->notified(st, ms, ids, max, n);
}

void
store_read_end(struct store *st)
{
	st->st_ops->read_end(st);
}
