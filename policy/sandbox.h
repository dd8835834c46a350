/* Confinement of the worker, the broker and the launcher. */
#ifndef SEALMD_SANDBOX_H
#define SEALMD_SANDBOX_H

#include <seccomp.h>

#include "privsep/msg.h"

/* What glibc's pthread_create passes clone (nptl/pthread_create.c). */
#define SANDBOX_THREAD_FLAGS	(CLONE_VM | CLONE_FS | CLONE_FILES |	\
	CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SETTLS |	\
	CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

void		sandbox_worker(const struct msg_init *, int);
void		sandbox_worker_drop(const struct msg_init *);
scmp_filter_ctx	sandbox_worker_filter(void);
void		sandbox_broker(int);
void		sandbox_caps_none(void);
scmp_filter_ctx	sandbox_broker_filter(int);
void		sandbox_launcher(int);
scmp_filter_ctx	sandbox_launcher_filter(void);
void		sandbox_clone_rules(scmp_filter_ctx, scmp_datum_t);

#endif
