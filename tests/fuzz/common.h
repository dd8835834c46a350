/* SPDX-License-Identifier: ISC */
/*
 * What every fuzz harness shares: a failed invariant aborts with a message
 * (libFuzzer then saves the input), and a private temporary directory that
 * is removed at exit.  common.c also stands in for privsep/log.c.
 */
#ifndef SEALMD_FUZZ_COMMON_H
#define SEALMD_FUZZ_COMMON_H

#include <stddef.h>

#define FUZZ_CHECK(cond, ...) do {				\
	if (!(cond))						\
		fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);	\
} while (0)

void		 fuzz_fail(const char *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4), noreturn));
const char	*fuzz_tmpdir(const char *);
void		 fuzz_write_file(const char *, const void *, size_t);

#endif
