/* SPDX-License-Identifier: ISC */
/*
 * The worker's log.  Its stderr is a pipe that only the broker reads; the
 * broker writes each line again as "<N>sealmd-worker: ...", so nothing the
 * worker writes can pass for a broker line (an audit line starts
 * "<5>sealmd: audit ").  The pipe is hostile input: read at most
 * WLOG_READ bytes a loop turn, lines cut at WLOG_LINE_MAX, bytes other
 * than printable ASCII written as \xHH, and at most WLOG_RATE lines a
 * second (bursts of WLOG_BURST) relayed; the rest is counted and dropped.
 * A pipe also ends the SIGXFSZ a worker with RLIMIT_FSIZE 0 got when it
 * wrote to a stderr that was a regular file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "privsep/log.h"

#define WLOG_READ	4096	/* bytes read per loop turn */
#define WLOG_RATE	100	/* lines a second, sustained */
#define WLOG_BURST	1000	/* lines at once: a sanitizer report */
#define WLOG_COST_MS	(1000 / WLOG_RATE)
#define WLOG_DRAIN	64	/* reads when the worker is gone */
#define WLOG_PREFIX	"sealmd-worker: "

static void	wlog_line(struct wlog *);
static void	wlog_feed(struct wlog *, const unsigned char *, size_t);
static void	wlog_close(struct wlog *);

void
wlog_init(struct wlog *wl)
{
	memset(wl, 0, sizeof(*wl));
	wl->wl_fd = -1;
	wl->wl_credit_ms = WLOG_BURST * WLOG_COST_MS;
	wl->wl_last_ms = broker_now_ms();
}

/*
 * The read end of the next worker's stderr, from the launcher; what the
 * last one wrote is relayed first.
 */
void
wlog_set(struct wlog *wl, int fd)
{
	wlog_drain(wl);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	wl->wl_fd = fd;
}

/*
 * Called with the pipe readable: one bounded read.  1: read some, 0:
 * nothing there now, -1: closed.
 */
int
wlog_read(struct wlog *wl)
{
	unsigned char	buf[WLOG_READ];
	ssize_t		n;

	if (wl->wl_fd == -1)
		return -1;
	if ((n = read(wl->wl_fd, buf, sizeof(buf))) > 0) {
		wlog_feed(wl, buf, (size_t)n);
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == -1)
		log_warn("worker log pipe");
	wlog_close(wl);
	return -1;
}

/*
 * The worker is gone (or going): relay what it left, then close.  A dead
 * worker's pipe holds at most one pipe buffer; WLOG_DRAIN reads bound
 * the wait for one that is still being killed.
 */
void
wlog_drain(struct wlog *wl)
{
	int	i;

	for (i = 0; i < WLOG_DRAIN; i++)
		if (wlog_read(wl) != 1)
			break;
	if (wl->wl_fd != -1)
		wlog_close(wl);
}

static void
wlog_close(struct wlog *wl)
{
	if (wl->wl_len > 0)
		wlog_line(wl);		/* a last line without a newline */
	close(wl->wl_fd);
	wl->wl_fd = -1;
	wl->wl_len = 0;
	wl->wl_skip = 0;
	if (wl->wl_dropped > 0) {
		log_warnx("worker log: %u lines dropped, over %d a second",
		    wl->wl_dropped, WLOG_RATE);
		wl->wl_dropped = 0;
	}
}

/* Escape into the line; a line that does not fit is cut and ended. */
static void
wlog_feed(struct wlog *wl, const unsigned char *p, size_t n)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;
	unsigned char		c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '\n') {
			if (!wl->wl_skip)
				wlog_line(wl);
			wl->wl_len = 0;
			wl->wl_skip = 0;
			continue;
		}
		if (wl->wl_skip)
			continue;
		/* Room for the longest escape and the "..." of a cut. */
		if (wl->wl_len + 4 + 3 >= sizeof(wl->wl_line)) {
			memcpy(wl->wl_line + wl->wl_len, "...", 3);
			wl->wl_len += 3;
			wlog_line(wl);
			wl->wl_len = 0;
			wl->wl_skip = 1;
			continue;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			wl->wl_line[wl->wl_len++] = (char)c;
		else {
			wl->wl_line[wl->wl_len++] = '\\';
			wl->wl_line[wl->wl_len++] = 'x';
			wl->wl_line[wl->wl_len++] = hex[c >> 4];
			wl->wl_line[wl->wl_len++] = hex[c & 0xf];
		}
	}
}

/*
 * Relay one line, if the rate allows.  The worker's own
 * "<N>sealmd-worker: " is replaced by the broker's; N stays if it is one
 * the worker uses (error, warning, info, debug), never the audit's 5 or
 * a level above error.
 */
static void
wlog_line(struct wlog *wl)
{
	uint64_t	now = broker_now_ms();
	const char	*msg;
	int		pri = LOG_PRI_WARN, n;

	wl->wl_credit_ms += now - wl->wl_last_ms;
	wl->wl_last_ms = now;
	if (wl->wl_credit_ms > WLOG_BURST * WLOG_COST_MS)
		wl->wl_credit_ms = WLOG_BURST * WLOG_COST_MS;
	if (wl->wl_credit_ms < WLOG_COST_MS) {
		wl->wl_dropped++;
		return;
	}
	wl->wl_credit_ms -= WLOG_COST_MS;
	if (wl->wl_dropped > 0) {
		log_warnx("worker log: %u lines dropped, over %d a second",
		    wl->wl_dropped, WLOG_RATE);
		wl->wl_dropped = 0;
	}
	wl->wl_line[wl->wl_len] = '\0';
	msg = wl->wl_line;
	if (wl->wl_len >= 3 + sizeof(WLOG_PREFIX) - 1 && msg[0] == '<' &&
	    msg[1] >= '0' && msg[1] <= '9' && msg[2] == '>' &&
	    strncmp(msg + 3, WLOG_PREFIX, sizeof(WLOG_PREFIX) - 1) == 0) {
		n = msg[1] - '0';
		if (n == LOG_PRI_ERR || n == LOG_PRI_WARN ||
		    n == LOG_PRI_INFO || n == LOG_PRI_DEBUG)
			pri = n;
		msg += 3 + sizeof(WLOG_PREFIX) - 1;
	}
	log_relay(pri, "sealmd-worker", msg);
}
