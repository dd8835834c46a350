/* SPDX-License-Identifier: ISC */
/*
 * Reads off the event loop, for a store across a network (PostgreSQL).
 * What a request will read is known from the request: the reader threads,
 * each with its own connection, read it ahead into a job.  The event loop
 * then runs the request's ordinary code against that job as its store
 * (store/store_replay.h), so no handler waits on the database and none is
 * written twice.  A read the job does not hold fails as the store being
 * unavailable would, and is logged: a plan that missed something.
 *
 * With SQLite no reader runs: its reads are local, and the event loop
 * makes them itself.
 */
#ifndef SEALMD_READER_H
#define SEALMD_READER_H

#include <stddef.h>
#include <stdint.h>

#include "jobq.h"
#include "privsep/chan.h"
#include "route.h"
#include "store/store.h"

#define READER_THREADS		4
#define READER_QUEUE_MAX	1024	/* about 20 KiB a job */
/* No fewer than OPS_SWEEP_BATCH and READER_OLDER_MAX. */
#define READER_IDS_MAX		64
/* Values an RJ_OLDER job reads: no fewer than ROTATE_BATCH. */
#define READER_OLDER_MAX	32
/* Commits told and not yet taken; more read every waiter again. */
#define READER_TOLD_MAX		64
#define READER_LISTEN_MS	100	/* how soon the listener sees a stop */
#define READER_LISTEN_MAX_MS	5000	/* its longest pause between tries */

/* What to read ahead. */
enum rj_plan {
	RJ_NONE,	/* nothing: the queue was full */
	RJ_ID,		/* an instance by id, and what rj_want adds */
	RJ_ADDR,	/* an instance by address, and what rj_want adds */
	RJ_LIST,	/* a page of instances after rj_key */
	RJ_COUNTS,	/* the store's counts, and of values per key */
	RJ_EXPIRED,	/* values due to expire at rj_now */
	RJ_OLDER,	/* values sealed by a key older than rj_newest */
};

#define RJ_WANT_INST	0x1	/* the whole instance record */
#define RJ_WANT_PW	0x2	/* its stored value */

/* The messages that read the store. */
union reader_msg {
	struct msg_guest	 g;
	struct msg_guest_token	 t;
	struct msg_guest_pw_put	 p;
	struct msg_id		 i;
	struct msg_list		 l;
	struct msg_pw_get	 q;
	struct msg_pw_verify	 v;
};
#define READER_MSG_MAX	sizeof(union reader_msg)

struct rjob {
	struct jobq_link	 rj_q;
	struct rjob		*rj_next;	/* reader_done's list */
	enum rj_plan		 rj_plan;
	int			 rj_want;
	char			 rj_key[ADDR_MAX + ID_LEN + 2];
	int64_t			 rj_now;
	int64_t			 rj_ttl;
	uint32_t		 rj_newest;
	size_t			 rj_max;

	/* read ahead; each result STORE_* */
	int			 rj_r;
	int			 rj_inst_r;
	int			 rj_pw_r;
	struct store_pw		*rj_older;	/* RJ_OLDER: the values */
	union {
		struct {
			struct store_inst	 head;
			struct store_inst	 inst;
			struct store_pw		 pw;
		}			 rj_i;
		struct store_list	 rj_list;
		struct {
			uint32_t		 ninst, npw;
			int			 kc_r;
			struct store_keycount	 kc[STORE_KEYCOUNTS_MAX];
			size_t			 nkc;
		}			 rj_c;
		struct {
			char	id[READER_IDS_MAX][ID_LEN + 1];
			int64_t			 set_at[READER_IDS_MAX];
			int			 pw_r[READER_OLDER_MAX];
			size_t			 n;
		}			 rj_ids;
	};

	int			 rj_then;	/* the caller's: what next */
	struct chan_hdr		 rj_hdr;
	size_t			 rj_len;
	uint8_t			 rj_payload[READER_MSG_MAX];
	struct route		 rj_rt;
	uint32_t		 rj_wait;
	const char		*rj_state;
};

int		 reader_start(enum store_engine, const char *);
void		 reader_stop(void);
int		 reader_fd(void);
int		 reader_on(void);
struct rjob	*reader_job(enum rj_plan, int);
void		 reader_free(struct rjob *);
void		 reader_submit(struct rjob *);
struct rjob	*reader_done(void);
int		 reader_told(char (*)[ID_LEN + 1], size_t, size_t *);

#endif
