/* SPDX-License-Identifier: ISC */
/*
 * Token buckets per guest source: a peer address in direct mode, a
 * verified instance id in proxy mode.  The table has a fixed size, so a
 * flood of sources costs memory once; an evicted source starts full.
 */
#ifndef SEALMD_RATELIMIT_H
#define SEALMD_RATELIMIT_H

#include <stdint.h>

#include "privsep/msg.h"

#define RL_SLOTS	4096
#define RL_PROBE	8
#define RL_KEY_MAX	ADDR_MAX	/* an address, or an instance id */

void	ratelimit_init(void);
int	ratelimit_allow(const char *, uint32_t, uint32_t, uint64_t);
int	ratelimit_would(const char *, uint32_t, uint32_t, uint64_t);

#endif
