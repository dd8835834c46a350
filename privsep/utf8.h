/* SPDX-License-Identifier: ISC */
/*
 * Strict UTF-8 validation, shared by the worker (a guest's value is 400
 * if it is not UTF-8) and the broker, which checks again.
 */
#ifndef SEALMD_UTF8_H
#define SEALMD_UTF8_H

#include "privsep/buf.h"

int	utf8_valid(const struct buf *);

#endif
