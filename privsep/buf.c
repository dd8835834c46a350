/* SPDX-License-Identifier: ISC */
/*
 * The buffer API (buf.h), linked into every program: the broker, the
 * worker, sealmdctl and sealmd-guest.  The only file that does offset
 * arithmetic on wire data: every read is checked against what is left.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"

void
buf_init(struct buf *b, const void *data, size_t len)
{
	b->b_data = data;
	b->b_len = len;
	b->b_off = 0;
}

size_t
buf_left(const struct buf *b)
{
	return b->b_len - b->b_off;
}

int
buf_get(struct buf *b, void *dst, size_t n)
{
	if (n > buf_left(b))
		return -1;
	if (n > 0)
		memcpy(dst, b->b_data + b->b_off, n);
	b->b_off += n;
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

/* Byte at cursor + at, without moving. */
int
buf_peek(const struct buf *b, size_t at, uint8_t *v)
{
	if (at >= buf_left(b))
		return -1;
	*v = b->b_data[b->b_off + at];
	return 0;
}

int
buf_skip(struct buf *b, size_t n)
{
	if (n > buf_left(b))
		return -1;
	b->b_off += n;
	return 0;
}

/* Offset of the first c after the cursor. */
int
buf_find(const struct buf *b, uint8_t c, size_t *pos)
{
	const uint8_t	*p;

	if (buf_left(b) == 0)
		return -1;
	p = memchr(b->b_data + b->b_off, c, buf_left(b));
	if (p == NULL)
		return -1;
	*pos = (size_t)(p - (b->b_data + b->b_off));
	return 0;
}

/* Move the next n bytes into their own cursor. */
int
buf_take(struct buf *b, size_t n, struct buf *out)
{
	if (n > buf_left(b))
		return -1;
	buf_init(out, b->b_data + b->b_off, n);
	b->b_off += n;
	return 0;
}

/* View of len bytes starting off bytes past the cursor, without moving. */
int
buf_slice(const struct buf *b, size_t off, size_t len, struct buf *out)
{
	if (off > buf_left(b) || len > buf_left(b) - off)
		return -1;
	buf_init(out, b->b_data + b->b_off + off, len);
	return 0;
}

/*
 * strsep(3) over a cursor: the bytes before the next c go to out and the
 * cursor steps past c; with no c left, out gets the rest.  Fails only when
 * nothing is left, so a trailing c yields no empty last piece.
 */
int
buf_sep(struct buf *b, uint8_t c, struct buf *out)
{
	size_t	n;

	if (buf_left(b) == 0)
		return -1;
	if (buf_find(b, c, &n) == -1)
		n = buf_left(b);
	buf_init(out, b->b_data + b->b_off, n);
	b->b_off += n;
	if (b->b_off < b->b_len)
		b->b_off++;
	return 0;
}

/*
 * After optional SP and HTAB, the next run of bytes other than SP and
 * HTAB into tok (an OpenSSH key line's fields).  Fails on an empty run.
 */
int
buf_token(struct buf *b, struct buf *tok)
{
	size_t	n = 0;
	uint8_t	ch;

	buf_trim_ows(b);
	while (buf_peek(b, n, &ch) == 0 && ch != ' ' && ch != '\t')
		n++;
	if (n == 0)
		return -1;
	return buf_take(b, n, tok);
}

int
buf_eq(const struct buf *b, const char *s)
{
	size_t	n = strlen(s);

	return buf_left(b) == n && memcmp(b->b_data + b->b_off, s, n) == 0;
}

int
buf_caseeq(const struct buf *b, const char *s)
{
	size_t	n = strlen(s);

	return buf_left(b) == n &&
	    strncasecmp((const char *)b->b_data + b->b_off, s, n) == 0;
}

int
buf_has_prefix(const struct buf *b, const char *s)
{
	size_t	n = strlen(s);

	return buf_left(b) >= n && memcmp(b->b_data + b->b_off, s, n) == 0;
}

/* Drop leading and trailing SP/HTAB (RFC 9110 OWS). */
void
buf_trim_ows(struct buf *b)
{
	uint8_t	c;

	while (buf_peek(b, 0, &c) == 0 && (c == ' ' || c == '\t'))
		b->b_off++;
	while (buf_left(b) > 0) {
		c = b->b_data[b->b_len - 1];
		if (c != ' ' && c != '\t')
			break;
		b->b_len--;
	}
}

/* Copy the remaining bytes as a C string; fails on NUL or truncation. */
int
buf_copy_str(const struct buf *b, char *dst, size_t dstsz)
{
	size_t	n = buf_left(b);

	if (dstsz == 0 || n >= dstsz)
		return -1;
	if (n > 0 && memchr(b->b_data + b->b_off, '\0', n) != NULL)
		return -1;
	if (n > 0)
		memcpy(dst, b->b_data + b->b_off, n);
	dst[n] = '\0';
	return 0;
}

/* Strict decimal: digits only, no sign, no space, value <= max. */
int
buf_to_u64(const struct buf *b, uint64_t max, uint64_t *v)
{
	uint64_t	acc = 0;
	size_t		i, n = buf_left(b);
	uint8_t		c;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		c = b->b_data[b->b_off + i];
		if (c < '0' || c > '9')
			return -1;
		if ((uint64_t)(c - '0') > max ||
		    acc > (max - (uint64_t)(c - '0')) / 10)
			return -1;
		acc = acc * 10 + (uint64_t)(c - '0');
	}
	*v = acc;
	return 0;
}

