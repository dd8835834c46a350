/* SPDX-License-Identifier: ISC */
/*
 * privsep/buf.c: no read past the end, strict numbers and strings, and a
 * bbuf that never grows past its cap.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "privsep/buf.h"

static const uint8_t	data[] = "0123456789";

Test(buf, get_bounds)
{
	struct buf	b;
	uint8_t		out[16], v;

	buf_init(&b, data, 4);
	cr_expect_eq(buf_get(&b, out, 5), -1);
	cr_expect_eq(b.b_off, 0, "a failed get moved the cursor");
	cr_expect_eq(buf_get(&b, out, 0), 0);
	cr_assert_eq(buf_get(&b, out, 3), 0);
	cr_expect_eq(memcmp(out, "012", 3), 0);
	cr_expect_eq(buf_get(&b, out, 2), -1);
	cr_expect_eq(buf_left(&b), 1);
	cr_assert_eq(buf_get_u8(&b, &v), 0);
	cr_expect_eq(v, '3');
	cr_expect_eq(buf_get_u8(&b, &v), -1);
	cr_expect_eq(buf_get(&b, out, 1), -1);
	cr_expect_eq(buf_get(&b, out, SIZE_MAX), -1);
	cr_expect_eq(buf_left(&b), 0);
}

Test(buf, skip_bounds)
{
	struct buf	b;

	buf_init(&b, data, 4);
	cr_expect_eq(buf_skip(&b, 5), -1);
	cr_expect_eq(b.b_off, 0);
	cr_expect_eq(buf_skip(&b, SIZE_MAX), -1);
	cr_expect_eq(buf_skip(&b, 4), 0);
	cr_expect_eq(buf_skip(&b, 1), -1);
	cr_expect_eq(buf_skip(&b, 0), 0);
	cr_expect_eq(b.b_off, 4);
}

Test(buf, take_bounds)
{
	struct buf	b, t;
	uint8_t		out[8];

	buf_init(&b, data, 6);
	cr_assert_eq(buf_skip(&b, 1), 0);
	cr_expect_eq(buf_take(&b, 6, &t), -1);
	cr_expect_eq(b.b_off, 1);
	cr_assert_eq(buf_take(&b, 3, &t), 0);
	cr_expect_eq(buf_left(&t), 3);
	cr_expect_eq(buf_left(&b), 2);
	/* The taken cursor ends where it was told to. */
	cr_expect_eq(buf_get(&t, out, 4), -1);
	cr_assert_eq(buf_get(&t, out, 3), 0);
	cr_expect_eq(memcmp(out, "123", 3), 0);
	cr_assert_eq(buf_get(&b, out, 2), 0);
	cr_expect_eq(memcmp(out, "45", 2), 0);
	cr_expect_eq(buf_take(&b, 1, &t), -1);
	cr_expect_eq(buf_take(&b, 0, &t), 0);
	cr_expect_eq(buf_left(&t), 0);
}

Test(buf, peek_bounds)
{
	struct buf	b;
	uint8_t		v = 0;

	buf_init(&b, data, 3);
	cr_assert_eq(buf_skip(&b, 1), 0);
	cr_assert_eq(buf_peek(&b, 0, &v), 0);
	cr_expect_eq(v, '1');
	cr_assert_eq(buf_peek(&b, 1, &v), 0);
	cr_expect_eq(v, '2');
	/* data[3] exists in memory but not in the buf. */
	cr_expect_eq(buf_peek(&b, 2, &v), -1);
	cr_expect_eq(buf_peek(&b, SIZE_MAX, &v), -1);
	cr_expect_eq(b.b_off, 1, "peek moved the cursor");
}

Test(buf, find)
{
	struct buf	b;
	size_t		pos = 99;

	buf_init(&b, "a:b:c", 5);
	cr_assert_eq(buf_find(&b, ':', &pos), 0);
	cr_expect_eq(pos, 1);
	cr_assert_eq(buf_skip(&b, 2), 0);
	cr_assert_eq(buf_find(&b, ':', &pos), 0);
	cr_expect_eq(pos, 1, "position is relative to the cursor");
	cr_expect_eq(buf_find(&b, 'a', &pos), -1);
	/* Bytes past b_len are not searched. */
	buf_init(&b, "abc:", 3);
	cr_expect_eq(buf_find(&b, ':', &pos), -1);
	buf_init(&b, "", 0);
	cr_expect_eq(buf_find(&b, '\0', &pos), -1);
}

