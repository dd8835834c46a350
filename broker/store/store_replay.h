/* SPDX-License-Identifier: ISC */
/*
 * Read-ahead and the replay store, in the broker.  A plan names what a
 * request will read (struct store_ahead); store_ahead_read makes those
 * reads, on any thread's own store; the replay store then is the event
 * loop's store, for the time the request runs again on what was read.
 * A read the plan does not hold fails as an unavailable store would, and
 * is logged: a plan that missed something.  The reads and their replay
 * live in one file so that they stay in step.
 */
#ifndef SEALMD_STORE_REPLAY_H
#define SEALMD_STORE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* What to read ahead. */
enum ahead_plan {
	AHEAD_NONE,	/* nothing: the queue was full */
	AHEAD_ID,	/* an instance by id, and what ah_want adds */
	AHEAD_ADDR,	/* an instance by address, and what ah_want adds */
	AHEAD_LIST,	/* a page of instances after ah_key */
	AHEAD_COUNTS,	/* the store's counts, and of values per key */
	AHEAD_EXPIRED,	/* values due to expire at ah_now */
	AHEAD_OLDER,	/* values sealed by a key older than ah_newest */
};

#define AHEAD_WANT_INST		0x1	/* the whole instance record */
#define AHEAD_WANT_PW		0x2	/* its stored value */

/* No fewer than OPS_SWEEP_BATCH and AHEAD_OLDER_MAX. */
#define AHEAD_IDS_MAX		64
/* Values an AHEAD_OLDER plan reads: no fewer than ROTATE_BATCH. */
#define AHEAD_OLDER_MAX		32

/*
 * A plan, filled in by its caller, and what store_ahead_read read for it
 * (each result STORE_*).  ah_older, for AHEAD_OLDER, is the caller's
 * array of AHEAD_OLDER_MAX values.
 */
struct store_ahead {
	enum ahead_plan		 ah_plan;
	int			 ah_want;	/* AHEAD_WANT_* */
	char			 ah_key[ADDR_MAX + ID_LEN + 2];
	int64_t			 ah_now;
	int64_t			 ah_ttl;
	uint32_t		 ah_newest;
	size_t			 ah_max;

	int			 ah_r;
	int			 ah_inst_r;
	int			 ah_pw_r;
	struct store_pw		*ah_older;
	union {
		struct {
			struct store_inst	 head;
			struct store_inst	 inst;
			struct store_pw		 pw;
		}			 ah_i;
		struct store_list	 ah_list;
		struct {
			uint32_t		 ninst, npw;
			int			 kc_r;
			struct store_keycount	 kc[STORE_KEYCOUNTS_MAX];
			size_t			 nkc;
		}			 ah_c;
		struct {
			char	id[AHEAD_IDS_MAX][ID_LEN + 1];
			int64_t			 set_at[AHEAD_IDS_MAX];
			int			 pw_r[AHEAD_OLDER_MAX];
			size_t			 n;
		}			 ah_ids;
	};
};

/* a must be zeroed already. */
void	store_ahead_init(struct store_ahead *, enum ahead_plan);
void	store_ahead_read(struct store *, struct store_ahead *);
int	store_ahead_batchable(const struct store_ahead *);
void	store_ahead_read_many(struct store *, struct store_ahead *const *,
	    size_t);
void	store_replay_begin(struct store **, struct store_ahead *);
void	store_replay_end(struct store **);
int	store_replaying(void);

#endif
