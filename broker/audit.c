/* SPDX-License-Identifier: ISC */
/*
 * The audit log: one logfmt line per operation.  It names the operation,
 * listener, peer, instance, status and a truncated keyed fingerprint of
 * the value, never the value, a signature or a key.
 */
#include <stdio.h>

#include <sodium.h>

#include "broker.h"
#include "privsep/log.h"
#include "stats.h"

/* listener and peer come by value: a write may finish after its conn. */
void
audit_op(const struct broker *b, int listener, const char *peer,
    const char *op, const char *instance, unsigned int status,
    const uint8_t *fp)
{
	char	hex[FP_LEN * 2 + 1] = "-";

	if (fp != NULL)
		sodium_bin2hex(hex, sizeof(hex), fp, FP_LEN);
	stats_count(op, status);
	log_audit("op=%s listener=%s peer=%s instance=%s status=%u fp=%s",
	    op, listener >= 0 ? b->b_listen[listener].l_name : "-", peer,
	    instance[0] != '\0' ? instance : "-", status, hex);
}
