/* SPDX-License-Identifier: ISC */
/*
 * Owner GETs waiting for a guest to post (?wait=SECONDS).  A fixed table,
 * no thread: a committed POST answers every waiter of its instance, the
 * event loop answers the rest empty at their deadline.  With a shared
 * store the POST may commit on another node: the database tells every
 * node (LISTEN/NOTIFY, reader.c's listener), and the readers read the
 * values of the waiters it names.  Nothing is polled on a timer; when
 * the listener (re)connects, or was told more than it holds, the readers
 * read every waiter again, up to WAITERS_POLL_MAX a loop turn.
 */
#ifndef SEALMD_WAITERS_H
#define SEALMD_WAITERS_H

#include "route.h"

#define WAITERS_MAX	1024
#define WAITERS_POLL_MAX	64	/* reads a turn: requests come first */

struct broker;

int	waiters_add(const struct route *, const char *, uint64_t);
void	waiters_wake(struct broker *, const char *);
void	waiters_expire(struct broker *, uint64_t);
void	waiters_told(void);
void	waiters_poll(void);
void	waiters_drop_conn(uint32_t);
void	waiters_clear(void);
size_t	waiters_count(void);

#endif
