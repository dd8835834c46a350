/*
 * Test-only: the real worker, built with -DSEALMD_EVIL, attacks after its
 * real confinement.  Never installed.
 */
#ifndef SEALMD_EVIL_CONFINED_H
#define SEALMD_EVIL_CONFINED_H

#include <stddef.h>

struct worker;

int	evil_confined_pick(char *, size_t);
void	evil_confined_run(struct worker *, int, const char *);

#endif
