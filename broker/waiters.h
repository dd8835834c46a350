/*
 * Owner GETs waiting for a guest to post (?wait=SECONDS).  A fixed table,
 * no thread: a committed POST answers every waiter of its instance, the
 * event loop answers the rest empty at their deadline.  With a shared
 * store the POST may commit on another node: the readers look again for
 * every waiter's value each WAITERS_POLL_MS.
 */
#ifndef SEALMD_WAITERS_H
#define SEALMD_WAITERS_H

#include "writer.h"

#define WAITERS_MAX	1024
#define WAITERS_POLL_MS	1000

struct broker;

int	waiters_add(const struct route *, const char *, uint64_t);
void	waiters_wake(struct broker *, const char *);
void	waiters_expire(struct broker *, uint64_t);
void	waiters_poll(uint64_t);
void	waiters_drop_conn(uint32_t);

#endif