/* True when every remaining byte satisfies pred. */
int
buf_all(const struct buf *b, int (*pred)(uint8_t))
{
	size_t	i;

	for (i = b->b_off; i < b->b_len; i++)
		if (!pred(b->b_data[i]))
			return 0;
	return 1;
}

/*
 * True when every remaining byte c has set[c] set: a table for the
 * parser's character classes, where buf_all calls a predicate per byte.
 */
int
buf_all_in(const struct buf *b, const uint8_t set[256])
{
	size_t	i;

	for (i = b->b_off; i < b->b_len; i++)
		if (set[b->b_data[i]] == 0)
			return 0;
	return 1;
}

/*
 * Past the leading bytes below 0x80, eight at a time where it can: most
 * text a guest sends is ASCII, and utf8_valid need not look at it byte
 * by byte.
 */
void
buf_skip_ascii(struct buf *b)
{
	uint64_t	w;
	size_t		i = b->b_off;

	for (; b->b_len - i >= sizeof(w); i += sizeof(w)) {
		memcpy(&w, b->b_data + i, sizeof(w));
		if ((w & 0x8080808080808080ull) != 0)
			break;
	}
	while (i < b->b_len && b->b_data[i] < 0x80)
		i++;
	b->b_off = i;
}

void
bbuf_init(struct bbuf *bb, size_t max)
{
	memset(bb, 0, sizeof(*bb));
	bb->bb_max = max;
}

void
bbuf_free(struct bbuf *bb)
{
	if (bb->bb_data != NULL) {
		explicit_bzero(bb->bb_data, bb->bb_cap);
		free(bb->bb_data);
	}
	bb->bb_data = NULL;
	bb->bb_len = bb->bb_cap = 0;
}

void
bbuf_reset(struct bbuf *bb)
{
	if (bb->bb_data != NULL)
		explicit_bzero(bb->bb_data, bb->bb_len);
	bb->bb_len = 0;
}

/*
 * Make room for at least want more bytes (up to the cap) and return where
 * to write and how much fits.  Fails when the buffer is full.
 */
int
bbuf_reserve(struct bbuf *bb, size_t want, uint8_t **p, size_t *avail)
{
	size_t	 ncap;
	uint8_t	*n;

	if (bb->bb_len >= bb->bb_max)
		return -1;
	if (want > bb->bb_max - bb->bb_len)
		want = bb->bb_max - bb->bb_len;
	if (bb->bb_cap - bb->bb_len < want) {
		ncap = bb->bb_cap ? bb->bb_cap : 256;
		while (ncap - bb->bb_len < want)
			ncap *= 2;
		if (ncap > bb->bb_max)
			ncap = bb->bb_max;
		if ((n = malloc(ncap)) == NULL)
			return -1;
		if (bb->bb_data != NULL) {
			memcpy(n, bb->bb_data, bb->bb_len);
			explicit_bzero(bb->bb_data, bb->bb_cap);
			free(bb->bb_data);
		}
		bb->bb_data = n;
		bb->bb_cap = ncap;
	}
	*p = bb->bb_data + bb->bb_len;
	*avail = bb->bb_cap - bb->bb_len;
	return 0;
}

void
bbuf_commit(struct bbuf *bb, size_t n)
{
	if (n > bb->bb_cap - bb->bb_len)
		n = bb->bb_cap - bb->bb_len;
	bb->bb_len += n;
}

/* Drop n bytes from the front; the rest moves down. */
void
bbuf_consume(struct bbuf *bb, size_t n)
{
	if (n >= bb->bb_len) {
		bbuf_reset(bb);
		return;
	}
	memmove(bb->bb_data, bb->bb_data + n, bb->bb_len - n);
	explicit_bzero(bb->bb_data + bb->bb_len - n, n);
	bb->bb_len -= n;
}

int
bbuf_add(struct bbuf *bb, const void *data, size_t n)
{
	uint8_t	*p;
	size_t	 avail;

	if (n == 0)
		return 0;
	if (n > bb->bb_max - bb->bb_len ||
	    bbuf_reserve(bb, n, &p, &avail) == -1 || avail < n)
		return -1;
	memcpy(p, data, n);
	bb->bb_len += n;
	return 0;
}

int
bbuf_add_str(struct bbuf *bb, const char *s)
{
	return bbuf_add(bb, s, strlen(s));
}

int
bbuf_printf(struct bbuf *bb, const char *fmt, ...)
{
	char	tmp[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	return bbuf_add(bb, tmp, (size_t)n);
}

void
bbuf_view(const struct bbuf *bb, struct buf *b)
{
	buf_init(b, bb->bb_data, bb->bb_len);
}

/* One read(2) of at most max bytes into the free space. */
ssize_t
bbuf_read_fd(struct bbuf *bb, int fd, size_t max)
{
	uint8_t	*p;
	size_t	 avail;
	ssize_t	 n;

	if (bbuf_reserve(bb, max, &p, &avail) == -1) {
		errno = ENOBUFS;
		return -1;
	}
	if (avail > max)
		avail = max;
	n = read(fd, p, avail);
	if (n > 0)
		bb->bb_len += (size_t)n;
	return n;
}

/* One write(2) from the front; what was written is consumed. */
ssize_t
bbuf_write_fd(struct bbuf *bb, int fd)
{
	ssize_t	n;

	if (bb->bb_len == 0)
		return 0;
	n = write(fd, bb->bb_data, bb->bb_len);
	if (n > 0)
		bbuf_consume(bb, (size_t)n);
	return n;
}
