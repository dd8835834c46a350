/* SPDX-License-Identifier: ISC */
/*
 * The launcher: forked by sealmd before any key is loaded, it alone
 * starts workers (launcher.c), under its own confinement (sandbox.c).
 */
#ifndef SEALMD_LAUNCHER_H
#define SEALMD_LAUNCHER_H

#include <seccomp.h>

struct broker;

void		launcher_start(struct broker *);
void		launcher_stop(struct broker *);
void		sandbox_launcher(int);
scmp_filter_ctx	sandbox_launcher_filter(void);

#endif
