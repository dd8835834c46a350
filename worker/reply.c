/* SPDX-License-Identifier: ISC */
/*
 * Building answers.  No answer ever redirects or carries Location; every
 * answer that can hold a password carries Cache-Control: no-store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "privsep/log.h"
#include "worker.h"

const char *
reply_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/*
 * Queue a whole answer.  HEAD gets the headers only.  A 204 has no body
 * and no Content-Length.  Answers on password routes are never cached.
 */
void
reply_send(struct wconn *c, int status, const char *ctype, const void *body,
    size_t len)
{
	struct wreq	*q = &c->wc_req;
	struct bbuf	*o = &c->wc_out;
	int		 r = 0;

	/* A body left unread would be taken for the next request. */
	if (q->wr_close)
		q->wr_keepalive = 0;
	r |= bbuf_printf(o, "HTTP/1.1 %d %s\r\n", status,
	    reply_reason(status));
	if (status != 204) {
		r |= bbuf_printf(o, "Content-Type: %s\r\n", ctype);
		r |= bbuf_printf(o, "Content-Length: %zu\r\n", len);
	}
	if (q->wr_endpoint == EP_PASSWORD || q->wr_endpoint == EP_O_PW ||
	    q->wr_endpoint == EP_TOKEN || q->wr_endpoint == EP_O_VERIFY)
		r |= bbuf_add_str(o, "Cache-Control: no-store\r\n");
	if (status == 401 && c->wc_role == ROLE_OWNER)
		r |= bbuf_add_str(o, "WWW-Authenticate: X-Auth-Token, "
		    "client-certificate\r\n");
	if (status == 405)
		r |= bbuf_add_str(o,
		    q->wr_endpoint == EP_O_LIST ? "Allow: GET\r\n" :
		    q->wr_endpoint == EP_O_INST ?
		    "Allow: GET, PUT, DELETE\r\n" :
		    q->wr_endpoint == EP_O_PW ? "Allow: GET, DELETE\r\n" :
		    q->wr_endpoint == EP_TOKEN ? "Allow: PUT\r\n" :
		    q->wr_endpoint == EP_O_BATCH ? "Allow: POST\r\n" :
		    "Allow: GET\r\n");
	if (!q->wr_keepalive)
		r |= bbuf_add_str(o, "Connection: close\r\n");
	else if (q->wr_minor == 0)
		r |= bbuf_add_str(o, "Connection: keep-alive\r\n");
	r |= bbuf_add_str(o, "\r\n");
	if (status != 204 && q->wr_method != HTTP_M_HEAD && len > 0)
		r |= bbuf_add(o, body, len);
	if (r != 0) {
		/* Only a huge owner listing can get here: say so plainly. */
		bbuf_reset(o);
		q->wr_keepalive = 0;
		(void)bbuf_printf(o, "HTTP/1.1 500 Internal Server Error\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		log_warnx("answer of %zu bytes does not fit", len);
		status = 500;
	}
	q->wr_sent = status;
}

/* webob's text/plain error layout, which Nova's clients may have seen. */
void
reply_text_error(struct wconn *c, int status, const char *why)
{
	char	body[512];
	int	n;

	n = snprintf(body, sizeof(body), "%d %s\n\n%s\n\n   ", status,
	    reply_reason(status), why);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	reply_send(c, status, "text/plain; charset=UTF-8", body, (size_t)n);
}

void
reply_json_error(struct wconn *c, int status, const char *why)
{
	json_t	*j;
	char	*s;

	if ((j = json_pack("{s:s}", "error", why)) == NULL ||
	    (s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("json");
	json_decref(j);
	reply_send(c, status, "application/json", s, strlen(s));
	free(s);
}
