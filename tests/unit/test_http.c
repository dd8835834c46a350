/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the request-head parser, path normalisation and UTF-8
 * validation (worker/http.c, worker/path.c, privsep/utf8.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "privsep/buf.h"
#include "worker/http.h"
#include "worker/path.h"
#include "privsep/utf8.h"

#define GET_PW	"GET /openstack/latest/password HTTP/1.1\r\n"

static struct http_req	req;
static int		status;

/* One call on the whole of len bytes. */
static int
parse_mem(const void *data, size_t len)
{
	struct http_parser	p;
	struct buf		b;

	http_parser_init(&p);
	buf_init(&b, data, len);
	status = 0;
	return http_parse(&p, &b, &req, &status);
}

static int
parse(const char *s)
{
	return parse_mem(s, strlen(s));
}

static void
expect_error(const char *s, int code)
{
	cr_assert_eq(parse(s), HTTP_ERROR, "accepted: %s", s);
	cr_assert_eq(status, code, "status %d, not %d, for: %s", status, code,
	    s);
}

/* A request line with a target of exactly tlen bytes. */
static char *
long_target(size_t tlen, const char *rest)
{
	size_t	n = 4 + tlen + strlen(rest) + 1;
	char	*s;

	cr_assert_not_null(s = malloc(n));
	memcpy(s, "GET ", 4);
	memset(s + 4, 'a', tlen);
	s[4] = '/';
	strcpy(s + 4 + tlen, rest);
	return s;
}

static const char *
field_value(const char *name, char *dst, size_t dstsz)
{
	const struct http_field	*f;

	if ((f = http_field(&req, name)) == NULL)
		return NULL;
	cr_assert_eq(buf_copy_str(&f->hf_value, dst, dstsz), 0);
	return dst;
}

/* Request parsing: valid requests. */

Test(http, valid_get)
{
	const char	*s = GET_PW "Host: 169.254.169.254\r\n"
			    "Accept: */*\r\n\r\n";
	char		 v[64];

	cr_assert_eq(parse(s), HTTP_DONE);
	cr_assert_eq(req.hr_method, HTTP_M_GET);
	cr_assert(buf_eq(&req.hr_method_tok, "GET"));
	cr_assert(buf_eq(&req.hr_path, "/openstack/latest/password"));
	cr_assert_eq(buf_left(&req.hr_query), 0);
	cr_assert_eq(req.hr_minor, 1);
	cr_assert_eq(req.hr_nfields, 2);
	cr_assert_str_eq(field_value("host", v, sizeof(v)), "169.254.169.254");
	cr_assert_str_eq(field_value("ACCEPT", v, sizeof(v)), "*/*");
	cr_assert_eq(req.hr_has_cl, 0);
	cr_assert_eq(req.hr_has_te, 0);
	cr_assert_eq(req.hr_keepalive, 1);
	cr_assert_eq(req.hr_expect_continue, 0);
	cr_assert_eq(req.hr_head_len, strlen(s));
}

Test(http, valid_post)
{
	const char	*s = "POST /openstack/latest/password HTTP/1.0\r\n"
			    "Host: x\r\nContent-Length: 5\r\n\r\nhello";

	cr_assert_eq(parse(s), HTTP_DONE);
	cr_assert_eq(req.hr_method, HTTP_M_POST);
	cr_assert_eq(req.hr_minor, 0);
	cr_assert_eq(req.hr_has_cl, 1);
	cr_assert_eq(req.hr_cl, 5);
	cr_assert_eq(req.hr_head_len, strlen(s) - 5);
	cr_assert_eq(req.hr_keepalive, 0);
}

Test(http, methods)
{
	static const struct {
		const char		*line;
		enum http_method	 m;
	} t[] = {
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_M_GET },
		{ "HEAD / HTTP/1.1\r\n\r\n", HTTP_M_HEAD },
		{ "POST / HTTP/1.1\r\n\r\n", HTTP_M_POST },
		{ "PUT / HTTP/1.1\r\n\r\n", HTTP_M_PUT },
		{ "DELETE / HTTP/1.1\r\n\r\n", HTTP_M_DELETE },
		{ "get / HTTP/1.1\r\n\r\n", HTTP_M_OTHER },
		{ "PATCH / HTTP/1.1\r\n\r\n", HTTP_M_OTHER },
		{ "X-M!#$%&'*+-.^_`|~9 / HTTP/1.1\r\n\r\n", HTTP_M_OTHER },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(parse(t[i].line), HTTP_DONE, "%s", t[i].line);
		cr_assert_eq(req.hr_method, t[i].m, "%s", t[i].line);
	}
}

