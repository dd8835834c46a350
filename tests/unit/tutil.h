/* SPDX-License-Identifier: ISC */
/*
 * What unit tests share that is no part of sealmd: removing a scratch
 * directory whole, and the configuration tests' file in a directory of
 * its own.  Every unit test links tests/unit/tutil.c.
 */
#ifndef SEALMD_TEST_TUTIL_H
#define SEALMD_TEST_TUTIL_H

#include <limits.h>
#include <stddef.h>

void	tutil_rm_tree(const char *);

/* The file config_load reads: made by tutil_conf_setup, a suite's .init. */
extern char	tutil_conf_path[PATH_MAX];
void	tutil_conf_setup(void);
void	tutil_conf_teardown(void);
void	tutil_conf_write(const char *, size_t);
void	tutil_conf_err(const char *, int, const char *);

#endif
