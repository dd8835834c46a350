/* SPDX-License-Identifier: ISC */
/*
 * Group commit.  Every write to the store goes to one writer thread with
 * its own connection.  It runs each queued write in a savepoint of one
 * transaction and commits them together: many answers, one fsync.  The
 * event loop keeps its own connection for reads, which never wait for the
 * writer.  A write is answered only after its batch has committed.
 */
#ifndef SEALMD_WRITER_H
#define SEALMD_WRITER_H

#include <stdint.h>

#include "jobq.h"
#include "privsep/msg.h"
#include "route.h"
#include "store/store.h"

#define WRITER_BATCH_MAX	256
#define WRITER_QUEUE_MAX	4096	/* beyond it: 503 at once */
enum wjob_op {
	WJ_PW_PUT,
	WJ_INST_PUT,
	WJ_INST_BATCH,		/* wj_n of wj_batch, all or none */
	WJ_INST_DEL,
	WJ_PW_DEL,
	WJ_PW_REWRAP,		/* wj_old re-sealed as wj_pw */
	WJ_PW_EXPIRE,		/* the value set at wj_set_at is past its TTL */
	WJ_PW_TAKE,		/* one-time read: read and remove */
	WJ_KEY_COUNT,		/* values sealed by wj_key, after every write
				   queued before it (key retirement) */
};

struct wjob {
	struct jobq_link	 wj_q;
	struct wjob		*wj_next;	/* writer_done's list */
	enum wjob_op		 wj_op;
	char			 wj_id[ID_LEN + 1];
	struct store_pw		 wj_pw;
	struct store_pw		 wj_old;
	struct store_inst	*wj_inst;	/* WJ_INST_PUT: owned */
	int64_t			 wj_set_at;
	int64_t			 wj_ttl;	/* WJ_PW_TAKE: effective TTL */
	uint32_t		 wj_wait;	/* WJ_PW_TAKE: ?wait= seconds */
	uint32_t		 wj_key;	/* WJ_KEY_COUNT: key id */
	uint32_t		 wj_count;	/* WJ_KEY_COUNT: its values */
	int			 wj_result;	/* enum store_result */
	int			 wj_created;
	struct store_inst	*wj_batch;	/* WJ_INST_BATCH: owned */
	size_t			 wj_n;
	int			*wj_createds;	/* each entry's created */
	size_t			 wj_bad;	/* the entry that failed */
	struct route		 wj_rt;
	const char		*wj_audit;
};

int		 writer_start(enum store_engine, const char *);
void		 writer_stop(void);
int		 writer_fd(void);
int		 writer_submit(struct wjob *);
void		 writer_wake(void);
struct wjob	*writer_done(void);
void		 writer_stats(struct msg_hist *, struct msg_hist *);
size_t		 writer_queued(void);

#endif
