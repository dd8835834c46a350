/* SPDX-License-Identifier: ISC */
/*
 * log_warn and fatal append strerror(errno); the "x" forms do not.
 * Each line is written with one write(2) so that lines from the broker and
 * the worker, which share stderr, never interleave.  Audit lines wait in a
 * buffer of PIPE_BUF bytes, written whole by log_flush (the broker's, once
 * per loop turn, before the turn's answers leave) or before any other line.
 * The broker's store threads log too: one mutex keeps the buffer and the
 * order of writes whole.  A single-threaded process never waits on it.
 * Audit lines that cannot be written stop the process (log_flush_locked).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048
#define LOG_POLL_MS	100	/* a non-blocking stderr that is full: */
#define LOG_POLLS	100	/* 10 s at most, then it is lost */
#define LOG_STR(x)	#x
#define LOG_XSTR(x)	LOG_STR(x)

static const char	*log_name = "sealmd";
static int		 log_debugging;
static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;
static char		 log_abuf[PIPE_BUF];	/* one atomic write; log_mtx */
static size_t		 log_alen;		/* log_mtx */

static void	log_vwrite(int, int, const char *, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));
static void	log_flush_locked(void);
static int	log_write(const char *, size_t);
static void	log_line(const char *, size_t);

void
log_init(const char *procname, int debug)
{
	log_name = procname;
	log_debugging = debug;
}

void
log_procname(const char *procname)
{
	log_name = procname;
}

static void
log_vwrite(int pri, int saved_errno, const char *tag, const char *fmt,
    va_list ap)
{
	char	line[LOG_LINE_MAX];
	int	n, m;

	n = snprintf(line, sizeof(line), "<%d>%s: %s", pri, log_name, tag);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n = (size_t)(n + m) >= sizeof(line) - 2 ?
	    (int)sizeof(line) - 2 : n + m;
	if (saved_errno != 0) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(saved_errno));
		if (m > 0)
			n = (size_t)(n + m) >= sizeof(line) - 2 ?
			    (int)sizeof(line) - 2 : n + m;
	}
	line[n++] = '\n';
	log_line(line, (size_t)n);
}

/* s after the first *n bytes of line, cut as log_vwrite cuts. */
static void
log_cat(char line[LOG_LINE_MAX], size_t *n, const char *s)
{
	size_t	len;

	len = strnlen(s, LOG_LINE_MAX - 2 - *n);
	memcpy(line + *n, s, len);
	*n += len;
}

/*
 * An audit line: "<5>NAME: audit " and the parts joined, waiting in the
 * buffer for log_flush.  Without printf: every operation writes one.
 */
void
log_audit(const char *const *part, size_t nparts)
{
	char	line[LOG_LINE_MAX];
	size_t	n = 0, i;

	log_cat(line, &n, "<" LOG_XSTR(LOG_PRI_NOTICE) ">");
	log_cat(line, &n, log_name);
	log_cat(line, &n, ": audit ");
	for (i = 0; i < nparts; i++)
		log_cat(line, &n, part[i]);
	line[n++] = '\n';
	pthread_mutex_lock(&log_mtx);
	if (log_alen + n > sizeof(log_abuf))
		log_flush_locked();
	memcpy(log_abuf + log_alen, line, n);
	log_alen += n;
	pthread_mutex_unlock(&log_mtx);
}

/*
 * All of buf to stderr: again after a signal or a short write, and on a
 * non-blocking stderr that is full, for LOG_POLLS waits of LOG_POLL_MS at
 * most.  -1 when it cannot be written.
 */
static int
log_write(const char *buf, size_t len)
{
	struct pollfd	pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	ssize_t		r;
	size_t		off = 0;
	int		polls = 0;

	while (off < len) {
		if ((r = write(STDERR_FILENO, buf + off, len - off)) > 0)
			off += (size_t)r;
		else if (r == -1 && errno == EINTR)
			continue;
		else if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    polls++ < LOG_POLLS)
			(void)poll(&pfd, 1, LOG_POLL_MS);
		else
			return -1;
	}
	return 0;
}

/* The audit lines waiting, then this one. */
static void
log_line(const char *line, size_t len)
{
	pthread_mutex_lock(&log_mtx);
	log_flush_locked();
	(void)log_write(line, len);	/* nowhere to report it */
	pthread_mutex_unlock(&log_mtx);
}

/*
 * An audit line that cannot be written stops the process, before the
 * answers of its turn can leave (broker_turn_end flushes the channel
 * after this): no value goes out unaudited.  Exit 1 with no atexit
 * handler (log_mtx is held), as a fatal error: systemd restarts sealmd.
 */
static void
log_flush_locked(void)
{
	static const char	msg[] = "<" LOG_XSTR(LOG_PRI_ERR) ">sealmd: "
	    "fatal: audit lines could not be written to stderr\n";
	ssize_t			r;

	if (log_alen == 0)
		return;
	if (log_write(log_abuf, log_alen) == -1) {
		r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)r;	/* nowhere else to say it */
		_exit(1);
	}
	log_alen = 0;
}

void
log_flush(void)
{
	pthread_mutex_lock(&log_mtx);
	log_flush_locked();
	pthread_mutex_unlock(&log_mtx);
}

/* Another process's line, already checked: "<pri>proc: msg". */
void
log_relay(int pri, const char *proc, const char *msg)
{
	char	line[LOG_LINE_MAX];
	int	n;

	n = snprintf(line, sizeof(line), "<%d>%s: %s", pri, proc, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	log_line(line, (size_t)n);
}

#define LOG_BODY(pri, err, tag) do {				\
	va_list ap;						\
	int saved = errno;					\
	va_start(ap, fmt);					\
	log_vwrite((pri), (err) ? saved : 0, (tag), fmt, ap);	\
	va_end(ap);						\
	errno = saved;						\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_PRI_WARN, 1, "");
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_PRI_WARN, 0, "");
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_PRI_INFO, 0, "");
}

void
log_debug(const char *fmt, ...)
{
	if (!log_debugging)
		return;
	LOG_BODY(LOG_PRI_DEBUG, 0, "");
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_PRI_ERR, 1, "fatal: ");
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_PRI_ERR, 0, "fatal: ");
	exit(1);
}
