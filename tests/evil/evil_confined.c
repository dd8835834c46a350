/* SPDX-License-Identifier: ISC */
/*
 * The confined worker turns hostile.  Before confinement (files can still
 * be read) it takes the next line of "evil-confined" beside its own
 * executable, keeping its place in "evil-confined-next"; a start past the
 * last line, or with no file, is an ordinary worker.  After confinement
 * and MSG_INIT_DONE it plays that line:
 *
 *	open-keys PATH		open the key directory: seccomp kills
 *	connect			make a TCP socket: seccomp kills
 *	exec			run /bin/sh: seccomp kills
 *	forge-conn		an op on a connection id nobody issued
 *	direct-claim UUID	on a real direct connection, write UUID's
 *				password: the broker refuses a claimed identity
 *	owner-on-guest UUID	on a real guest connection, clear UUID's
 *				password: an owner op, refused
 *	fake-audit		write lines dressed as the broker's audit
 *				lines to stderr, then serve as usual
 *	log-flood MIB		write MIB MiB of log lines, then serve
 *	sanitizer		a heap overflow: in an ASan build, ASan's
 *				report; in a release build, which would not
 *				see it, a line standing in for the report
 *
 * Then it waits to be killed; if it is not, it says so and exits 3.  The
 * log scenarios are not killed: they test what the broker makes of them.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "privsep/log.h"
#include "worker/worker.h"

#define EVIL_FILE	"evil-confined"
#define EVIL_NEXT	"evil-confined-next"
#define EVIL_WAIT_MS	5000

static const char *const evil_names[] = {
	"open-keys", "connect", "exec", "forge-conn", "direct-claim",
	"owner-on-guest", "fake-audit", "log-flood", "sanitizer",
};
#define EVIL_FAKE_AUDIT	6
#define EVIL_LOG_FLOOD	7
#define EVIL_SANITIZER	8
#define EVIL_N	(int)(sizeof(evil_names) / sizeof(evil_names[0]))

static int
evil_read(const char *path, char *buf, size_t bufsz)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int
evil_confined_pick(char *arg, size_t argsz)
{
	char	self[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 32];
	char	list[4096], next[32], *line, *save = NULL, *sp;
	ssize_t	n;
	long	idx, i;
	int	fd, k;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		fatal("readlink");
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	snprintf(path, sizeof(path), "%s/%s", dir, EVIL_FILE);
	if (evil_read(path, list, sizeof(list)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, EVIL_NEXT);
	idx = evil_read(path, next, sizeof(next)) == 0 ? atol(next) : 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1 || dprintf(fd, "%ld\n", idx + 1) < 0)
		fatal("%s", path);
	close(fd);
	for (i = 0, line = strtok_r(list, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), i++) {
		if (i != idx)
			continue;
		arg[0] = '\0';
		if ((sp = strchr(line, ' ')) != NULL) {
			*sp = '\0';
			snprintf(arg, argsz, "%s", sp + 1);
		}
		for (k = 0; k < EVIL_N; k++)
			if (strcmp(line, evil_names[k]) == 0) {
				log_warnx("EVIL test worker: will play %s",
				    line);
				return k;
			}
		fatalx("unknown evil scenario %s", line);
	}
	return -1;
}

/* Wait for the channel with the worker's own epoll: poll is forbidden. */
static int
evil_wait(struct worker *w)
{
	static int		added;
	struct epoll_event	ev;

	if (!added) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		if (epoll_ctl(w->w_ep, EPOLL_CTL_ADD, w->w_chan.c_fd,
		    &ev) == -1)
			fatal("epoll_ctl");
		added = 1;
	}
	return epoll_wait(w->w_ep, &ev, 1, EVIL_WAIT_MS) == 1;
}

/* Answer pings until a connection arrives. */
static uint32_t
evil_wait_conn(struct worker *w)
{
	static struct chan_msg	m;

	for (;;) {
		if (!evil_wait(w))
			fatalx("EVIL: no connection came");
		if (chan_recv(&w->w_chan, &m) != 1)
			fatalx("EVIL: channel closed");
		if (m.m_hdr.ch_type == MSG_PING)
			(void)chan_send(&w->w_chan, MSG_PONG, m.m_hdr.ch_reqid,
			    0, NULL, 0, -1);
		else if (m.m_hdr.ch_type == MSG_CONN_NEW)
			return m.m_hdr.ch_connid;
	}
}

/* A well-formed write of "evil" in every way but the claimed identity. */
static void
evil_put(struct msg_guest_pw_put *mp, const char *victim)
{
	memset(mp, 0, sizeof(*mp));
	snprintf(mp->mp_guest.mg_instance, sizeof(mp->mp_guest.mg_instance),
	    "%s", victim);
	mp->mp_nchunks = 1;
	mp->mp_len[0] = 4;
	memcpy(mp->mp_chunk[0], "evil", 4);
	crypto_generichash(mp->mp_digest, sizeof(mp->mp_digest),
	    mp->mp_chunk[0], 4, NULL, 0);
}

static void
evil_write(const void *p, size_t n)
{
	if (write(STDERR_FILENO, p, n) != (ssize_t)n)
		fatal("EVIL: write to stderr");
}

