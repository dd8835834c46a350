/* SPDX-License-Identifier: ISC */
/*
 * worker/http.c, fed as worker/conn.c feeds it: a stream of pipelined
 * requests arriving in reads of any size.  The stream is parsed twice,
 * once as if it all arrived in one read and once in reads whose sizes
 * come from the first two input bytes.  Both must see the same requests
 * with the same outcome: a split can never change what a request means.
 *
 * Each call gets a fresh heap copy of exactly the bytes received so far,
 * freed before the next read, so ASan catches a read past them or a view
 * kept across reads (the worker's buffer moves when it grows).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/buf.h"
#include "tests/fuzz/common.h"
#include "worker/http.h"
#include "worker/path.h"
#include "privsep/utf8.h"

#define FH_REQS_MAX	32	/* pipelined requests followed per input */
#define FH_READS_MAX	512	/* keeps 1-byte reads of big inputs fast */

/* One request's outcome; fr_path_off counts from its first byte. */
struct fh_result {
	int		fr_res;
	int		fr_status;
	size_t		fr_start;
	size_t		fr_head_len;
	int		fr_method;
	int		fr_minor;
	size_t		fr_nfields;
	int		fr_has_cl;
	uint64_t	fr_cl;
	int		fr_has_te;
	int		fr_te_chunked;
	int		fr_te_other;
	int		fr_keepalive;
	int		fr_expect;
	size_t		fr_path_off;
	size_t		fr_path_len;
	int		fr_path_ok;
	size_t		fr_nseg;
	int		fr_body_utf8;
};

struct fh_run {
	struct fh_result	fn_r[FH_REQS_MAX];
	size_t			fn_n;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A view lies inside the received bytes, and inside the request's head. */
static void
fh_check_view(const struct buf *v, const uint8_t *base, size_t head_len,
    const char *what)
{
	const uint8_t	*s = v->b_data + v->b_off, *e = v->b_data + v->b_len;

	FUZZ_CHECK(v->b_off <= v->b_len, "%s: cursor past its end", what);
	FUZZ_CHECK(s >= base && e <= base + head_len,
	    "%s: view [%td, %td) outside the head [0, %zu)", what, s - base,
	    e - base, head_len);
}

/* Independent of utf8.c: decode, then judge the code point by value. */
static int
fh_utf8_ref(const uint8_t *p, size_t n)
{
	size_t		i = 0, k, more;
	uint32_t	cp, min;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			more = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			more = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			more = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n - i <= more)
			return 0;
		for (k = 1; k <= more; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += more + 1;
	}
	return 1;
}

/* The path as the worker routes it: plain segments, nothing to climb. */
static void
fh_check_path(const struct http_req *r, struct fh_result *fr)
{
	static struct path	p;
	struct buf		seg;
	size_t			i, n;

	fr->fr_path_ok = path_normalize(&r->hr_path, &p) == 0;
	if (!fr->fr_path_ok)
		return;
	FUZZ_CHECK(p.p_nseg <= PATH_SEGS_MAX, "%zu segments", p.p_nseg);
	fr->fr_nseg = p.p_nseg;
	for (i = 0; i < p.p_nseg; i++) {
		n = strnlen(p.p_seg[i], sizeof(p.p_seg[i]));
		FUZZ_CHECK(n > 0 && n <= PATH_SEG_MAX, "segment %zu: %zu bytes",
		    i, n);
		FUZZ_CHECK(memchr(p.p_seg[i], '/', n) == NULL &&
		    strcmp(p.p_seg[i], ".") != 0 &&
		    strcmp(p.p_seg[i], "..") != 0,
		    "segment %zu not normalised", i);
		buf_init(&seg, p.p_seg[i], n);
		FUZZ_CHECK(utf8_valid(&seg), "segment %zu: invalid UTF-8", i);
	}
}

/*
 * A parse that ended, in the view in: from the request's first byte to
 * what has been received.  Returns 0 when the connection would stop here.
 */
