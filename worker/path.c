/* SPDX-License-Identifier: ISC */
/*
 * The path as Nova sees it: PATH_INFO percent-decoded by the WSGI server,
 * then posixpath.normpath.  Decoding comes first, so "%2f" separates and
 * "%2e%2e" climbs, just as in Nova.  Unlike normpath, any run of leading
 * slashes collapses to one: the result is a list of segments under the
 * root.
 */
#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"
#include "worker/http.h"
#include "worker/path.h"
#include "privsep/utf8.h"

static int	path_hex(uint8_t, uint8_t *);
static int	path_decode(const struct buf *, uint8_t *, size_t, size_t *);

int
path_normalize(const struct buf *raw, struct path *out)
{
	uint8_t		dec[HTTP_LINE_MAX];
	struct buf	d, seg, keep[PATH_SEGS_MAX];
	size_t		len, n = 0, over = 0, i;

	out->p_nseg = 0;
	if (path_decode(raw, dec, sizeof(dec), &len) == -1)
		return -1;
	buf_init(&d, dec, len);
	if (!utf8_valid(&d))
		return -1;
	while (buf_sep(&d, '/', &seg) == 0) {
		if (buf_left(&seg) == 0 || buf_eq(&seg, "."))
			continue;
		if (buf_eq(&seg, "..")) {
			/* Above the root stays at the root, as in normpath. */
			if (over > 0)
				over--;
			else if (n > 0)
				n--;
		} else if (n < PATH_SEGS_MAX)
			keep[n++] = seg;
		else
			/* Too deep: only its depth matters, unless it stays. */
			over++;
	}
	if (over > 0)
		return -1;
	/* A segment longer than PATH_SEG_MAX does not fit. */
	for (i = 0; i < n; i++)
		if (buf_copy_str(&keep[i], out->p_seg[i],
		    sizeof(out->p_seg[i])) == -1)
			return -1;
	out->p_nseg = n;
	return 0;
}

static int
path_hex(uint8_t c, uint8_t *v)
{
	if (c >= '0' && c <= '9')
		*v = c - '0';
	else if (c >= 'a' && c <= 'f')
		*v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		*v = c - 'A' + 10;
	else
		return -1;
	return 0;
}

/*
 * %XX-decode raw into dst.  A malformed escape or a control byte, decoded
 * or not (NUL included), fails.
 */
static int
path_decode(const struct buf *raw, uint8_t *dst, size_t dstsz, size_t *len)
{
	struct buf	b = *raw;
	uint8_t		c, hi, lo;
	size_t		n = 0;

	while (buf_get_u8(&b, &c) == 0) {
		if (c == '%') {
			if (buf_get_u8(&b, &hi) == -1 ||
			    buf_get_u8(&b, &lo) == -1 ||
			    path_hex(hi, &hi) == -1 || path_hex(lo, &lo) == -1)
				return -1;
			c = (uint8_t)(hi << 4 | lo);
		}
		if (c < 0x20 || c == 0x7f || n == dstsz)
			return -1;
		dst[n++] = c;
	}
	*len = n;
	return 0;
}
