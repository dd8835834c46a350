/* SPDX-License-Identifier: ISC */
/*
 * Confinement of the broker; the clone and capability rules it shares
 * with the launcher (launcher/sandbox.c), which the broker forks.
 */
#ifndef SEALMD_BROKER_SANDBOX_H
#define SEALMD_BROKER_SANDBOX_H

#include <seccomp.h>

/* What glibc's pthread_create passes clone (nptl/pthread_create.c). */
#define SANDBOX_THREAD_FLAGS	(CLONE_VM | CLONE_FS | CLONE_FILES |	\
	CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SETTLS |	\
	CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

void		sandbox_broker(int);
void		sandbox_caps_none(void);
scmp_filter_ctx	sandbox_broker_filter(int);
void		sandbox_clone_rules(scmp_filter_ctx, scmp_datum_t);

#endif
