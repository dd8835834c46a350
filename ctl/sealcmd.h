/* SPDX-License-Identifier: ISC */
/*
 * sealmdctl's commands that need no server: seal-for (guest side) and
 * decrypt (owner side).  Each appends what it prints to the bbuf, which
 * sealmdctl writes once the command has succeeded; 0 or -1, and usage
 * errors exit 2.
 */
#ifndef SEALMD_SEALCMD_H
#define SEALMD_SEALCMD_H

#include "privsep/buf.h"

int	sealcmd_seal_for(int, char **, struct bbuf *);
int	sealcmd_decrypt(int, char **, struct bbuf *);

/* sealmdctl.c: a usage error, with the hint to --help; exits 2. */
void	ctl_usage_err(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
