/* SPDX-License-Identifier: ISC */
/*
 * Reads off the event loop, for a store across a network (PostgreSQL).
 * What a request will read is known from the request: the reader threads,
 * each with its own connection, read it ahead into a job.  The event loop
 * then runs the request's ordinary code against that job's plan as its
 * store (store/store_replay.h), so no handler waits on the database and
 * none is written twice.  A read the plan does not hold fails as the
 * store being unavailable would, and is logged: a plan that missed
 * something.
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
#include "store/store_replay.h"

#define READER_THREADS		4
#define READER_QUEUE_MAX	1024	/* about 20 KiB a job */
#define READER_POOL_MAX		64	/* jobs kept for reuse */
/* A guests' statement older than this no longer holds others (ms). */
#define READER_GUESTS_MS	10
/* Commits told and not yet taken; more read every waiter again. */
#define READER_TOLD_MAX		64
#define READER_LISTEN_MS	100	/* how soon the listener sees a stop */
#define READER_LISTEN_MAX_MS	5000	/* its longest pause between tries */

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
	struct store_ahead	 rj_ah;		/* the plan, and what it read */

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
struct rjob	*reader_job(enum ahead_plan, int);
void		 reader_free(struct rjob *);
void		 reader_submit(struct rjob *);
void		 reader_wake(void);
struct rjob	*reader_done(void);
int		 reader_told(char (*)[ID_LEN + 1], size_t, size_t *);

#endif
