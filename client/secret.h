/* SPDX-License-Identifier: ISC */
/*
 * The password a guest-side command seals: read from stdin (prompted for
 * twice, without echo, on a terminal) or generated.  Never from argv.
 */
#ifndef SEALMD_SECRET_H
#define SEALMD_SECRET_H

#include <stddef.h>

#include "privsep/buf.h"

#define SECRET_RANDOM_MIN	12
#define SECRET_RANDOM_DEFAULT	20	/* about 116 bits */

int	secret_read(int, struct bbuf *, size_t, int, struct buf *);
int	secret_random(struct bbuf *, size_t, struct buf *);

#endif
