/* SPDX-License-Identifier: ISC */
/*
 * Where a deferred answer goes (a write after its commit, a waiting GET
 * after a POST), and who the audit line names.  Its own header: the
 * writer, the hasher, the readers and the waiters all carry one, and none
 * of them needs another's.
 */
#ifndef SEALMD_ROUTE_H
#define SEALMD_ROUTE_H

#include <stdint.h>

#include "privsep/msg.h"

/* A peer for logs: "IP[%IFNAME]:PORT", or "uid=N,gid=N,pid=N". */
#define PEER_MAX		(ADDR_MAX + 8)

struct route {
	uint32_t		 rt_type;	/* the answer's message type */
	uint32_t		 rt_reqid;
	uint32_t		 rt_connid;
	uint64_t		 rt_serial;	/* its connection's bc_serial */
	int			 rt_listener;	/* -1: the broker itself */
	char			 rt_peer[PEER_MAX];
};

#endif