Test(http, query_split)
{
	cr_assert_eq(parse("GET /a/b?x=1?y HTTP/1.1\r\n\r\n"), HTTP_DONE);
	cr_assert(buf_eq(&req.hr_path, "/a/b"));
	cr_assert(buf_eq(&req.hr_query, "x=1?y"));
	cr_assert_eq(parse("GET /a? HTTP/1.1\r\n\r\n"), HTTP_DONE);
	cr_assert(buf_eq(&req.hr_path, "/a"));
	cr_assert_eq(buf_left(&req.hr_query), 0);
}

Test(http, value_ows_and_obs_text)
{
	char	v[64];

	cr_assert_eq(parse(GET_PW "X-A: \t v\ta \t\r\nX-B:\r\n"
	    "X-C: caf\xc3\xa9\r\n\r\n"), HTTP_DONE);
	cr_assert_str_eq(field_value("X-A", v, sizeof(v)), "v\ta");
	cr_assert_str_eq(field_value("X-B", v, sizeof(v)), "");
	cr_assert_str_eq(field_value("X-C", v, sizeof(v)), "caf\xc3\xa9");
}

Test(http, field_lookup)
{
	char	v[16];

	cr_assert_eq(parse(GET_PW "X-Dup: 1\r\nHost: h\r\nx-dup: 2\r\n\r\n"),
	    HTTP_DONE);
	cr_assert_str_eq(field_value("X-DUP", v, sizeof(v)), "1");
	cr_assert_eq(http_field_count(&req, "x-Dup"), 2);
	cr_assert_eq(http_field_count(&req, "Host"), 1);
	cr_assert_null(http_field(&req, "X-Missing"));
	cr_assert_eq(http_field_count(&req, "X-Missing"), 0);
	/* Whole-name match, not a prefix. */
	cr_assert_null(http_field(&req, "X-Du"));
}

Test(http, no_host_accepted)
{
	cr_assert_eq(parse(GET_PW "\r\n"), HTTP_DONE);
	cr_assert_eq(req.hr_nfields, 0);
}

/* Scan-time refusals, detected before the head is complete. */

Test(http, nul)
{
	static const char	line[] = "GET /a\0b HTTP/1.1\r\n";
	static const char	field[] = GET_PW "X-A: a\0b\r\n\r\n";
	static const char	lead[] = "\0";

	cr_assert_eq(parse_mem(line, sizeof(line) - 1), HTTP_ERROR);
	cr_assert_eq(status, 400);
	/* Refused at once, not when the blank line comes. */
	cr_assert_eq(parse_mem(line, 8), HTTP_ERROR);
	cr_assert_eq(status, 400);
	cr_assert_eq(parse_mem(field, sizeof(field) - 1), HTTP_ERROR);
	cr_assert_eq(status, 400);
	cr_assert_eq(parse_mem(lead, 1), HTTP_ERROR);
	cr_assert_eq(status, 400);
}

Test(http, bare_lf)
{
	expect_error("GET / HTTP/1.1\n", 400);
	expect_error(GET_PW "Host: x\n\r\n", 400);
	expect_error(GET_PW "Host: x\r\n\n", 400);
	expect_error("\n", 400);
}

Test(http, bare_cr)
{
	expect_error("GET / HTTP/1.1\rX", 400);
	expect_error(GET_PW "Host: x\r\r\n\r\n", 400);
	expect_error(GET_PW "Host: a\rb\r\n\r\n", 400);
	/* A CR at the end may still get its LF. */
	cr_assert_eq(parse("GET / HTTP/1.1\r"), HTTP_MORE);
	cr_assert_eq(parse(GET_PW "Host: x\r\n\r"), HTTP_MORE);
}

Test(http, request_line_length)
{
	char	*ok, *big, *open;

	ok = long_target(HTTP_LINE_MAX - 13, " HTTP/1.1\r\n\r\n");
	cr_assert_eq(strlen(ok), HTTP_LINE_MAX + 4);
	cr_assert_eq(parse(ok), HTTP_DONE);
	big = long_target(HTTP_LINE_MAX - 12, " HTTP/1.1\r\n\r\n");
	expect_error(big, 414);
	/* Refused as soon as the line is too long, with no CRLF yet. */
	open = long_target(HTTP_LINE_MAX, "");
	expect_error(open, 414);
	cr_assert_eq(parse_mem(open, HTTP_LINE_MAX), HTTP_MORE);
	cr_assert_eq(parse_mem(open, HTTP_LINE_MAX + 1), HTTP_ERROR);
	cr_assert_eq(status, 414);
	free(ok);
	free(big);
	free(open);
}

