/* SPDX-License-Identifier: ISC */
/*
 * Strict UTF-8 (RFC 3629 §4): shortest forms only, no surrogates, nothing
 * above U+10FFFF.  Those limits all show in the first continuation byte.
 */
#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"
#include "privsep/utf8.h"

int
utf8_valid(const struct buf *in)
{
	struct buf	b = *in;
	uint8_t		c, lo, hi;
	size_t		more;

	for (;;) {
		buf_skip_ascii(&b);
		if (buf_get_u8(&b, &c) == -1)
			break;
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* overlong */
			else if (c == 0xed)
				hi = 0x9f;	/* U+D800-DFFF */
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;	/* overlong */
			else if (c == 0xf4)
				hi = 0x8f;	/* above U+10FFFF */
		} else
			return 0;	/* continuation, C0, C1 or F5-FF */
		for (; more > 0; more--) {
			if (buf_get_u8(&b, &c) == -1 || c < lo || c > hi)
				return 0;
			lo = 0x80;
			hi = 0xbf;
		}
	}
	return 1;
}
