/* SPDX-License-Identifier: ISC */
/* Confinement of the worker. */
#ifndef SEALMD_WORKER_SANDBOX_H
#define SEALMD_WORKER_SANDBOX_H

#include <seccomp.h>

#include "privsep/msg.h"

void		sandbox_worker(const struct msg_init *, int);
void		sandbox_worker_drop(const struct msg_init *);
scmp_filter_ctx	sandbox_worker_filter(void);

#endif