/* A head whose header section is exactly len bytes, in nf field lines. */
static char *
head_of(size_t len, size_t nf, const char *end)
{
	size_t	per = len / nf, i, off;
	char	*s;

	cr_assert_geq(per, 8);
	cr_assert_not_null(s = malloc(sizeof(GET_PW) + len + strlen(end)));
	strcpy(s, GET_PW);
	off = strlen(s);
	for (i = 0; i < nf; i++) {
		size_t	l = i == nf - 1 ? len - per * (nf - 1) : per;

		snprintf(s + off, 6, "X%03u:", (unsigned)(i % 1000));
		memset(s + off + 5, 'v', l - 7);
		memcpy(s + off + l - 2, "\r\n", 2);
		off += l;
	}
	strcpy(s + off, end);
	return s;
}

Test(http, header_section_length)
{
	char	*ok, *big, *open;

	ok = head_of(HTTP_HEADERS_MAX, 64, "\r\n");
	cr_assert_eq(parse(ok), HTTP_DONE);
	cr_assert_eq(req.hr_nfields, 64);
	cr_assert_eq(req.hr_head_len, strlen(GET_PW) + HTTP_HEADERS_MAX + 2);
	big = head_of(HTTP_HEADERS_MAX + 1, 64, "\r\n");
	expect_error(big, 431);
	/* Refused before the blank line arrives. */
	open = head_of(HTTP_HEADERS_MAX + 1, 64, "");
	expect_error(open, 431);
	free(ok);
	free(big);
	free(open);
}

Test(http, field_count)
{
	char	*ok, *big;

	ok = head_of(64 * 10, 64, "\r\n");
	cr_assert_eq(parse(ok), HTTP_DONE);
	big = head_of(65 * 10, 65, "");
	expect_error(big, 431);
	free(ok);
	free(big);
}

Test(http, leading_empty_lines)
{
	const char	*four = "\r\n\r\n\r\n\r\n" GET_PW "\r\n";

	cr_assert_eq(parse(four), HTTP_DONE);
	cr_assert_eq(req.hr_head_len, strlen(four));
	cr_assert(buf_eq(&req.hr_path, "/openstack/latest/password"));
	expect_error("\r\n\r\n\r\n\r\n\r\n" GET_PW "\r\n", 400);
	expect_error("\r\n\r\n\r\n\r\n\r\n", 400);
	cr_assert_eq(parse("\r\n\r\n\r\n\r\n"), HTTP_MORE);
}

/* Request-line refusals. */

Test(http, bad_method)
{
	expect_error("G@T / HTTP/1.1\r\n\r\n", 400);
	expect_error("GE\tT / HTTP/1.1\r\n\r\n", 400);
	expect_error("G\x80T / HTTP/1.1\r\n\r\n", 400);
	expect_error(" GET / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET\r\n\r\n", 400);
}

Test(http, spacing)
{
	expect_error("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /  HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1 \r\n\r\n", 400);
	expect_error("GET\t/ HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / x HTTP/1.1\r\n\r\n", 400);
}

Test(http, target_form)
{
	expect_error("GET http://169.254.169.254/ HTTP/1.1\r\n\r\n", 400);
	expect_error("CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n", 400);
	expect_error("OPTIONS * HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /a\tb HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /\x7f HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /\x01 HTTP/1.1\r\n\r\n", 400);
}

