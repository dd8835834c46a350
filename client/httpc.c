/* SPDX-License-Identifier: ISC */
/*
 * The HTTP/1.1 client of sealmdctl and sealmd-guest.  Every request says
 * "Connection: close", so an answer ends at its length, its last chunk
 * or the end of the connection, and nothing after it is ever read as
 * another answer.  All the answer's bytes are read through struct buf.
 */
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "client/httpc.h"

#define HTTPC_READ_CHUNK	(16 * 1024)

static int	httpc_is_tchar(uint8_t);
static int	httpc_hex(const struct buf *, uint64_t, uint64_t *);
static int	httpc_need(int, const char **, const char *);
static int	httpc_chunked(struct buf *, struct bbuf *, const char **);
static int	httpc_ready(const struct httpc_peer *, int, short, int64_t,
		    const char *);
static int	httpc_send(const struct httpc_peer *, int, struct bbuf *,
		    int64_t);
static int	httpc_recv(const struct httpc_peer *, int, struct httpc_resp *,
		    int64_t);

int64_t
httpc_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when fd is ready, 0 at the deadline, -1 on error. */
int
httpc_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		if ((left = deadline - httpc_now_ms()) <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		return n;
	}
}

/*
 * Take the next line off b, without its LF and a CR before that.  Returns
 * 0 when no complete line is there; with last set, an unterminated rest
 * counts as the final line.
 */
int
httpc_line(struct buf *b, struct buf *line, int last)
{
	struct buf	t;
	size_t		pos;
	uint8_t		ch;

	if (buf_find(b, '\n', &pos) == 0) {
		(void)buf_take(b, pos, line);
		(void)buf_skip(b, 1);
	} else if (last && buf_left(b) > 0)
		(void)buf_take(b, buf_left(b), line);
	else
		return 0;
	if (buf_left(line) > 0 &&
	    buf_peek(line, buf_left(line) - 1, &ch) == 0 && ch == '\r') {
		(void)buf_take(line, buf_left(line) - 1, &t);
		*line = t;
	}
	return 1;
}

