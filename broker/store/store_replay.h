/* SPDX-License-Identifier: ISC */
/*
 * The replay store: the event loop's store, for the time a request runs
 * again on what a reader job read ahead.  A read the job does not hold
 * fails as an unavailable store would, and is logged: a plan that missed
 * something.
 */
#ifndef SEALMD_STORE_REPLAY_H
#define SEALMD_STORE_REPLAY_H

struct rjob;
struct store;

void	store_replay_begin(struct store **, struct rjob *);
void	store_replay_end(struct store **);
int	store_replaying(void);

#endif
