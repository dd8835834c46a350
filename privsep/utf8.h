/* SPDX-License-Identifier: ISC */
#ifndef SEALMD_UTF8_H
#define SEALMD_UTF8_H

#include "privsep/buf.h"

int	utf8_valid(const struct buf *);

#endif
