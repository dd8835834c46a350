/* SPDX-License-Identifier: ISC */
/*
 * Key rotation.  The ring only grows: rotate adds a key that seals every
 * new value; rewrap re-seals old values under it in small batches through
 * the writer, each value all at once; retire removes a key that seals
 * nothing any more.  A value is never re-sealed away from a key that is
 * still in the ring, so a crash at any point leaves every value openable.
 */
#ifndef SEALMD_ROTATE_H
#define SEALMD_ROTATE_H

#include <stddef.h>
#include <stdint.h>

#define ROTATE_BATCH		32	/* values per event-loop turn */
#define ROTATE_QUEUE_MAX	64	/* writer jobs before it waits */

struct broker;
struct msg_keys_ans;
struct wjob;

int	rotate_new_key(struct broker *, char *, size_t);
int	rotate_retire_check(struct broker *, uint32_t, char *, size_t);
int	rotate_retire(struct broker *, const struct wjob *, char *, size_t);
void	rotate_start(struct broker *);
void	rotate_step(struct broker *);
void	rotate_done(struct broker *, const struct wjob *);
void	rotate_fill(struct broker *, struct msg_keys_ans *);

#endif
