/*
 * Engine-independent store entry points: each dispatches to the engine's
 * struct store_ops, so callers never know which engine they hold.
 */
#include <stddef.h>

#include "store.h"

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

int
store_instance_put(struct store *st, const struct msg_instance *inst,
    int *created)
{
	return st->st_ops->instance_put(st, inst, created);
}

int
store_instance_get(struct store *st, const char *id,
    struct msg_instance *inst)
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
    struct msg_list_ans *ans)
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
    struct msg_instance *inst)
{
	return st->st_ops->instance_head(st, key, by_addr, inst);
}

void
store_read_end(struct store *st)
{
	st->st_ops->read_end(st);
}
