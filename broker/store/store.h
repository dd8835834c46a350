/* SPDX-License-Identifier: ISC */
/*
 * The store interface.  An engine keeps instance registrations and sealed
 * password chunks; it never sees a plain value.  Every engine implements
 * struct store_ops; store.c dispatches.
 */
#ifndef SEALMD_STORE_H
#define SEALMD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/sizes.h"

#define SEAL_NONCE_LEN	24			/* XChaCha20 */
#define SEAL_TAG_LEN	16			/* Poly1305 */
#define FP_LEN		8			/* audit fingerprint bytes */

enum store_result {
	STORE_ERR = -1,
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_CONFLICT = 2,	/* set-once lost, or address taken */
};

/*
 * What a chunk's seal binds (broker/seal.c): v1 the instance, the chunk's
 * place and the key; v2 also the value's kind and set_at.
 */
#define SEAL_FORMAT_V1	1
#define SEAL_FORMAT_V2	2		/* what sealmd writes */

struct store_sealed {
	uint32_t	ss_format;			/* SEAL_FORMAT_* */
	uint32_t	ss_key_id;
	uint8_t		ss_nonce[SEAL_NONCE_LEN];
	uint32_t	ss_len;				/* bytes in ss_ct */
	uint8_t		ss_ct[PW_CHUNK_LEN + SEAL_TAG_LEN];
};

#define PW_KIND_VALUE		0	/* the value the guest posted */
#define PW_KIND_VERIFIER	1	/* an Argon2id verifier of it */

struct store_pw {
	uint32_t		sp_nchunks;		/* 1..PW_CHUNKS */
	uint32_t		sp_kind;		/* PW_KIND_* */
	struct store_sealed	sp_chunk[PW_CHUNKS];
	uint8_t			sp_fp[FP_LEN];
	int64_t			sp_set_at;		/* unix seconds */
};

/* How many stored values each key id seals (key rotation). */
struct store_keycount {
	uint32_t	kc_id;
	uint32_t	kc_records;
};

#define STORE_KEYCOUNTS_MAX	64

/*
 * An instance registration as the store keeps it.  Its own struct, not
 * the wire's (struct store_inst); broker/ops.c converts between the
 * two, field by field.  Both are laid out by privsep/sizes.h, so that
 * either fits the other.
 */
struct store_key {
	char		rk_name[KEYNAME_MAX + 1];
	char		rk_data[KEYDATA_MAX + 1];
};

struct store_inst {
	char		ri_id[ID_LEN + 1];
	char		ri_project[PROJECT_MAX + 1];
	char		ri_hostname[HOSTNAME_MAX + 1];
	uint32_t	ri_naddr;
	char		ri_addr[INST_ADDRS_MAX][ADDR_MAX + 1];
	uint32_t	ri_nkeys;
	struct store_key ri_keys[INST_KEYS_MAX];
	int64_t		ri_created;
	int64_t		ri_cleared;	/* last password clear, 0: never */
	int32_t		ri_pw_ttl;	/* 0: the default, -1: never, else s */
	int32_t		ri_one_time;	/* 0: the default, 1: yes, -1: no */
	int32_t		ri_mode;	/* PW_MODE_* */
};

/* One page of the instance listing, in id order. */
struct store_list {
	uint32_t	sl_n;
	uint32_t	sl_more;		/* 1: a next page exists */
	struct {
		char	id[ID_LEN + 1];
		char	project[PROJECT_MAX + 1];
	}		sl_e[LIST_MAX];
};

struct store;

/* The engines.  The configuration picks one, once (config.c). */
enum store_engine {
	STORE_SQLITE,
	STORE_POSTGRESQL,
};

/*
 * A link-local address registered without its interface, as versions
 * before interfaces were required allowed: it identifies no guest now.
 */
struct store_addr {
	char		sa_addr[ADDR_MAX + 1];
	char		sa_id[ID_LEN + 1];
};

/* One read of store_head_pw_many: the key, and where its answer goes. */
struct store_head_req {
	const char		*hr_key;
	int			 hr_by_addr;
	struct store_inst	*hr_inst;
	struct store_pw		*hr_pw;
	int			 hr_r;		/* STORE_*, the instance's */
	int			 hr_pw_r;	/* STORE_*, its value's */
};

#define STORE_HEAD_MANY_MAX	16