static int
fh_head(const struct buf *in, size_t start, int res, int status,
    const struct http_req *r, struct fh_run *run)
{
	struct fh_result	*fr = &run->fn_r[run->fn_n++];
	const uint8_t		*base = in->b_data + in->b_off;
	size_t			 i;

	memset(fr, 0, sizeof(*fr));
	fr->fr_res = res;
	fr->fr_start = start;
	if (res == HTTP_ERROR) {
		FUZZ_CHECK(status >= 400 && status <= 599, "status %d", status);
		fr->fr_status = status;
		return 0;
	}
	FUZZ_CHECK(r->hr_head_len >= 4 && r->hr_head_len <= buf_left(in),
	    "head_len %zu of %zu bytes", r->hr_head_len, buf_left(in));
	FUZZ_CHECK(r->hr_head_len <= HTTP_HEAD_MAX,
	    "head_len %zu over the limit", r->hr_head_len);
	FUZZ_CHECK(memcmp(base + r->hr_head_len - 4, "\r\n\r\n", 4) == 0,
	    "head does not end in CRLFCRLF");
	FUZZ_CHECK(r->hr_nfields <= HTTP_FIELDS_MAX, "%zu fields",
	    r->hr_nfields);
	fh_check_view(&r->hr_method_tok, base, r->hr_head_len, "method");
	fh_check_view(&r->hr_path, base, r->hr_head_len, "path");
	fh_check_view(&r->hr_query, base, r->hr_head_len, "query");
	for (i = 0; i < r->hr_nfields; i++) {
		fh_check_view(&r->hr_fields[i].hf_name, base, r->hr_head_len,
		    "field name");
		fh_check_view(&r->hr_fields[i].hf_value, base, r->hr_head_len,
		    "field value");
	}
	FUZZ_CHECK(r->hr_minor == 0 || r->hr_minor == 1, "minor %d",
	    r->hr_minor);
	FUZZ_CHECK(!(r->hr_has_cl && r->hr_has_te), "both CL and TE");
	FUZZ_CHECK(!(r->hr_te_chunked && r->hr_te_other) &&
	    (r->hr_has_te || !(r->hr_te_chunked || r->hr_te_other)),
	    "TE kinds");
	FUZZ_CHECK(!r->hr_has_cl || r->hr_cl <= HTTP_CL_MAX, "CL %llu",
	    (unsigned long long)r->hr_cl);

	fr->fr_head_len = r->hr_head_len;
	fr->fr_method = r->hr_method;
	fr->fr_minor = r->hr_minor;
	fr->fr_nfields = r->hr_nfields;
	fr->fr_has_cl = r->hr_has_cl;
	fr->fr_cl = r->hr_cl;
	fr->fr_has_te = r->hr_has_te;
	fr->fr_te_chunked = r->hr_te_chunked;
	fr->fr_te_other = r->hr_te_other;
	fr->fr_keepalive = r->hr_keepalive;
	fr->fr_expect = r->hr_expect_continue;
	fr->fr_path_off = (size_t)(r->hr_path.b_data + r->hr_path.b_off - base);
	fr->fr_path_len = buf_left(&r->hr_path);
	fh_check_path(r, fr);
	/* As the worker: a chunked body is never read, the connection ends. */
	return !r->hr_has_te;
}

/* The body arrived; returns 0 when the connection would stop after it. */
static int
fh_body(const struct buf *in, const struct http_req *r, struct fh_run *run)
{
	struct fh_result	*fr = &run->fn_r[run->fn_n - 1];
	struct buf		 body;

	if (buf_slice(in, r->hr_head_len, (size_t)r->hr_cl, &body) == -1)
		fuzz_fail(__FILE__, __LINE__, "body slice");
	fr->fr_body_utf8 = utf8_valid(&body);
	FUZZ_CHECK(fr->fr_body_utf8 == fh_utf8_ref(body.b_data + body.b_off,
	    buf_left(&body)), "utf8_valid disagrees with the reference");
	return r->hr_keepalive && run->fn_n < FH_REQS_MAX;
}

/* Parse data[start, have) with state p; a fresh copy per call. */
static int
fh_parse(struct http_parser *p, const uint8_t *data, size_t start,
    size_t have, struct http_req *r, int *status, uint8_t **copy,
    struct buf *in)
{
	free(*copy);
	/* One spare byte: malloc(0) may return NULL. */
	if ((*copy = malloc(have - start + 1)) == NULL)
		abort();
	memcpy(*copy, data + start, have - start);
	buf_init(in, *copy, have - start);
	return http_parse(p, in, r, status);
}

/*
 * Run the stream through the parser as conn_process does: parse a head,
 * wait for its body, consume both, parse the next head from what is
 * already buffered.  Reads are at most read_max bytes, sized from seed;
 * read_max 0 delivers everything in one read.
 */