/* RFC 9110 tchar. */
static int
httpc_is_tchar(uint8_t ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* A chunk size: hex digits, at most max. */
static int
httpc_hex(const struct buf *b, uint64_t max, uint64_t *v)
{
	struct buf	t = *b;
	uint64_t	acc = 0;
	uint8_t		ch, d;

	if (buf_left(&t) == 0)
		return -1;
	while (buf_get_u8(&t, &ch) == 0) {
		if (ch >= '0' && ch <= '9')
			d = (uint8_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (uint8_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (uint8_t)(ch - 'A' + 10);
		else
			return -1;
		acc = acc * 16 + d;
		if (acc > max)
			return -1;
	}
	*v = acc;
	return 0;
}

/*
 * The request head, then len bytes of body of type ctype if body is set.
 * -1 when it does not fit in req.
 */
int
httpc_request(struct bbuf *req, const struct httpc_peer *hp,
    const char *method, const char *path, const char *ctype,
    const void *body, size_t len)
{
	/* The length even when 0: a POST without one is refused (411). */
	if (bbuf_printf(req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path,
	    hp->hp_host) == -1 ||
	    (hp->hp_agent != NULL && bbuf_printf(req, "User-Agent: %s\r\n",
	    hp->hp_agent) == -1) ||
	    bbuf_add_str(req, "Connection: close\r\n") == -1 ||
	    (ctype != NULL && bbuf_printf(req, "Content-Type: %s\r\n",
	    ctype) == -1) ||
	    ((body != NULL || strcmp(method, "POST") == 0) &&
	    bbuf_printf(req, "Content-Length: %zu\r\n", len) == -1) ||
	    bbuf_add_str(req, "\r\n") == -1 ||
	    (body != NULL && bbuf_add(req, body, len) == -1))
		return -1;
	return 0;
}

/* The answer, and a chunked body, may be up to max bytes each. */
void
httpc_resp_init(struct httpc_resp *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	bbuf_init(&r->hr_raw, max);
	bbuf_init(&r->hr_chunked, max);
}

void
httpc_resp_free(struct httpc_resp *r)
{
	bbuf_free(&r->hr_raw);		/* wipes: it may hold a password */
	bbuf_free(&r->hr_chunked);
	memset(r, 0, sizeof(*r));
}

/* Incomplete: wait for more, unless the peer is done. */
static int
httpc_need(int eof, const char **why, const char *what)
{
	if (!eof)
		return 0;
	*why = what;
	return -1;
}

/*
 * Decode a chunked body from b into out: 1 complete, 0 more needed, -1
 * malformed.  Extensions and trailers are skipped.
 */
static int
httpc_chunked(struct buf *b, struct bbuf *out, const char **why)
{
	struct buf	line, size, data;
	uint64_t	n;
	uint8_t		*p;
	size_t		avail;

	bbuf_reset(out);
	for (;;) {
		if (!httpc_line(b, &line, 0))
			return 0;
		if (buf_sep(&line, ';', &size) == -1)
			size = line;
		buf_trim_ows(&size);
		if (httpc_hex(&size, out->bb_max, &n) == -1) {
			*why = "bad chunk size";
			return -1;
		}
		if (n == 0)
			break;
		if (buf_take(b, n, &data) == -1)
			return 0;
		if (bbuf_reserve(out, n, &p, &avail) == -1 || avail < n) {
			*why = "body too large";
			return -1;
		}
		(void)buf_get(&data, p, n);
		bbuf_commit(out, n);
		if (!httpc_line(b, &line, 0))
			return 0;
		if (buf_left(&line) != 0) {
			*why = "bad chunk end";
			return -1;
		}
	}
	do {
		if (!httpc_line(b, &line, 0))
			return 0;
	} while (buf_left(&line) > 0);
	return 1;
}

/*
 * Parse what has arrived of the answer.  Returns 1 when it is complete,
 * 0 when more is needed, -1 when it is malformed (*why says how).  It
 * starts over on every call: the views it leaves are valid only once it
 * has returned 1 and nothing more is read.
 */
int
httpc_parse(struct httpc_resp *r, int eof, const char **why)
{
	struct buf	b, line, code, name, value;
	uint64_t	status, cl = 0, v;
	size_t		pos;
	uint8_t		ch;
	int		has_cl, chunked, rv;

	bbuf_view(&r->hr_raw, &b);
	do {
		if (!httpc_line(&b, &line, 0))
			return httpc_need(eof, why, "truncated head");
		if (!buf_has_prefix(&line, "HTTP/1.") ||
		    buf_skip(&line, 7) == -1 ||
		    buf_get_u8(&line, &ch) == -1 || ch < '0' || ch > '9' ||
		    buf_get_u8(&line, &ch) == -1 || ch != ' ' ||
		    buf_take(&line, 3, &code) == -1 ||
		    buf_to_u64(&code, 999, &status) == -1 || status < 100 ||
		    (buf_get_u8(&line, &ch) == 0 && ch != ' ')) {
			*why = "bad status line";
			return -1;
		}
		r->hr_reason = line;
		has_cl = chunked = 0;
		for (;;) {
			if (!httpc_line(&b, &line, 0))
				return httpc_need(eof, why, "truncated head");
			if (buf_left(&line) == 0)
				break;
			if (buf_find(&line, ':', &pos) == -1 || pos == 0) {
				*why = "bad header line";
				return -1;
			}
			(void)buf_take(&line, pos, &name);
			(void)buf_skip(&line, 1);
			value = line;
			buf_trim_ows(&value);
			/* Also refuses obsolete line folding. */
			if (!buf_all(&name, httpc_is_tchar)) {
				*why = "bad header name";
				return -1;
			}
			if (buf_caseeq(&name, "transfer-encoding")) {
				if (!buf_caseeq(&value, "chunked")) {
					*why = "unsupported Transfer-Encoding";
					return -1;
				}
				chunked = 1;
				continue;
			}
			if (!buf_caseeq(&name, "content-length"))
				continue;
			if (buf_to_u64(&value, r->hr_raw.bb_max, &v) == -1 ||
			    (has_cl && v != cl)) {
				*why = "bad Content-Length";
				return -1;
			}
			cl = v;
			has_cl = 1;
		}
		/* Interim 1xx answers come before the real one. */
	} while (status < 200 && status != 101);
	r->hr_status = (int)status;

	if (status == 204 || status == 304)
		buf_init(&r->hr_body, NULL, 0);
	else if (chunked) {
		/* Chunked overrides a Content-Length (RFC 9112, 6.3). */
		if ((rv = httpc_chunked(&b, &r->hr_chunked, why)) == 0)
			return httpc_need(eof, why, "truncated body");
		if (rv == -1)
			return -1;
		bbuf_view(&r->hr_chunked, &r->hr_body);
	} else if (has_cl) {
		if (buf_take(&b, cl, &r->hr_body) == -1)
			return httpc_need(eof, why, "truncated body");
	} else {
		/* No length: the body runs to the end of the connection. */
		if (!eof)
			return 0;
		r->hr_body = b;
	}
	return 1;
}

/* httpc_wait, with a failure reported: "<what> within N seconds". */
static int
httpc_ready(const struct httpc_peer *hp, int fd, short events,
    int64_t deadline, const char *what)
{
	int	rv;

	if ((rv = httpc_wait(fd, events, deadline)) > 0)
		return 0;
	if (rv == 0)
		warnx("%s: %s within %d seconds", hp->hp_name, what,
		    hp->hp_timeout);
	else
		warn("%s: poll", hp->hp_name);
	return -1;
}

static int
httpc_send(const struct httpc_peer *hp, int fd, struct bbuf *req,
    int64_t deadline)
{
	ssize_t	n;

	while (req->bb_len > 0) {
		if (httpc_ready(hp, fd, POLLOUT, deadline,
		    "request not taken") == -1)
			return -1;
		n = send(fd, req->bb_data, req->bb_len, MSG_NOSIGNAL);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* The server may have answered early (413, 409); read it. */
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			return 0;
		if (n == -1) {
			warn("%s: send", hp->hp_name);
			return -1;
		}
		bbuf_consume(req, (size_t)n);
	}
	return 0;
}

static int
httpc_recv(const struct httpc_peer *hp, int fd, struct httpc_resp *r,
    int64_t deadline)
{
	const char	*why = NULL;
	ssize_t		 n;
	int		 rv;

	for (;;) {
		if (httpc_ready(hp, fd, POLLIN, deadline, "no answer") == -1)
			return -1;
		n = bbuf_read_fd(&r->hr_raw, fd, HTTPC_READ_CHUNK);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1 && errno == ENOBUFS) {
			warnx("%s: answer larger than %zu bytes", hp->hp_name,
			    r->hr_raw.bb_max);
			return -1;
		}
		if (n == -1) {
			warn("%s: read", hp->hp_name);
			return -1;
		}
		if (n == 0 && r->hr_raw.bb_len == 0) {
			warnx("%s: connection closed without an answer",
			    hp->hp_name);
			return -1;
		}
		if ((rv = httpc_parse(r, n == 0, &why)) == 1)
			return 0;
		if (rv == -1) {
			warnx("%s: malformed answer: %s", hp->hp_name, why);
			return -1;
		}
	}
}

/*
 * Send req on fd, which the caller has connected, and read the answer
 * into r, all before deadline.  0 when a whole answer came; every
 * failure has been reported.  The caller frees req and r.
 */
int
httpc_exchange(const struct httpc_peer *hp, int fd, struct bbuf *req,
    struct httpc_resp *r, int64_t deadline)
{
	if (httpc_send(hp, fd, req, deadline) == -1 ||
	    httpc_recv(hp, fd, r, deadline) == -1)
		return -1;
	return 0;
}