static int
to_u64(const char *s, uint64_t max, uint64_t *v)
{
	struct buf	b;

	buf_init(&b, s, strlen(s));
	return buf_to_u64(&b, max, v);
}

Test(buf, to_u64)
{
	uint64_t	v;

	cr_assert_eq(to_u64("0", UINT64_MAX, &v), 0);
	cr_expect_eq(v, 0);
	cr_assert_eq(to_u64("007", UINT64_MAX, &v), 0);
	cr_expect_eq(v, 7);
	cr_assert_eq(to_u64("18446744073709551615", UINT64_MAX, &v), 0);
	cr_expect_eq(v, UINT64_MAX);
	cr_expect_eq(to_u64("18446744073709551616", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("99999999999999999999", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("184467440737095516150", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("+1", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("-1", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64(" 1", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("1 ", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("0x1", UINT64_MAX, &v), -1);
	cr_expect_eq(to_u64("1e3", UINT64_MAX, &v), -1);
}

Test(buf, to_u64_max)
{
	uint64_t	v;

	cr_assert_eq(to_u64("99", 99, &v), 0);
	cr_expect_eq(v, 99);
	cr_expect_eq(to_u64("100", 99, &v), -1);
	cr_expect_eq(to_u64("65536", 65535, &v), -1);
	cr_expect_eq(to_u64("65535", 65535, &v), 0);
	/* A single digit above a small max. */
	cr_expect_eq(to_u64("5", 5, &v), 0);
	cr_expect_eq(to_u64("6", 5, &v), -1);
	cr_expect_eq(to_u64("9", 0, &v), -1);
	cr_expect_eq(to_u64("0", 0, &v), 0);
	cr_expect_eq(to_u64("15", 10, &v), -1);
}

Test(buf, to_u64_uses_cursor)
{
	struct buf	b;
	uint64_t	v;

	buf_init(&b, "x12345", 4);
	cr_assert_eq(buf_skip(&b, 1), 0);
	cr_assert_eq(buf_to_u64(&b, UINT64_MAX, &v), 0);
	cr_expect_eq(v, 123);
}

Test(buf, copy_str)
{
	struct buf	b;
	char		dst[4];

	buf_init(&b, "abc", 3);
	cr_assert_eq(buf_copy_str(&b, dst, sizeof(dst)), 0);
	cr_expect_str_eq(dst, "abc");
	memset(dst, 'z', sizeof(dst));
	buf_init(&b, "abcd", 4);
	cr_expect_eq(buf_copy_str(&b, dst, sizeof(dst)), -1, "truncated");
	cr_expect_eq(dst[0], 'z', "a refused copy wrote");
	cr_expect_eq(buf_copy_str(&b, dst, 0), -1);
	buf_init(&b, "a\0c", 3);
	cr_expect_eq(buf_copy_str(&b, dst, sizeof(dst)), -1, "NUL accepted");
	buf_init(&b, "abc\0", 3);
	cr_expect_eq(buf_copy_str(&b, dst, sizeof(dst)), 0);
	buf_init(&b, "", 0);
	cr_assert_eq(buf_copy_str(&b, dst, 1), 0);
	cr_expect_str_eq(dst, "");
	buf_init(&b, "xyz", 3);
	cr_assert_eq(buf_skip(&b, 1), 0);
	cr_assert_eq(buf_copy_str(&b, dst, sizeof(dst)), 0);
	cr_expect_str_eq(dst, "yz");
}

static void
expect_trim(const char *in, const char *want)
{
	struct buf	b;
	char		out[64];

	buf_init(&b, in, strlen(in));
	buf_trim_ows(&b);
	cr_assert_eq(buf_copy_str(&b, out, sizeof(out)), 0);
	cr_expect_str_eq(out, want, "trim(\"%s\")", in);
}

Test(buf, trim_ows)
{
	expect_trim(" \t a b \t ", "a b");
	expect_trim("ab", "ab");
	expect_trim("   ", "");
	expect_trim("", "");
	expect_trim("\r\nx\r\n", "\r\nx\r\n");
}

Test(buf, token)
{
	const char	*in = " \tssh-ed25519 AAAA\tcomment here";
	struct buf	 b, tok;

	buf_init(&b, in, strlen(in));
	cr_assert_eq(buf_token(&b, &tok), 0);
	cr_expect(buf_eq(&tok, "ssh-ed25519"));
	cr_assert_eq(buf_token(&b, &tok), 0);
	cr_expect(buf_eq(&tok, "AAAA"));
	cr_assert_eq(buf_token(&b, &tok), 0);
	cr_expect(buf_eq(&tok, "comment"));
	cr_assert_eq(buf_token(&b, &tok), 0);
	cr_expect(buf_eq(&tok, "here"));
	cr_expect_eq(buf_token(&b, &tok), -1, "a token past the end");
	buf_init(&b, " \t ", 3);
	cr_expect_eq(buf_token(&b, &tok), -1, "only blanks");
}

Test(buf, compare)
{
	struct buf	b;

	buf_init(&b, "Content-Length", 14);
	cr_expect(buf_eq(&b, "Content-Length"));
	cr_expect(!buf_eq(&b, "Content-Lengt"));
	cr_expect(!buf_eq(&b, "content-length"));
	cr_expect(buf_caseeq(&b, "content-length"));
	cr_expect(!buf_caseeq(&b, "content-lengthx"));
	cr_expect(buf_has_prefix(&b, "Content-"));
	cr_expect(!buf_has_prefix(&b, "Content-Lengthy"));
	buf_init(&b, "a\0", 2);
	cr_expect(!buf_caseeq(&b, "a"));
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

Test(buf, all)
{
	struct buf	b;

	buf_init(&b, "x123", 4);
	cr_expect(!buf_all(&b, is_digit));
	cr_assert_eq(buf_skip(&b, 1), 0);
	cr_expect(buf_all(&b, is_digit));
}

/* Every remaining byte, and only those, is looked up in the set. */
Test(buf, all_in)
{
	uint8_t		set[256];
	struct buf	b;

	memset(set, 0, sizeof(set));
	set['1'] = set['2'] = set['3'] = 1;
	buf_init(&b, "x123", 4);
	cr_expect(!buf_all_in(&b, set));
	cr_assert_eq(buf_skip(&b, 1), 0);
	cr_expect(buf_all_in(&b, set));
	buf_init(&b, "12\xff", 3);
	cr_expect(!buf_all_in(&b, set));
	set[0xff] = 1;
	cr_expect(buf_all_in(&b, set));
	buf_init(&b, "", 0);
	cr_expect(buf_all_in(&b, set));
}

/*
 * The cursor stops at the first byte of 0x80 or above, wherever it is
 * in or across the eight-byte words, or at the end; from any offset.
 */
Test(buf, skip_ascii)
{
	uint8_t		bytes[40];
	struct buf	b;
	size_t		len, off, hi;

	for (len = 0; len <= sizeof(bytes); len++)
		for (off = 0; off <= len; off++)
			for (hi = off; hi <= len; hi++) {
				memset(bytes, 0x7f, sizeof(bytes));
				if (hi < len)
					bytes[hi] = hi % 2 ? 0x80 : 0xff;
				buf_init(&b, bytes, len);
				cr_assert_eq(buf_skip(&b, off), 0);
				buf_skip_ascii(&b);
				cr_assert_eq(buf_left(&b), len - hi,
				    "len %zu off %zu high byte at %zu: %zu "
				    "left", len, off, hi, buf_left(&b));
			}
}

Test(bbuf, cap)
{
	struct bbuf	bb;

	bbuf_init(&bb, 10);
	cr_assert_eq(bbuf_add(&bb, "abcdef", 6), 0);
	cr_expect_eq(bbuf_add(&bb, "ghijk", 5), -1);
	cr_assert_eq(bb.bb_len, 6, "a refused add changed the length");
	cr_expect_eq(memcmp(bb.bb_data, "abcdef", 6), 0);
	cr_expect_eq(bbuf_add(&bb, NULL, 0), 0);
	cr_assert_eq(bbuf_add_str(&bb, "ghij"), 0);
	cr_expect_eq(bb.bb_len, 10);
	cr_expect_eq(memcmp(bb.bb_data, "abcdefghij", 10), 0);
	cr_expect_eq(bbuf_add(&bb, "k", 1), -1);
	cr_expect_eq(bbuf_add(&bb, "k", SIZE_MAX), -1);
	cr_expect_leq(bb.bb_cap, bb.bb_max);
	bbuf_free(&bb);
	cr_expect_null(bb.bb_data);
	cr_expect_eq(bb.bb_len, 0);
}

Test(bbuf, grows_to_cap_only)
{
	struct bbuf	bb;
	uint8_t		big[1000], *p;
	size_t		avail;

	memset(big, 'x', sizeof(big));
	bbuf_init(&bb, 1000);
	cr_assert_eq(bbuf_add(&bb, big, 300), 0);
	cr_assert_eq(bbuf_add(&bb, big, 700), 0);
	cr_expect_eq(bb.bb_cap, 1000);
	cr_expect_eq(bbuf_add(&bb, big, 1), -1);
	cr_expect_eq(bbuf_reserve(&bb, 1, &p, &avail), -1);
	bbuf_consume(&bb, 990);
	cr_assert_eq(bbuf_reserve(&bb, 500, &p, &avail), 0);
	cr_expect_eq(avail, 990, "reserve offered more than the cap");
	bbuf_commit(&bb, 5000);
	cr_expect_eq(bb.bb_len, 1000, "commit went past the buffer");
	bbuf_free(&bb);

	bbuf_init(&bb, 0);
	cr_expect_eq(bbuf_add(&bb, "a", 1), -1);
	bbuf_free(&bb);
}

Test(bbuf, consume)
{
	struct bbuf	bb;

	bbuf_init(&bb, 64);
	cr_assert_eq(bbuf_add_str(&bb, "abcdef"), 0);
	bbuf_consume(&bb, 0);
	cr_expect_eq(bb.bb_len, 6);
	bbuf_consume(&bb, 2);
	cr_assert_eq(bb.bb_len, 4);
	cr_expect_eq(memcmp(bb.bb_data, "cdef", 4), 0);
	/* What moved down is wiped from where it was. */
	cr_expect_eq(memcmp(bb.bb_data + 4, "\0\0", 2), 0);
	bbuf_consume(&bb, 10);
	cr_expect_eq(bb.bb_len, 0);
	cr_expect_eq(memcmp(bb.bb_data, "\0\0\0\0", 4), 0);
	cr_assert_eq(bbuf_add_str(&bb, "xy"), 0);
	cr_expect_eq(memcmp(bb.bb_data, "xy", 2), 0);
	bbuf_free(&bb);
}

Test(bbuf, printf)
{
	struct bbuf	bb;
	char		big[1100];

	bbuf_init(&bb, 16);
	cr_assert_eq(bbuf_printf(&bb, "n=%d %s", 42, "ok"), 0);
	cr_assert_eq(bb.bb_len, 7);
	cr_expect_eq(memcmp(bb.bb_data, "n=42 ok", 7), 0);
	cr_expect_eq(bbuf_printf(&bb, "%s", "0123456789"), -1);
	cr_expect_eq(bb.bb_len, 7, "a refused printf changed the buffer");
	cr_expect_eq(memcmp(bb.bb_data, "n=42 ok", 7), 0);
	bbuf_free(&bb);

	/* Longer than its 1 KiB scratch space: refused, not truncated. */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	bbuf_init(&bb, 4096);
	cr_expect_eq(bbuf_printf(&bb, "%s", big), -1);
	cr_expect_eq(bb.bb_len, 0);
	bbuf_free(&bb);
}

Test(bbuf, view)
{
	struct bbuf	bb;
	struct buf	b;

	bbuf_init(&bb, 16);
	cr_assert_eq(bbuf_add_str(&bb, "abc"), 0);
	bbuf_view(&bb, &b);
	cr_expect(buf_eq(&b, "abc"));
	bbuf_free(&bb);
}

Test(bbuf, fd_io)
{
	struct bbuf	bb;
	int		fds[2];
	char		out[8];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "hello", 5), 5);
	bbuf_init(&bb, 4);
	cr_expect_eq(bbuf_read_fd(&bb, fds[0], 100), 4, "read past the cap");
	cr_expect_eq(bbuf_read_fd(&bb, fds[0], 100), -1);
	cr_expect_eq(bbuf_write_fd(&bb, fds[1]), 4);
	cr_expect_eq(bb.bb_len, 0);
	cr_assert_eq(read(fds[0], out, sizeof(out)), 5);
	cr_expect_eq(memcmp(out, "ohell", 5), 0);
	bbuf_free(&bb);
	close(fds[0]);
	close(fds[1]);
}
