/* SPDX-License-Identifier: ISC */
/*
 * Strict, bounded HTTP/1.x request-head parser (RFC 9112).
 *
 * http_parse() is called after every read.  The scan looks at each byte
 * once, however the head is split, and refuses NUL, bare CR or LF and
 * oversized heads as soon as they arrive.  Each complete line is checked
 * at once too, so garbage is refused without waiting for a blank line
 * that may never come.  The views in struct http_req are taken only when
 * the head is complete, because the caller's buffer may move between
 * reads.
 *
 * Choices where the RFCs leave room:
 * - The version is checked before the target, so the HTTP/2 preface
 *   "PRI * HTTP/2.0" gets 505: the honest answer, and an HTTP/2 client
 *   cannot read an HTTP/1.1 reply anyway.
 * - HTTP/1.1 without Host is accepted, as Nova's WSGI server does; the
 *   neutron proxy always sends one.  Two Host fields are 400.
 * - A 100-continue expectation in HTTP/1.0 is ignored (RFC 9110 §10.1.1);
 *   any other expectation is 417 whatever the version.
 * - Unknown Connection options are ignored; only close and keep-alive
 *   matter.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "privsep/buf.h"
#include "worker/http.h"

static int	http_fail(int *, int);
static int	http_is_tchar(uint8_t);
static int	http_is_target(uint8_t);
static int	http_is_value(uint8_t);
static int	http_token(const struct buf *);
static void	http_sets(void);

/* The classes above as tables, for buf_all_in; filled by http_sets. */
static uint8_t	http_set_tchar[256], http_set_target[256], http_set_value[256];
static void	http_te(struct http_req *);
static int	http_line_end(struct http_parser *, const struct buf *, size_t,
		    struct http_req *, int *);
static int	http_reqline(const struct buf *, struct http_req *, int *);
static int	http_version(const struct buf *, int *, int *);
static int	http_fieldline(const struct buf *, struct http_field *, int *);
static int	http_next_line(struct buf *, struct buf *);
static int	http_head(const struct buf *, size_t, size_t, struct http_req *,
		    int *);
static int	http_framing(struct http_req *, int *);
static int	http_has_option(const struct http_req *, const char *,
		    const char *);

static const struct {
	const char		*hm_name;
	enum http_method	 hm_method;
} http_methods[] = {
	{ "GET",	HTTP_M_GET },
	{ "HEAD",	HTTP_M_HEAD },
	{ "POST",	HTTP_M_POST },
	{ "PUT",	HTTP_M_PUT },
	{ "DELETE",	HTTP_M_DELETE },
};

void
http_parser_init(struct http_parser *p)
{
	http_sets();
	memset(p, 0, sizeof(*p));
}

int
http_parse(struct http_parser *p, const struct buf *in, struct http_req *r,
    int *status)
{
	struct buf	s = *in;
	size_t		pos = p->hp_scanned;
	uint8_t		c;
	int		rv;

	/* in must still hold what earlier calls scanned. */
	if (buf_skip(&s, pos) == -1)
		return http_fail(status, 500);
	while (buf_get_u8(&s, &c) == 0) {
		if (c == '\r') {
			/* A CR at the end may yet be followed by its LF. */
			if (buf_get_u8(&s, &c) == -1)
				break;
			if (c != '\n')
				return http_fail(status, 400);
			if ((rv = http_line_end(p, in, pos, r, status)) !=
			    HTTP_MORE)
				return rv;
			pos += 2;
		} else if (c == '\n' || c == '\0')
			return http_fail(status, 400);
		else
			pos++;
		if (p->hp_fields == 0) {
			if (pos - p->hp_line > HTTP_LINE_MAX)
				return http_fail(status, 414);
		} else if (pos - p->hp_fields > HTTP_HEADERS_MAX)
			return http_fail(status, 431);
	}
	p->hp_scanned = pos;
	return HTTP_MORE;
}

const struct http_field *
http_field(const struct http_req *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->hr_nfields; i++)
		if (buf_caseeq(&r->hr_fields[i].hf_name, name))
			return &r->hr_fields[i];
	return NULL;
}

size_t
http_field_count(const struct http_req *r, const char *name)
{
	size_t	i, n = 0;

	for (i = 0; i < r->hr_nfields; i++)
		if (buf_caseeq(&r->hr_fields[i].hf_name, name))
			n++;
	return n;
}

static int
http_fail(int *status, int code)
{
	*status = code;
	return HTTP_ERROR;
}

