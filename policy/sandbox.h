/* Confinement of the worker, applied once, in a fixed order. */
#ifndef SEALMD_SANDBOX_H
#define SEALMD_SANDBOX_H

#include <seccomp.h>

#include "privsep/msg.h"

void		sandbox_worker(const struct msg_init *, int);
void		sandbox_worker_drop(const struct msg_init *);
scmp_filter_ctx	sandbox_worker_filter(void);
void		sandbox_broker(const char *, int, int);
scmp_filter_ctx	sandbox_broker_filter(const char *, int);

#endif
