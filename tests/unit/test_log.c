/* SPDX-License-Identifier: ISC */
/*
 * privsep/log.c: audit lines wait for log_flush, every other line writes
 * them out first, and a write never splits a line (PIPE_BUF at most).
 * Audit lines wait for room on a full stderr; when they cannot be written
 * at all, the process exits 1 before anything else happens.
 */
#include <sys/socket.h>

#include <criterion/criterion.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/log.h"

static int	rd = -1;

/* stderr becomes a socket that keeps each write(2) a separate record. */
static void
capture(void)
{
	int	p[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p), 0);
	cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	cr_assert_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	rd = p[0];
	log_init("t", 0);
}

/* One read(2): what one write(2) wrote. */
static size_t
drain(char *buf, size_t size)
{
	ssize_t	n;

	n = read(rd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

/* An audit line of one part, s, as audit_op joins its parts. */
static void
audit1(const char *s)
{
	log_audit(&s, 1);
}

TestSuite(log, .init = capture);

/* The parts, joined, after the prefix; a line too long is cut. */
Test(log, audit_joins_parts)
{
	char		 buf[PIPE_BUF * 2], pad[3000];
	const char	*part[] = { "op=", "x", " status=", "200" };

	log_audit(part, sizeof(part) / sizeof(part[0]));
	log_flush();
	drain(buf, sizeof(buf));
	cr_expect_str_eq(buf, "<5>t: audit op=x status=200\n");
	memset(pad, 'y', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	part[1] = pad;
	log_audit(part, sizeof(part) / sizeof(part[0]));
	log_flush();
	cr_expect_eq(drain(buf, sizeof(buf)), 2047);
	cr_expect_eq(strncmp(buf, "<5>t: audit op=yyy", 18), 0);
	cr_expect_eq(buf[2046], '\n');
	cr_expect_eq(buf[2045], 'y');
}

Test(log, audit_waits_for_flush)
{
	char	buf[PIPE_BUF * 2];

	audit1("op=a n=1");
	audit1("op=a n=2");
	cr_expect_eq(drain(buf, sizeof(buf)), 0, "written early: %s", buf);
	log_flush();
	drain(buf, sizeof(buf));
	cr_expect_str_eq(buf, "<5>t: audit op=a n=1\n<5>t: audit op=a n=2\n");
	log_flush();
	cr_expect_eq(drain(buf, sizeof(buf)), 0, "flushed twice");
}

Test(log, other_lines_keep_order)
{
	char	buf[PIPE_BUF * 2];

	audit1("op=b");
	log_warnx("after the audit line");
	drain(buf, sizeof(buf));
	cr_expect_str_eq(buf, "<5>t: audit op=b\n");
	drain(buf, sizeof(buf));
	cr_expect_str_eq(buf, "<4>t: after the audit line\n");
}

Test(log, full_buffer_writes_whole_lines)
{
	char		 buf[PIPE_BUF * 2], pad[200];
	const char	*part[] = { "op=c ", pad };
	size_t		 n, total = 0, lines = 0, i;

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < 100; i++)
		log_audit(part, 2);
	log_flush();
	while ((n = drain(buf, sizeof(buf))) > 0) {
		cr_assert_leq(n, PIPE_BUF);
		cr_assert_eq(buf[n - 1], '\n', "a write split a line");
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
		total += n;
	}
	cr_expect_eq(lines, 100);
	cr_expect_eq(total, 100 * (strlen("<5>t: audit op=c ") +
	    strlen(pad) + 1));
}

/*
 * The broker's main thread appends audit lines while its store threads'
 * warnings flush them: every line is written exactly once.
 */
#define LT_THREADS	4
#define LT_LINES	5000

static void *
log_thread(void *arg)
{
	char	line[64];
	int	t = (int)(intptr_t)arg, i;

	for (i = 0; i < LT_LINES; i++) {
		(void)snprintf(line, sizeof(line), "op=t t=%d n=%d", t, i);
		audit1(line);
		if (i % 8 == t)
			log_warnx("warn t=%d n=%d", t, i);
	}
	return NULL;
}

Test(log, threads_lose_and_double_nothing)
{
	static unsigned char	seen[LT_THREADS][LT_LINES];
	pthread_t		th[LT_THREADS];
	char			path[] = "/tmp/sealmd-test-log-XXXXXX";
	char			line[256];
	FILE			*f;
	int			fd, t, n, i, bad = 0;

	cr_assert_neq(fd = mkstemp(path), -1);
	unlink(path);
	cr_assert_eq(fcntl(fd, F_SETFL, O_APPEND), 0);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	for (t = 0; t < LT_THREADS; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, log_thread,
		    (void *)(intptr_t)t), 0);
	for (t = 0; t < LT_THREADS; t++)
		pthread_join(th[t], NULL);
	log_flush();
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_not_null(f = fdopen(fd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "<5>t: audit op=t t=%d n=%d", &t, &n) != 2)
			continue;
		if (t < 0 || t >= LT_THREADS || n < 0 || n >= LT_LINES)
			bad++;
		else
			seen[t][n]++;
	}
	fclose(f);
	cr_expect_eq(bad, 0, "garbled lines");
	for (t = 0; t < LT_THREADS; t++)
		for (i = 0; i < LT_LINES; i++)
			if (seen[t][i] != 1)
				bad++;
	cr_expect_eq(bad, 0, "%d audit lines lost or written twice", bad);
}

/* ENOSPC on every write: the audit line is lost, so the process stops. */
Test(log, audit_to_full_stderr_exits, .exit_code = 1)
{
	int	fd;

	cr_assert_neq(fd = open("/dev/full", O_WRONLY | O_CLOEXEC), -1);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	audit1("op=full");
	log_flush();
	cr_assert_fail("log_flush returned after its audit line was lost");
}

Test(log, audit_to_closed_stderr_exits, .exit_code = 1)
{
	close(STDERR_FILENO);
	audit1("op=closed");
	log_warnx("a warning flushes the audit line first");
	cr_assert_fail("log_warnx returned after its audit line was lost");
}

/* The reader of a full pipe: it empties it after a while, to EOF. */
static void *
log_drain_pipe(void *arg)
{
	static char	got[1 << 20];
	size_t		n = 0;
	ssize_t		r;
	int		fd = (int)(intptr_t)arg;

	usleep(200 * 1000);
	while (n < sizeof(got) - 1 &&
	    (r = read(fd, got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)r;
	got[n] = '\0';
	return got;
}

/* A non-blocking stderr that is full: the line waits for room. */
Test(log, audit_waits_for_room_on_full_stderr)
{
	pthread_t	 th;
	void		*got;
	char		 fill[PIPE_BUF];
	int		 p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	memset(fill, 'f', sizeof(fill));
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	cr_assert_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	cr_assert_eq(pthread_create(&th, NULL, log_drain_pipe,
	    (void *)(intptr_t)p[0]), 0);
	audit1("op=room");
	log_flush();
	close(STDERR_FILENO);
	cr_assert_eq(pthread_join(th, &got), 0);
	close(p[0]);
	cr_expect_not_null(strstr(got, "<5>t: audit op=room\n"),
	    "the audit line was lost on a full stderr");
}