struct store_ops {
	const char *name;
	void	(*close)(struct store *);
	/*
	 * A registration, as store.c writes one or many, all or none:
	 * put_begin opens a transaction, or a savepoint in a batch
	 * (*nested); put_write adds one instance's rows in it, and
	 * put_commit or put_abort ends it.  The last three only after a
	 * put_begin that succeeded.
	 */
	int	(*put_begin)(struct store *, int *);
	int	(*put_write)(struct store *, const struct store_inst *,
		    int *);
	int	(*put_commit)(struct store *, int);
	void	(*put_abort)(struct store *, int);
	int	(*instance_get)(struct store *, const char *,
		    struct store_inst *);
	int	(*instance_del)(struct store *, const char *);
	int	(*instance_list)(struct store *, const char *,
		    struct store_list *);
	int	(*pw_put_if_absent)(struct store *, const char *,
		    const struct store_pw *);
	int	(*pw_get)(struct store *, const char *, struct store_pw *);
	int	(*pw_del)(struct store *, const char *);
	int	(*counts)(struct store *, uint32_t *, uint32_t *);
	int	(*key_counts)(struct store *, struct store_keycount *, size_t,
		    size_t *);
	int	(*pw_older)(struct store *, uint32_t, const char *,
		    char (*)[ID_LEN + 1], size_t, size_t *);
	int	(*pw_rewrap)(struct store *, const char *,
		    const struct store_pw *, const struct store_pw *);
	int	(*instance_head)(struct store *, const char *, int,
		    struct store_inst *);
	/*
	 * instance_head, and with it the instance's value into pw/pw_r, in
	 * one round trip; optional (NULL: instance_head, then pw_get).
	 */
	int	(*head_pw)(struct store *, const char *, int,
		    struct store_inst *, struct store_pw *, int *);
	/*
	 * head_pw of up to STORE_HEAD_MANY_MAX keys, in one round trip;
	 * optional (NULL: head_pw each).
	 */
	int	(*head_pw_many)(struct store *, struct store_head_req *,
		    size_t);
	int	(*pw_expire)(struct store *, const char *, int64_t);
	int	(*pw_expired)(struct store *, int64_t, int64_t,
		    char (*)[ID_LEN + 1], int64_t *, size_t, size_t *);
	int	(*pw_take)(struct store *, const char *, struct store_pw *);
	int	(*addr_unscoped)(struct store *, struct store_addr *, size_t,
		    size_t *);
	/* Group commit: writes between begin and commit share one fsync. */
	int	(*batch_begin)(struct store *);
	int	(*batch_commit)(struct store *);
	int	(*batch_active)(struct store *);
	/* Ends the snapshot the reads since the last call shared. */
	void	(*read_end)(struct store *);
	/*
	 * A shared store: the instances whose values any node committed,
	 * waiting at most ms for the first; optional (NULL: none).
	 */
	int	(*notified)(struct store *, int, char (*)[ID_LEN + 1], size_t,
		    size_t *);
};

struct store {
	const struct store_ops	*st_ops;
	void			*st_engine;
};

struct store	*store_open(enum store_engine, const char *, int);
struct store	*store_open_sqlite(const char *);
struct store	*store_open_postgresql(const char *, int);
const char	*store_name(const struct store *);
const char	*store_engine_name(enum store_engine);
int		 store_engine_remote(enum store_engine);
int	store_inst_ok(const struct store_inst *);
int	store_pw_ok(const struct store_pw *);
void	store_close(struct store *);
int	store_instance_put(struct store *, const struct store_inst *, int *);
int	store_instance_put_many(struct store *, const struct store_inst *,
	    size_t, int *, size_t *);
int	store_instance_get(struct store *, const char *, struct store_inst *);
int	store_instance_del(struct store *, const char *);
int	store_instance_list(struct store *, const char *,
	    struct store_list *);
int	store_pw_put_if_absent(struct store *, const char *,
	    const struct store_pw *);
int	store_pw_get(struct store *, const char *, struct store_pw *);
int	store_pw_del(struct store *, const char *);
int	store_counts(struct store *, uint32_t *, uint32_t *);
int	store_key_counts(struct store *, struct store_keycount *, size_t,
	    size_t *);
int	store_pw_older(struct store *, uint32_t, const char *,
	    char (*)[ID_LEN + 1], size_t, size_t *);
int	store_pw_rewrap(struct store *, const char *, const struct store_pw *,
	    const struct store_pw *);
/*
 * By address, key is a peer as the broker names it, IP[%IFNAME][@NET]:
 * a registration of exactly that wins, else one of the address alone
 * (IP[%IFNAME], valid on every listener).  store_addr_base is the length
 * of that second key.
 */
int	store_instance_head(struct store *, const char *, int,
	    struct store_inst *);
size_t	store_addr_base(const char *);
int	store_head_pw(struct store *, const char *, int, struct store_inst *,
	    struct store_pw *, int *);
void	store_head_pw_many(struct store *, struct store_head_req *, size_t);
int	store_pw_expire(struct store *, const char *, int64_t);
int	store_pw_expired(struct store *, int64_t, int64_t,
	    char (*)[ID_LEN + 1], int64_t *, size_t, size_t *);
int	store_pw_take(struct store *, const char *, struct store_pw *);
int	store_addr_unscoped(struct store *, struct store_addr *, size_t,
	    size_t *);
int	store_batch_begin(struct store *);
int	store_batch_commit(struct store *);
int	store_batch_active(struct store *);
void	store_read_end(struct store *);
/*
 * 1 when this call started listening (a new connection: what was
 * committed before is not told), 0, or -1 while the store is
 * unreachable or tells nothing.
 */
int	store_notified(struct store *, int, char (*)[ID_LEN + 1], size_t,
	    size_t *);
/* Stopping: from now no thread waits on a remote database. */
void	store_abort(void);

#endif
