/* SPDX-License-Identifier: ISC */
/*
 * Strict, bounded HTTP/1.x request-head parser.  It never allocates: every
 * piece of a parsed request is a struct buf view into the caller's input
 * buffer, valid until the caller consumes those bytes.
 */
#ifndef SEALMD_HTTP_H
#define SEALMD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define HTTP_LINE_MAX		8192	/* request line, without CRLF */
#define HTTP_HEADERS_MAX	16384	/* header section, without line 1 */
#define HTTP_FIELDS_MAX		64
#define HTTP_EMPTY_LINES_MAX	4	/* CRLFs tolerated before a request */
/* The longest head the parser accepts, leading empty lines included. */
#define HTTP_HEAD_MAX		(2 * HTTP_EMPTY_LINES_MAX + HTTP_LINE_MAX + \
				 2 + HTTP_HEADERS_MAX + 2)
#define HTTP_CL_MAX		(1ULL << 30)	/* larger: 400 */

enum http_method {
	HTTP_M_GET = 1,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OTHER,		/* a valid token we do not serve */
};

struct http_field {
	struct buf	hf_name;
	struct buf	hf_value;	/* OWS trimmed */
};

struct http_req {
	enum http_method	hr_method;
	struct buf		hr_method_tok;
	struct buf		hr_path;	/* origin-form, before '?' */
	struct buf		hr_query;	/* after '?', may be empty */
	int			hr_minor;	/* HTTP/1.<minor>: 0 or 1 */
	struct http_field	hr_fields[HTTP_FIELDS_MAX];
	size_t			hr_nfields;
	int			hr_has_cl;
	uint64_t		hr_cl;
	int			hr_has_te;
	int			hr_te_chunked;	/* TE is exactly "chunked" */
	int			hr_te_other;	/* codings before chunked */
	int			hr_keepalive;
	int			hr_expect_continue;
	size_t			hr_head_len;	/* bytes to CRLFCRLF, incl. */
};

/*
 * Incremental scan state, kept per connection between reads.  Offsets
 * count from the start of the request's bytes.
 */
struct http_parser {
	size_t		hp_scanned;	/* bytes already checked */
	size_t		hp_lead;	/* leading empty-line bytes */
	size_t		hp_line;	/* start of the line being scanned */
	size_t		hp_fields;	/* start of header section; 0: none */
	size_t		hp_nfields;	/* field lines seen so far */
};

enum http_result {
	HTTP_ERROR = -1,	/* *status says what to answer; then close */
	HTTP_MORE = 0,
	HTTP_DONE = 1,
};

void	http_parser_init(struct http_parser *);
int	http_parse(struct http_parser *, const struct buf *, struct http_req *,
	    int *);
const struct http_field *http_field(const struct http_req *, const char *);
size_t	http_field_count(const struct http_req *, const char *);

#endif