static void
fh_stream(const uint8_t *data, size_t len, unsigned int seed, size_t read_max,
    struct fh_run *run)
{
	static struct http_req	 r;
	struct http_parser	 p;
	struct buf		 in;
	uint8_t			*copy = NULL;
	size_t			 have = 0, start = 0, step, floor;
	int			 res, status = 0, in_body = 0;

	memset(run, 0, sizeof(*run));
	floor = len / FH_READS_MAX + 1;
	http_parser_init(&p);
	for (;;) {
		if (!in_body) {
			res = fh_parse(&p, data, start, have, &r, &status,
			    &copy, &in);
			if (res != HTTP_MORE) {
				if (!fh_head(&in, start, res, status, &r, run))
					break;
				in_body = 1;
				continue;
			}
		} else if (have - start >= r.hr_head_len + (size_t)r.hr_cl) {
			/* in still views this request: no read since. */
			if (!fh_body(&in, &r, run))
				break;
			start += r.hr_head_len + (size_t)r.hr_cl;
			http_parser_init(&p);
			in_body = 0;
			continue;
		}
		if (have == len) {
			/* An incomplete head is noted; a short body is not. */
			if (!in_body && start < len) {
				memset(&run->fn_r[run->fn_n], 0,
				    sizeof(run->fn_r[0]));
				run->fn_r[run->fn_n].fr_res = HTTP_MORE;
				run->fn_r[run->fn_n++].fr_start = start;
			}
			break;
		}
		if (read_max == 0)
			step = len;
		else {
			/* xorshift: the same sizes for the same input. */
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			step = 1 + seed % read_max;
			if (step < floor)
				step = floor;
		}
		have += step < len - have ? step : len - have;
		if (in_body) {
			/* The body moved into a grown buffer: view it anew. */
			free(copy);
			if ((copy = malloc(have - start)) == NULL)
				abort();
			memcpy(copy, data + start, have - start);
			buf_init(&in, copy, have - start);
		}
	}
	free(copy);
}

/* Field by field: struct padding is not part of the outcome. */
static int
fh_same(const struct fh_result *a, const struct fh_result *b)
{
	return a->fr_res == b->fr_res && a->fr_status == b->fr_status &&
	    a->fr_start == b->fr_start && a->fr_head_len == b->fr_head_len &&
	    a->fr_method == b->fr_method && a->fr_minor == b->fr_minor &&
	    a->fr_nfields == b->fr_nfields && a->fr_has_cl == b->fr_has_cl &&
	    a->fr_cl == b->fr_cl && a->fr_has_te == b->fr_has_te &&
	    a->fr_te_chunked == b->fr_te_chunked &&
	    a->fr_te_other == b->fr_te_other &&
	    a->fr_keepalive == b->fr_keepalive &&
	    a->fr_expect == b->fr_expect &&
	    a->fr_path_off == b->fr_path_off &&
	    a->fr_path_len == b->fr_path_len &&
	    a->fr_path_ok == b->fr_path_ok && a->fr_nseg == b->fr_nseg &&
	    a->fr_body_utf8 == b->fr_body_utf8;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	read_max[] = { 1, 2, 3, 5, 8, 16, 64, 512 };
	static struct fh_run	whole, split;
	size_t			i;

	if (size < 2)
		return 0;
	fh_stream(data + 2, size - 2, 0, 0, &whole);
	fh_stream(data + 2, size - 2, (unsigned int)data[1] << 8 | 0x9e37,
	    read_max[data[0] % (sizeof(read_max) / sizeof(read_max[0]))],
	    &split);
	FUZZ_CHECK(whole.fn_n == split.fn_n, "%zu requests whole, %zu split",
	    whole.fn_n, split.fn_n);
	for (i = 0; i < whole.fn_n; i++)
		FUZZ_CHECK(fh_same(&whole.fn_r[i], &split.fn_r[i]),
		    "request %zu: whole gives %d (status %d, head %zu), "
		    "split gives %d (status %d, head %zu)", i,
		    whole.fn_r[i].fr_res,
		    whole.fn_r[i].fr_status, whole.fn_r[i].fr_head_len,
		    split.fn_r[i].fr_res, split.fn_r[i].fr_status,
		    split.fn_r[i].fr_head_len);
	return 0;
}
