/* SPDX-License-Identifier: ISC */
/* Path normalisation as Nova does it (posixpath.normpath). */
#ifndef SEALMD_PATH_H
#define SEALMD_PATH_H

#include <stddef.h>

#include "privsep/buf.h"

#define PATH_SEGS_MAX	16
#define PATH_SEG_MAX	255

struct path {
	size_t	p_nseg;
	char	p_seg[PATH_SEGS_MAX][PATH_SEG_MAX + 1];
};

int	path_normalize(const struct buf *, struct path *);

#endif