/* RFC 9110 §5.6.2 tchar. */
static int
http_is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible ASCII; encoded forms are the only way to send anything else. */
static int
http_is_target(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* field-value: VCHAR, SP, HTAB and obs-text; no other control byte. */
static int
http_is_value(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
http_token(const struct buf *b)
{
	return buf_left(b) > 0 && buf_all_in(b, http_set_tchar);
}

static void
http_sets(void)
{
	static int	done;
	unsigned int	c;

	if (done)
		return;
	for (c = 0; c < 256; c++) {
		http_set_tchar[c] = (uint8_t)http_is_tchar((uint8_t)c);
		http_set_target[c] = (uint8_t)http_is_target((uint8_t)c);
		http_set_value[c] = (uint8_t)http_is_value((uint8_t)c);
	}
	done = 1;
}

/*
 * The scan found CRLF at pos, ending the line that began at hp_line.
 * Returns HTTP_MORE to go on scanning.
 */
static int
http_line_end(struct http_parser *p, const struct buf *in, size_t pos,
    struct http_req *r, int *status)
{
	struct http_field	f;
	struct buf		line;

	if (buf_slice(in, p->hp_line, pos - p->hp_line, &line) == -1)
		return http_fail(status, 500);
	if (p->hp_fields == 0) {
		if (buf_left(&line) == 0) {
			/* RFC 9112 §2.2: a few CRLFs may precede a request. */
			p->hp_lead += 2;
			if (p->hp_lead > 2 * HTTP_EMPTY_LINES_MAX)
				return http_fail(status, 400);
		} else {
			if (http_reqline(&line, r, status) == -1)
				return HTTP_ERROR;
			p->hp_fields = pos + 2;
		}
	} else if (buf_left(&line) == 0)
		return http_head(in, p->hp_lead, pos + 2, r, status);
	else {
		if (++p->hp_nfields > HTTP_FIELDS_MAX)
			return http_fail(status, 431);
		if (http_fieldline(&line, &f, status) == -1)
			return HTTP_ERROR;
	}
	p->hp_line = pos + 2;
	return HTTP_MORE;
}

/* method SP request-target SP HTTP-version, with single spaces only. */
static int
http_reqline(const struct buf *line, struct http_req *r, int *status)
{
	struct buf	l = *line, target;
	size_t		i;

	if (buf_sep(&l, ' ', &r->hr_method_tok) == -1 ||
	    buf_sep(&l, ' ', &target) == -1 ||
	    !http_token(&r->hr_method_tok))
		return http_fail(status, 400);
	/* What is left is the version; an extra space makes it malformed. */
	if (http_version(&l, &r->hr_minor, status) == -1)
		return HTTP_ERROR;
	/* Origin-form only: no absolute, authority or asterisk form. */
	if (!buf_has_prefix(&target, "/") ||
	    !buf_all_in(&target, http_set_target))
		return http_fail(status, 400);
	if (buf_sep(&target, '?', &r->hr_path) == -1)
		return http_fail(status, 400);
	r->hr_query = target;

	r->hr_method = HTTP_M_OTHER;
	for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (buf_eq(&r->hr_method_tok, http_methods[i].hm_name))
			r->hr_method = http_methods[i].hm_method;
	return 0;
}

static int
http_version(const struct buf *v, int *minor, int *status)
{
	uint8_t	major, dot, min;

	if (buf_eq(v, "HTTP/1.1")) {
		*minor = 1;
		return 0;
	}
	if (buf_eq(v, "HTTP/1.0")) {
		*minor = 0;
		return 0;
	}
	/* Well-formed, but a version we do not speak. */
	if (buf_left(v) == 8 && buf_has_prefix(v, "HTTP/") &&
	    buf_peek(v, 5, &major) == 0 && major >= '0' && major <= '9' &&
	    buf_peek(v, 6, &dot) == 0 && dot == '.' &&
	    buf_peek(v, 7, &min) == 0 && min >= '0' && min <= '9')
		return http_fail(status, 505);
	return http_fail(status, 400);
}

/* field-name ":" OWS field-value OWS */
static int
http_fieldline(const struct buf *line, struct http_field *f, int *status)
{
	struct buf	l = *line;
	size_t		n;

	/*
	 * Whitespace is not a tchar, so both whitespace before the colon and
	 * obs-fold (RFC 9112 §5.2: a line starting with SP or HTAB) fail
	 * here: a folded line is refused, never unfolded.
	 */
	if (buf_find(&l, ':', &n) == -1 ||
	    buf_take(&l, n, &f->hf_name) == -1 || buf_skip(&l, 1) == -1 ||
	    !http_token(&f->hf_name))
		return http_fail(status, 400);
	f->hf_value = l;
	buf_trim_ows(&f->hf_value);
	if (!buf_all_in(&f->hf_value, http_set_value))
		return http_fail(status, 400);
	return 0;
}

/* Next line of a head the scan checked: a CR is always part of a CRLF. */
static int
http_next_line(struct buf *head, struct buf *line)
{
	size_t	n;

	if (buf_find(head, '\r', &n) == -1 || buf_take(head, n, line) == -1 ||
	    buf_skip(head, 2) == -1)
		return -1;
	return 0;
}

/*
 * The head [lead, len) is complete and every line in it passed the scan;
 * take it apart into r.
 */
static int
http_head(const struct buf *in, size_t lead, size_t len, struct http_req *r,
    int *status)
{
	struct buf	head, line;

	memset(r, 0, sizeof(*r));
	if (buf_slice(in, lead, len - lead, &head) == -1 ||
	    http_next_line(&head, &line) == -1)
		return http_fail(status, 500);
	if (http_reqline(&line, r, status) == -1)
		return HTTP_ERROR;
	while (http_next_line(&head, &line) == 0 && buf_left(&line) > 0) {
		/* The scan counted already; this guards the array. */
		if (r->hr_nfields == HTTP_FIELDS_MAX)
			return http_fail(status, 431);
		if (http_fieldline(&line, &r->hr_fields[r->hr_nfields],
		    status) == -1)
			return HTTP_ERROR;
		r->hr_nfields++;
	}
	r->hr_head_len = len;
	return http_framing(r, status);
}

/* Message framing and the fields that steer the connection. */
static int
http_framing(struct http_req *r, int *status)
{
	const struct http_field	*f;
	size_t			 i;

	if (http_field_count(r, "Host") > 1)
		return http_fail(status, 400);

	/*
	 * Two Content-Lengths are refused even when equal, and a list
	 * ("5, 5"), a sign, spaces or hex fail the strict decimal parse:
	 * no two parties may read a different body length.
	 */
	if (http_field_count(r, "Content-Length") > 1)
		return http_fail(status, 400);
	if ((f = http_field(r, "Content-Length")) != NULL) {
		if (buf_to_u64(&f->hf_value, HTTP_CL_MAX, &r->hr_cl) == -1)
			return http_fail(status, 400);
		r->hr_has_cl = 1;
	}
	if (http_field_count(r, "Transfer-Encoding") > 0) {
		if (r->hr_has_cl)
			return http_fail(status, 400);
		/* The caller answers 411, 501 or 400; we say what it is. */
		r->hr_has_te = 1;
		http_te(r);
	}

	if (r->hr_minor == 1)
		r->hr_keepalive = !http_has_option(r, "Connection", "close");
	else
		r->hr_keepalive = http_has_option(r, "Connection",
		    "keep-alive") && !http_has_option(r, "Connection", "close");

	for (i = 0; i < r->hr_nfields; i++) {
		f = &r->hr_fields[i];
		if (!buf_caseeq(&f->hf_name, "Expect"))
			continue;
		if (!buf_caseeq(&f->hf_value, "100-continue"))
			return http_fail(status, 417);
		r->hr_expect_continue = r->hr_minor == 1;
	}
	return HTTP_DONE;
}

/*
 * Every Transfer-Encoding field as one list (RFC 9110 §5.3).  Exactly
 * "chunked" is a framing we decline to read (411).  Chunked last, once,
 * after other codings: codings we do not implement (RFC 9112 §6.1: 501).
 * Anything else leaves the body length unknown (§6.3: 400): neither flag.
 */
static void
http_te(struct http_req *r)
{
	struct buf	list, elem;
	size_t		i, n = 0, nchunked = 0;
	int		last = 0, tokens = 1;

	for (i = 0; i < r->hr_nfields; i++) {
		if (!buf_caseeq(&r->hr_fields[i].hf_name, "Transfer-Encoding"))
			continue;
		list = r->hr_fields[i].hf_value;
		while (buf_sep(&list, ',', &elem) == 0) {
			buf_trim_ows(&elem);
			if (buf_left(&elem) == 0)
				continue;	/* RFC 9110 §5.6.1 */
			n++;
			tokens &= http_token(&elem);
			last = buf_caseeq(&elem, "chunked");
			nchunked += (size_t)last;
		}
	}
	if (!last || nchunked != 1 || !tokens)
		return;
	r->hr_te_chunked = n == 1;
	r->hr_te_other = n > 1;
}

/* Is opt an element of the comma list in any field called name? */
static int
http_has_option(const struct http_req *r, const char *name, const char *opt)
{
	struct buf	list, elem;
	size_t		i;

	for (i = 0; i < r->hr_nfields; i++) {
		if (!buf_caseeq(&r->hr_fields[i].hf_name, name))
			continue;
		list = r->hr_fields[i].hf_value;
		while (buf_sep(&list, ',', &elem) == 0) {
			buf_trim_ows(&elem);
			if (buf_caseeq(&elem, opt))
				return 1;
		}
	}
	return 0;
}
