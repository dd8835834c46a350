/* SPDX-License-Identifier: ISC */
/*
 * The launcher: forked by sealmd before any key is loaded, it alone
 * starts workers (launcher.c), under its own confinement (sandbox.c).
 */
#ifndef SEALMD_LAUNCHER_H
#define SEALMD_LAUNCHER_H

#include <sys/types.h>

#include <seccomp.h>

struct chan;
struct msg_init;

pid_t		launcher_start(struct chan *, const struct msg_init *,
		    const char *);
void		launcher_stop(struct chan *, pid_t);
void		sandbox_launcher(int);
scmp_filter_ctx	sandbox_launcher_filter(void);

#endif