/*
 * Every way to end a line or hide the prefix that one could try: a plain
 * copy, a carriage return, the worker's own prefix, a control byte, a
 * line so long that its tail would start a new one if it were cut and
 * kept, and a last line without a newline.
 */
static void
evil_fake_audit(void)
{
	static const char	fake[] = "<5>sealmd: audit op=owner.pw.get "
	    "listener=owner:/run/sealmd/owner.sock peer=uid=0,gid=0,pid=1 "
	    "instance=EVILFAKE%d status=200 fp=-";
	char			line[512], longl[3000];
	int			n;

	n = snprintf(line, sizeof(line), fake, 1);
	evil_write(line, (size_t)n);
	evil_write("\n", 1);
	evil_write("plain text\r", 11);
	n = snprintf(line, sizeof(line), fake, 2);
	evil_write(line, (size_t)n);
	evil_write("\n<6>sealmd-worker: ", 19);
	n = snprintf(line, sizeof(line), fake, 3);
	evil_write(line, (size_t)n);
	evil_write("\n\033[1A\0", 6);
	n = snprintf(line, sizeof(line), fake, 4);
	evil_write(line, (size_t)n);
	evil_write("\n", 1);
	memset(longl, 'A', sizeof(longl));
	evil_write(longl, sizeof(longl));
	n = snprintf(line, sizeof(line), fake, 5);
	evil_write(line, (size_t)n);
	evil_write("\n", 1);
	n = snprintf(line, sizeof(line), fake, 6);
	evil_write(line, (size_t)n);
}

/*
 * MIB MiB of 100-byte lines, as fast as the pipe takes them; then a pause,
 * so that the broker's rate lets the last line through.
 */
static void
evil_log_flood(struct worker *w, const char *arg)
{
	struct epoll_event	ev;
	char			line[100];
	long			i, n;

	n = atol(arg) * 1024 * 1024 / (long)sizeof(line);
	memset(line, 'F', sizeof(line));
	memcpy(line, "EVILFLOOD ", 10);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < n; i++)
		evil_write(line, sizeof(line));
	(void)epoll_wait(w->w_ep, &ev, 1, 100);
	log_warnx("EVIL log-flood: %ld lines written", n);
}

/*
 * One byte written past a heap block, by memset: ASan's own report, not
 * UBSan's, which sees an indexed load first.  What the fixture must hear.
 * A release build would not see it (or _FORTIFY_SOURCE would abort by
 * writing to /dev/tty): a line stands in for the report.
 */
static void
evil_sanitizer(void)
{
#ifdef SEALMD_SANITIZE
	volatile size_t	 len = 17;	/* hidden from the compiler */
	char		*p;

	if ((p = calloc(1, 16)) == NULL)
		fatal("calloc");
	memset(p, 'x', len);
	log_warnx("EVIL sanitizer: %c, and one byte past the end", p[0]);
	free(p);
#else
	log_warnx("==0==ERROR: AddressSanitizer: release build, this line "
	    "stands in for a report");
#endif
}

void
evil_confined_run(struct worker *w, int which, const char *arg)
{
	static struct chan_msg	 m;
	struct msg_guest_pw_put	 mp;
	struct msg_guest	 g;
	struct msg_id		 id;
	char			*sh[] = { (char *)(uintptr_t)"/bin/sh", NULL };
	uint32_t		 conn;

	if (which == EVIL_FAKE_AUDIT) {
		evil_fake_audit();
		return;
	}
	if (which == EVIL_LOG_FLOOD) {
		evil_log_flood(w, arg);
		return;
	}
	if (which == EVIL_SANITIZER) {
		evil_sanitizer();
		return;
	}
	/* No conn_loop here to flush a turn: every frame leaves at once. */
	w->w_chan.c_corked = 0;
	switch (which) {
	case 0:
		(void)syscall(SYS_openat, AT_FDCWD, arg, O_RDONLY);
		break;
	case 1:
		(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case 2:
		(void)syscall(SYS_execve, "/bin/sh", sh, NULL);
		break;
	case 3:
		memset(&g, 0, sizeof(g));
		(void)chan_send(&w->w_chan, MSG_GUEST_PW_GET, 1, 0x7fff0001,
		    &g, sizeof(g), -1);
		break;
	case 4:
		conn = evil_wait_conn(w);
		evil_put(&mp, arg);
		(void)chan_send(&w->w_chan, MSG_GUEST_PW_PUT, 1, conn, &mp,
		    sizeof(mp), -1);
		break;
	default:
		conn = evil_wait_conn(w);
		memset(&id, 0, sizeof(id));
		snprintf(id.md_id, sizeof(id.md_id), "%s", arg);
		(void)chan_send(&w->w_chan, MSG_OWNER_PW_DEL, 1, conn, &id,
		    sizeof(id), -1);
		break;
	}
	/* Still alive: wait for the broker's verdict. */
	while (evil_wait(w) && chan_recv(&w->w_chan, &m) == 1) {
		if (m.m_hdr.ch_type != MSG_PING)
			log_warnx("EVIL %s: the broker answered type %u",
			    evil_names[which], m.m_hdr.ch_type);
	}
	log_warnx("EVIL %s: still alive", evil_names[which]);
	exit(3);
}
