/* SPDX-License-Identifier: ISC */
/*
 * The audit log: one logfmt line per operation.  It names the operation,
 * listener, peer, instance, status and a truncated keyed fingerprint of
 * the value, never the value, a signature or a key.
 */
#include <limits.h>

#include <sodium.h>

#include "broker.h"
#include "privsep/log.h"
#include "stats.h"

#define AUDIT_DEC	11	/* UINT_MAX's 10 digits and a NUL */
_Static_assert(UINT_MAX <= 4294967295U, "AUDIT_DEC too short");

/* v in decimal, at the end of buf; no printf on this path. */
static const char *
audit_dec(char buf[AUDIT_DEC], unsigned int v)
{
	size_t	i = AUDIT_DEC - 1;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	return &buf[i];
}

/* listener and peer come by value: a write may finish after its conn. */
void
audit_op(const struct broker *b, int listener, const char *peer,
    const char *op, const char *instance, unsigned int status,
    const uint8_t *fp)
{
	char		 hex[FP_LEN * 2 + 1] = "-", dec[AUDIT_DEC];
	const char	*part[] = {
		"op=", op,
		" listener=", listener >= 0 ? b->b_listen[listener].l_name :
		    "-",
		" peer=", peer,
		" instance=", instance[0] != '\0' ? instance : "-",
		" status=", audit_dec(dec, status),
		" fp=", hex,
	};

	if (fp != NULL)
		sodium_bin2hex(hex, sizeof(hex), fp, FP_LEN);
	stats_count(op, status);
	log_audit(part, sizeof(part) / sizeof(part[0]));
}
