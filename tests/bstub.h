/* SPDX-License-Identifier: ISC */
/*
 * What the two harnesses that drive the broker without its event loop
 * share (tests/unit/bfix.c, the unit tests' broker, and
 * tests/fuzz/fuzz_chan.c, the channel fuzzer's): stubs for the worker's
 * supervision and the sandbox, which they replace, the proxy's HMAC, and
 * a configuration that reads no clock.  Test code only; never installed.
 */
#ifndef SEALMD_TEST_BSTUB_H
#define SEALMD_TEST_BSTUB_H

#include <stdint.h>

#include "broker/config.h"

/* The harness's: the broker reached what the harness stands in for. */
void	bstub_unreached(const char *);

void	bstub_sign(const char *, const char *, char [SIG_MAX + 1]);
void	bstub_conf(struct config *, uint32_t, const char *);

#endif