Test(http, version)
{
	expect_error("GET / HTTP/1.2\r\n\r\n", 505);
	expect_error("GET / HTTP/2.0\r\n\r\n", 505);
	expect_error("GET / HTTP/0.9\r\n\r\n", 505);
	expect_error("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
	expect_error("GET /\r\n\r\n", 400);
	expect_error("GET / http/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1x\r\n\r\n", 400);
	expect_error("GET / HTTP/1\r\n\r\n", 400);
	expect_error("GET / HTTP/11.1\r\n\r\n", 400);
	expect_error("GET / HTTP/a.b\r\n\r\n", 400);
	expect_error("GET / HTTP/1,1\r\n\r\n", 400);
	/* The request line is judged when it ends, before any field. */
	expect_error("GET / HTTP/1.2\r\n", 505);
}

/* Field refusals. */

Test(http, field_name)
{
	expect_error(GET_PW "Host : x\r\n\r\n", 400);
	expect_error(GET_PW "Host\t: x\r\n\r\n", 400);
	expect_error(GET_PW "Ho st: x\r\n\r\n", 400);
	expect_error(GET_PW ": x\r\n\r\n", 400);
	expect_error(GET_PW "Host x\r\n\r\n", 400);
	expect_error(GET_PW "H\xc3\xa9: x\r\n\r\n", 400);
	/* Refused when its line ends, before the blank line. */
	expect_error(GET_PW "Content-Length : 5\r\n", 400);
}

Test(http, obs_fold)
{
	expect_error(GET_PW "X-A: a\r\n b\r\n\r\n", 400);
	expect_error(GET_PW "X-A: a\r\n\tb\r\n\r\n", 400);
	expect_error(GET_PW " Host: x\r\n\r\n", 400);
	expect_error(GET_PW "X-A: a\r\n b\r\n", 400);
}

Test(http, field_value_controls)
{
	expect_error(GET_PW "X-A: a\x01 b\r\n\r\n", 400);
	expect_error(GET_PW "X-A: a\x1f\r\n\r\n", 400);
	expect_error(GET_PW "X-A: a\x7f\r\n\r\n", 400);
	expect_error(GET_PW "X-A: \x08\r\n\r\n", 400);
}

/*
 * Every byte, as the classes of RFC 9110 say: in a field value (VCHAR,
 * SP, HTAB, obs-text), a field name (tchar; a ':' ends the name) and the
 * target (visible ASCII).  CR and LF frame lines and have their own
 * tests.
 */
Test(http, every_byte)
{
	char		 m[128];
	unsigned int	 c;
	int		 n, want;

	for (c = 0; c < 256; c++) {
		if (c == '\r' || c == '\n')
			continue;
		n = snprintf(m, sizeof(m), GET_PW "X-A: a%cb\r\n\r\n", c);
		want = c == '\t' || (c >= 0x20 && c != 0x7f);
		cr_assert_eq(parse_mem(m, (size_t)n) == HTTP_DONE, want,
		    "byte 0x%02x in a field value", c);
		n = snprintf(m, sizeof(m), GET_PW "X%cA: v\r\n\r\n", c);
		want = c == ':' || (c < 0x80 && (isalnum((int)c) ||
		    (c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL)));
		cr_assert_eq(parse_mem(m, (size_t)n) == HTTP_DONE, want,
		    "byte 0x%02x in a field name", c);
		n = snprintf(m, sizeof(m), "GET /a%cb HTTP/1.1\r\n\r\n", c);
		want = c >= 0x21 && c <= 0x7e;
		cr_assert_eq(parse_mem(m, (size_t)n) == HTTP_DONE, want,
		    "byte 0x%02x in the target", c);
	}
}

/* Framing. */

Test(http, content_length_ok)
{
	char	s[128];

	cr_assert_eq(parse(GET_PW "Content-Length:  0 \r\n\r\n"), HTTP_DONE);
	cr_assert_eq(req.hr_has_cl, 1);
	cr_assert_eq(req.hr_cl, 0);
	snprintf(s, sizeof(s), GET_PW "Content-Length: %llu\r\n\r\n",
	    (unsigned long long)HTTP_CL_MAX);
	cr_assert_eq(parse(s), HTTP_DONE);
	cr_assert_eq(req.hr_cl, HTTP_CL_MAX);
}

Test(http, content_length_bad)
{
	char	s[128];

	expect_error(GET_PW "Content-Length: +5\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: -1\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: 0x10\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: 5 5\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: 5, 5\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: 5,5\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length:\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: 1e3\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: 18446744073709551616\r\n\r\n",
	    400);
	snprintf(s, sizeof(s), GET_PW "Content-Length: %llu\r\n\r\n",
	    (unsigned long long)HTTP_CL_MAX + 1);
	expect_error(s, 400);
}

Test(http, content_length_duplicate)
{
	expect_error(GET_PW "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
	    400);
	expect_error(GET_PW "Content-Length: 5\r\ncontent-length: 6\r\n\r\n",
	    400);
}

Test(http, transfer_encoding)
{
	expect_error(GET_PW "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", 400);
	expect_error(GET_PW "Content-Length: 5\r\n"
	    "Transfer-Encoding: identity\r\n\r\n", 400);

	cr_assert_eq(parse(GET_PW "Transfer-Encoding: chunked\r\n\r\n"),
	    HTTP_DONE);
	cr_assert_eq(req.hr_has_te, 1);
	cr_assert_eq(req.hr_te_chunked, 1);
	cr_assert_eq(req.hr_has_cl, 0);
	cr_assert_eq(parse(GET_PW "transfer-encoding: CHUNKED\r\n\r\n"),
	    HTTP_DONE);
	cr_assert_eq(req.hr_te_chunked, 1);
	cr_assert_eq(parse(GET_PW "Transfer-Encoding: gzip, chunked\r\n\r\n"),
	    HTTP_DONE);
	cr_assert_eq(req.hr_has_te, 1);
	cr_assert_eq(req.hr_te_chunked, 0);
	cr_assert_eq(parse(GET_PW "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), HTTP_DONE);
	cr_assert_eq(req.hr_has_te, 1);
	cr_assert_eq(req.hr_te_chunked, 0);
	cr_assert_eq(parse(GET_PW "Transfer-Encoding: chunkedx\r\n\r\n"),
	    HTTP_DONE);
	cr_assert_eq(req.hr_te_chunked, 0);
}

/*
 * What kind of Transfer-Encoding (the caller's answer): exactly chunked
 * (411), chunked last after codings we lack (501, RFC 9112 §6.1), or a
 * body length left unknown (400, §6.3): chunked not last, twice, or a
 * list element that is not a token.
 */
Test(http, transfer_encoding_kinds)
{
	static const struct {
		const char	*te;
		int		 chunked, other;
	} t[] = {
		{ "Transfer-Encoding: chunked\r\n", 1, 0 },
		{ "Transfer-Encoding: , chunked ,\r\n", 1, 0 },
		{ "Transfer-Encoding: gzip, chunked\r\n", 0, 1 },
		{ "Transfer-Encoding: identity, chunked\r\n", 0, 1 },
		{ "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
		    0, 1 },
		{ "Transfer-Encoding: chunked, identity\r\n", 0, 0 },
		{ "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
		    0, 0 },
		{ "Transfer-Encoding: chunked, chunked\r\n", 0, 0 },
		{ "Transfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n", 0, 0 },
		{ "Transfer-Encoding: xchunked\r\n", 0, 0 },
		{ "Transfer-Encoding: \"chunked\"\r\n", 0, 0 },
		{ "Transfer-Encoding: \"x\", chunked\r\n", 0, 0 },
		{ "Transfer-Encoding: chunked;q=1\r\n", 0, 0 },
		{ "Transfer-Encoding:\r\n", 0, 0 },
	};
	char	s[256];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(s, sizeof(s), GET_PW "%s\r\n", t[i].te);
		cr_assert_eq(parse(s), HTTP_DONE, "%s", t[i].te);
		cr_assert_eq(req.hr_has_te, 1, "%s", t[i].te);
		cr_assert_eq(req.hr_te_chunked, t[i].chunked, "%s", t[i].te);
		cr_assert_eq(req.hr_te_other, t[i].other, "%s", t[i].te);
	}
}

Test(http, host_duplicate)
{
	expect_error(GET_PW "Host: a\r\nHost: a\r\n\r\n", 400);
	expect_error(GET_PW "Host: a\r\nhOST: b\r\n\r\n", 400);
}

/* Connection and Expect. */

Test(http, keepalive)
{
	static const struct {
		const char	*s;
		int		 ka;
	} t[] = {
		{ "GET / HTTP/1.1\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n",
		    0 },
		{ "GET / HTTP/1.1\r\nConnection: x\r\nConnection: close\r\n"
		    "\r\n", 0 },
		{ "GET / HTTP/1.1\r\nConnection: ,close ,\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\nConnection: TE, Keep-Alive\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
		    0 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(parse(t[i].s), HTTP_DONE, "%s", t[i].s);
		cr_assert_eq(req.hr_keepalive, t[i].ka, "%s", t[i].s);
	}
}

Test(http, expect)
{
	cr_assert_eq(parse(GET_PW "Expect: 100-continue\r\n\r\n"), HTTP_DONE);
	cr_assert_eq(req.hr_expect_continue, 1);
	cr_assert_eq(parse(GET_PW "Expect:  100-Continue \r\n\r\n"),
	    HTTP_DONE);
	cr_assert_eq(req.hr_expect_continue, 1);
	/* RFC 9110 §10.1.1: ignored in HTTP/1.0. */
	cr_assert_eq(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"),
	    HTTP_DONE);
	cr_assert_eq(req.hr_expect_continue, 0);
	expect_error(GET_PW "Expect: 200-ok\r\n\r\n", 417);
	expect_error(GET_PW "Expect: 100-continue, foo\r\n\r\n", 417);
	expect_error(GET_PW "Expect:\r\n\r\n", 417);
	expect_error("GET / HTTP/1.0\r\nExpect: foo\r\n\r\n", 417);
}

/* Incremental use. */

Test(http, pipelining)
{
	const char		*s =
	    "POST /openstack/latest/password HTTP/1.1\r\n"
	    "Content-Length: 5\r\n\r\nhello"
	    "GET /openstack/2013-04-04/password?q HTTP/1.1\r\nHost: y\r\n\r\n";
	struct http_parser	 p;
	struct buf		 b;
	size_t			 first;

	buf_init(&b, s, strlen(s));
	http_parser_init(&p);
	cr_assert_eq(http_parse(&p, &b, &req, &status), HTTP_DONE);
	cr_assert_eq(req.hr_method, HTTP_M_POST);
	cr_assert_eq(req.hr_cl, 5);
	cr_assert_eq(req.hr_nfields, 1);
	first = req.hr_head_len + req.hr_cl;
	cr_assert_eq(buf_skip(&b, first), 0);

	http_parser_init(&p);
	cr_assert_eq(http_parse(&p, &b, &req, &status), HTTP_DONE);
	cr_assert_eq(req.hr_method, HTTP_M_GET);
	cr_assert(buf_eq(&req.hr_path, "/openstack/2013-04-04/password"));
	cr_assert(buf_eq(&req.hr_query, "q"));
	cr_assert_eq(req.hr_has_cl, 0);
	cr_assert_eq(req.hr_nfields, 1);
	cr_assert(buf_eq(&http_field(&req, "host")->hf_value, "y"));
	cr_assert_eq(req.hr_head_len, strlen(s) - first);
}

/*
 * Feed s one byte at a time, copying it each time into one of two buffers
 * and spoiling the other, so the parser cannot keep views from an earlier
 * call.  req ends up with views into one of these buffers.
 */
static char	feed_a[HTTP_HEAD_MAX + 16], feed_b[HTTP_HEAD_MAX + 16];

static void
feed_bytewise(const char *s, size_t len, struct http_parser *p)
{
	struct buf	b;
	size_t		i;
	int		rv;

	cr_assert_leq(len, sizeof(feed_a));
	http_parser_init(p);
	for (i = 1; i <= len; i++) {
		char	*dst = i % 2 ? feed_a : feed_b;

		memcpy(dst, s, i);
		memset(i % 2 ? feed_b : feed_a, 'Z', len);
		buf_init(&b, dst, i);
		rv = http_parse(p, &b, &req, &status);
		if (i < len) {
			cr_assert_eq(rv, HTTP_MORE, "at byte %zu", i);
			/* Progress is kept: each byte is scanned once. */
			cr_assert_geq(p->hp_scanned + 1, i, "at byte %zu", i);
		} else
			cr_assert_eq(rv, HTTP_DONE);
	}
}

Test(http, bytewise)
{
	const char		*s = "\r\n" "POST /openstack/latest/password?x "
				    "HTTP/1.1\r\nHost: h\r\n"
				    "Content-Length: 12\r\n"
				    "Expect: 100-continue\r\n"
				    "Connection: close\r\n\r\n";
	struct http_parser	 p;
	char			 v[16];

	feed_bytewise(s, strlen(s), &p);
	cr_assert_eq(req.hr_method, HTTP_M_POST);
	cr_assert(buf_eq(&req.hr_method_tok, "POST"));
	cr_assert(buf_eq(&req.hr_path, "/openstack/latest/password"));
	cr_assert(buf_eq(&req.hr_query, "x"));
	cr_assert_eq(req.hr_minor, 1);
	cr_assert_eq(req.hr_nfields, 4);
	cr_assert_str_eq(field_value("Host", v, sizeof(v)), "h");
	cr_assert_eq(req.hr_cl, 12);
	cr_assert_eq(req.hr_expect_continue, 1);
	cr_assert_eq(req.hr_keepalive, 0);
	cr_assert_eq(req.hr_head_len, strlen(s));
}

Test(http, bytewise_large_head)
{
	struct http_parser	 p;
	char			*s;

	s = head_of(HTTP_HEADERS_MAX, 64, "\r\n");
	feed_bytewise(s, strlen(s), &p);
	cr_assert_eq(req.hr_nfields, 64);
	cr_assert_eq(req.hr_head_len, strlen(s));
	free(s);
}

Test(http, bytewise_error)
{
	const char		*s = GET_PW "Host: x\r\nX: a\rb";
	struct http_parser	 p;
	struct buf		 b;
	size_t			 i, len = strlen(s);

	http_parser_init(&p);
	for (i = 1; i < len; i++) {
		buf_init(&b, s, i);
		cr_assert_eq(http_parse(&p, &b, &req, &status), HTTP_MORE);
	}
	buf_init(&b, s, len);
	cr_assert_eq(http_parse(&p, &b, &req, &status), HTTP_ERROR);
	cr_assert_eq(status, 400);
}

/* Path normalisation. */

static int
norm(const char *raw, struct path *p)
{
	struct buf	b;

	buf_init(&b, raw, strlen(raw));
	return path_normalize(&b, p);
}

/* Compare with the expected segments joined by '/'. */
static void
expect_path(const char *raw, const char *want)
{
	struct path	p;
	char		got[PATH_SEGS_MAX * (PATH_SEG_MAX + 1) + 1] = "";
	size_t		i;

	memset(&p, 0xa5, sizeof(p));
	cr_assert_eq(norm(raw, &p), 0, "refused: %s", raw);
	cr_assert_leq(p.p_nseg, PATH_SEGS_MAX);
	for (i = 0; i < p.p_nseg; i++) {
		if (i > 0)
			strcat(got, "/");
		strcat(got, p.p_seg[i]);
	}
	cr_assert_str_eq(got, want, "%s gives \"%s\"", raw, got);
}

static void
expect_bad_path(const char *raw)
{
	struct path	p;

	cr_assert_eq(norm(raw, &p), -1, "accepted: %s", raw);
	cr_assert_eq(p.p_nseg, 0);
}

Test(path, normalise)
{
	struct path	p;

	expect_path("/openstack/latest/password", "openstack/latest/password");
	cr_assert_eq(norm("/openstack/latest/password", &p), 0);
	cr_assert_eq(p.p_nseg, 3);
	cr_assert_str_eq(p.p_seg[2], "password");
	expect_path("//openstack//latest//password",
	    "openstack/latest/password");
	expect_path("/openstack/x/../latest/password",
	    "openstack/latest/password");
	expect_path("/openstack/latest/password/",
	    "openstack/latest/password");
	expect_path("/openstack/./latest/./password/.",
	    "openstack/latest/password");
	expect_path("/../../openstack/latest/password",
	    "openstack/latest/password");
	expect_path("/openstack/latest/password/..", "openstack/latest");
	expect_path("/...", "...");
	expect_path("/.a/..b", ".a/..b");
}

Test(path, root)
{
	struct path	p;

	cr_assert_eq(norm("/foo/../", &p), 0);
	cr_assert_eq(p.p_nseg, 0);
	cr_assert_eq(norm("/", &p), 0);
	cr_assert_eq(p.p_nseg, 0);
	cr_assert_eq(norm("/a/b/../../..", &p), 0);
	cr_assert_eq(p.p_nseg, 0);
}

Test(path, percent)
{
	expect_path("/openstack/latest/pass%77ord",
	    "openstack/latest/password");
	expect_path("/%4fpen%53tack", "OpenStack");
	expect_path("/a%2fb", "a/b");
	expect_path("/a%2Fb", "a/b");
	expect_path("/a/b/%2e%2e/c", "a/c");
	expect_path("/a/%2E/c", "a/c");
	expect_path("%2e%2e", "");
	expect_path("%2f", "");
	expect_path("/caf%C3%A9", "caf\xc3\xa9");
	expect_path("/%25zz", "%zz");
	expect_path("/a%20b", "a b");
}

Test(path, refused)
{
	expect_bad_path("%00");
	expect_bad_path("/a%00b");
	expect_bad_path("%zz");
	expect_bad_path("/%z1");
	expect_bad_path("/%1");
	expect_bad_path("/%");
	expect_bad_path("%ff");
	expect_bad_path("/%c3");
	expect_bad_path("/%c0%af");
	expect_bad_path("/%ed%a0%80");
	expect_bad_path("/%0a");
	expect_bad_path("/%1f");
	expect_bad_path("/%7f");
	expect_bad_path("/a\tb");
}

Test(path, depth)
{
	char	s[128] = "", ok[128] = "";
	int	i;

	for (i = 0; i < PATH_SEGS_MAX; i++)
		strcat(s, "/a");
	expect_path(s, "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a");
	strcat(s, "/b");
	expect_bad_path(s);
	/* Only the depth after normalisation counts. */
	strcat(s, "/..");
	expect_path(s, "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a");
	for (i = 0; i < 20; i++)
		strcat(ok, "/x");
	for (i = 0; i < 5; i++)
		strcat(ok, "/..");
	strcat(ok, "/y");
	expect_path(ok, "x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/y");
}

Test(path, segment_length)
{
	char	s[PATH_SEG_MAX + 16];

	s[0] = '/';
	memset(s + 1, 'a', PATH_SEG_MAX);
	s[PATH_SEG_MAX + 1] = '\0';
	expect_path(s, s + 1);
	strcat(s, "b");
	expect_bad_path(s);
	strcat(s, "/..");
	expect_path(s, "");
}

Test(path, too_long)
{
	char		*s;
	struct buf	 b;
	struct path	 p;

	cr_assert_not_null(s = malloc(HTTP_LINE_MAX + 1));
	memset(s, '/', HTTP_LINE_MAX + 1);
	buf_init(&b, s, HTTP_LINE_MAX);
	cr_assert_eq(path_normalize(&b, &p), 0);
	cr_assert_eq(p.p_nseg, 0);
	buf_init(&b, s, HTTP_LINE_MAX + 1);
	cr_assert_eq(path_normalize(&b, &p), -1);
	free(s);
}

/* UTF-8. */

static int
u8(const char *s, size_t len)
{
	struct buf	b;

	buf_init(&b, s, len);
	return utf8_valid(&b);
}

#define U8(lit)	u8(lit, sizeof(lit) - 1)

Test(utf8, valid)
{
	char	big[1020];
	size_t	i;

	cr_assert_eq(U8(""), 1);
	cr_assert_eq(U8("hello, world\t\n"), 1);
	cr_assert_eq(U8("\0"), 1);
	cr_assert_eq(U8("\xc3\xa9\xe4\xb8\xad"), 1);		/* é中 */
	for (i = 0; i < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	cr_assert_eq(u8(big, sizeof(big)), 1);
	cr_assert_eq(U8("\xc2\x80"), 1);			/* U+0080 */
	cr_assert_eq(U8("\xdf\xbf"), 1);			/* U+07FF */
	cr_assert_eq(U8("\xe0\xa0\x80"), 1);			/* U+0800 */
	cr_assert_eq(U8("\xed\x9f\xbf"), 1);			/* U+D7FF */
	cr_assert_eq(U8("\xee\x80\x80"), 1);			/* U+E000 */
	cr_assert_eq(U8("\xef\xbf\xbf"), 1);			/* U+FFFF */
	cr_assert_eq(U8("\xf0\x90\x80\x80"), 1);		/* U+10000 */
	cr_assert_eq(U8("\xf4\x8f\xbf\xbf"), 1);		/* U+10FFFF */
	cr_assert_eq(U8("\xf0\x9f\x94\x91"), 1);		/* U+1F511 */
	/* ASCII runs, skipped a word at a time, around characters. */
	cr_assert_eq(U8("abcdefgh\xc3\xa9" "12345678901234567\xe4\xb8\xad"
	    "xyz"), 1);
}

Test(utf8, invalid)
{
	char	big[1020];
	size_t	i;

	cr_assert_eq(U8("\xc0\x80"), 0);		/* overlong NUL */
	cr_assert_eq(U8("\xc1\xbf"), 0);		/* overlong */
	cr_assert_eq(U8("\xe0\x9f\xbf"), 0);		/* overlong */
	cr_assert_eq(U8("\xf0\x8f\xbf\xbf"), 0);	/* overlong */
	cr_assert_eq(U8("\xed\xa0\x80"), 0);		/* U+D800 */
	cr_assert_eq(U8("\xed\xbf\xbf"), 0);		/* U+DFFF */
	cr_assert_eq(U8("\xf4\x90\x80\x80"), 0);	/* U+110000 */
	cr_assert_eq(U8("\xf5\x80\x80\x80"), 0);
	cr_assert_eq(U8("\xff"), 0);
	cr_assert_eq(U8("\x80"), 0);			/* lone continuation */
	cr_assert_eq(U8("a\xbf"), 0);
	cr_assert_eq(U8("\xc3"), 0);			/* truncated */
	cr_assert_eq(U8("\xe4\xb8"), 0);
	cr_assert_eq(U8("\xf0\x9f\x94"), 0);
	cr_assert_eq(U8("\xc3" "a"), 0);		/* not continued */
	cr_assert_eq(U8("\xe4\xb8" "a"), 0);
	cr_assert_eq(U8("\xf0\x9f\x94\xc3\xa9"), 0);
	/* A bad byte at the very end of an otherwise valid body. */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\xe9';
	cr_assert_eq(u8(big, sizeof(big)), 0);
	/* Or anywhere in a long ASCII run (skipped a word at a time). */
	for (i = 0; i < 40; i++) {
		memset(big, 'a', sizeof(big));
		big[i] = i % 2 ? '\x80' : '\xc3';
		cr_assert_eq(u8(big, 40), 0, "bad byte at %zu", i);
	}
}
