/* SPDX-License-Identifier: ISC */
/*
 * The launcher (launcher/launcher.c), driven as a hostile broker would
 * drive it.  The launcher is really forked, confined and execs; its
 * "worker" is this test binary again, which a constructor turns into a
 * stand-in: it copies the first frame of its channel (the MSG_INIT the
 * launcher wrote) to its sign channel, where the test reads it, then
 * waits for the channel to close.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "launcher/launcher.h"
#include "privsep/chan.h"

#define WAIT_MS		10000	/* per message; the machine may be slow */

static struct chan	lc;		/* the broker's end */
static pid_t		lpid;		/* the launcher */

__attribute__((constructor)) static void
stand_in_worker(int argc, char **argv)
{
	static uint8_t	buf[sizeof(struct chan_hdr) + CHAN_MAX_PAYLOAD];
	ssize_t		n;

	if (argc < 1 || strcmp(argv[0], "sealmd-worker") != 0)
		return;
	if ((n = read(CHAN_WORKER_FD, buf, sizeof(buf))) > 0 &&
	    write(CHAN_SIGN_FD, buf, (size_t)n) != n)
		_exit(2);
	while (read(CHAN_WORKER_FD, buf, sizeof(buf)) > 0)
		continue;
	_exit(0);
}

/* The launcher, with an identity for the worker as main.c would give. */
static void
start(void)
{
	struct msg_init	mi;
	char		path[PATH_MAX];
	ssize_t		n;

	memset(&mi, 0, sizeof(mi));
	mi.mi_uid = 4242;
	mi.mi_gid = 4343;
	mi.mi_max_conns = 7;
	(void)snprintf(mi.mi_chroot, sizeof(mi.mi_chroot), "/from-launcher");
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	cr_assert_gt(n, 0);
	path[n] = '\0';
	lpid = launcher_start(&lc, &mi, path);
}

/* The next message from the launcher; 0 if it closed its end. */
static int
next(struct chan_msg *m)
{
	struct pollfd	pfd = { .fd = lc.c_fd, .events = POLLIN };
	int		r;

	for (;;) {
		if ((r = chan_recv(&lc, m)) == 1)
			return 1;
		if (r == -1)
			return 0;
		cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1, "launcher silent");
	}
}

static void
send_msg(uint32_t type, const void *p, size_t len, int fd)
{
	cr_assert_eq(chan_send(&lc, type, 0, 0, p, len, fd), 0);
	cr_assert(!chan_pending(&lc));
}

/* MSG_LAUNCH, and its three answers; returns the pid. */
static pid_t
launch(int *chanfd, int *signfd)
{
	static struct chan_msg	m;
	struct msg_launch	ml = { 1000, 2000, 3000 };
	struct msg_launched	la;

	send_msg(MSG_LAUNCH, &ml, sizeof(ml), -1);
	cr_assert(next(&m));
	cr_assert_eq(m.m_hdr.ch_type, MSG_LAUNCH_LOG);
	cr_assert_neq(m.m_fd, -1);
	close(m.m_fd);
	cr_assert(next(&m));
	cr_assert_eq(m.m_hdr.ch_type, MSG_LAUNCH_SIGN);
	cr_assert_neq(m.m_fd, -1);
	*signfd = m.m_fd;
	cr_assert(next(&m));
	cr_assert_eq(m.m_hdr.ch_type, MSG_LAUNCH_ANS);
	cr_assert_eq(chan_get(&m, &la, sizeof(la)), 0);
	cr_assert_gt(la.mld_pid, 0);
	cr_assert_neq(m.m_fd, -1);
	*chanfd = m.m_fd;
	return la.mld_pid;
}

/* The launcher ended with status want, and took its worker along. */
static void
launcher_ended(int want, pid_t worker)
{
	static struct chan_msg	m;
	int			st;

	while (next(&m))
		cr_assert_eq(m.m_hdr.ch_type, MSG_LAUNCH_EXIT);
	cr_assert_eq(waitpid(lpid, &st, 0), lpid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == want,
	    "launcher status 0x%x, want exit %d", st, want);
	if (worker > 0)
		cr_assert(kill(worker, 0) == -1 && errno == ESRCH,
		    "worker %d outlived its launcher", (int)worker);
}

Test(launcher, the_worker_gets_the_launchers_init)
{
	static struct chan_msg	m;
	struct msg_launched	la;
	struct msg_init		mi;
	struct chan		sc;
	struct pollfd		pfd;
	int			cfd, sfd;
	pid_t			pid;

	start();
	pid = launch(&cfd, &sfd);
	chan_init(&sc, sfd, 0);
	pfd.fd = sfd;
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1, "the worker sent nothing");
	cr_assert_eq(chan_recv(&sc, &m), 1);
	cr_assert_eq(m.m_hdr.ch_type, MSG_INIT);
	cr_assert_eq(chan_get(&m, &mi, sizeof(mi)), 0);
	cr_assert_eq(mi.mi_uid, 4242);
	cr_assert_eq(mi.mi_gid, 4343);
	cr_assert_eq(mi.mi_max_conns, 7);
	cr_assert_str_eq(mi.mi_chroot, "/from-launcher");
	cr_assert_eq(mi.mi_header_timeout_ms, 1000);
	cr_assert_eq(mi.mi_body_timeout_ms, 2000);
	cr_assert_eq(mi.mi_idle_timeout_ms, 3000);

	/* Killed on request, reaped, and its wait status reported. */
	send_msg(MSG_LAUNCH_KILL, NULL, 0, -1);
	cr_assert(next(&m));
	cr_assert_eq(m.m_hdr.ch_type, MSG_LAUNCH_EXIT);
	cr_assert_eq(chan_get(&m, &la, sizeof(la)), 0);
	cr_assert_eq(la.mld_pid, pid);
	cr_assert(WIFSIGNALED(la.mld_status) &&
	    WTERMSIG(la.mld_status) == SIGKILL, "status 0x%x", la.mld_status);
	close(cfd);
	close(sfd);
	launcher_stop(&lc, lpid);
}

Test(launcher, a_worker_that_exits_is_reported_and_replaced)
{
	static struct chan_msg	m;
	struct msg_launched	la;
	int			cfd, sfd, i;
	pid_t			pid;

	start();
	for (i = 0; i < 2; i++) {
		pid = launch(&cfd, &sfd);
		close(cfd);		/* the stand-in exits 0 on EOF */
		cr_assert(next(&m));
		cr_assert_eq(m.m_hdr.ch_type, MSG_LAUNCH_EXIT);
		cr_assert_eq(chan_get(&m, &la, sizeof(la)), 0);
		cr_assert_eq(la.mld_pid, pid);
		cr_assert(WIFEXITED(la.mld_status) &&
		    WEXITSTATUS(la.mld_status) == 0, "0x%x", la.mld_status);
		close(sfd);
	}
	launcher_stop(&lc, lpid);
}

Test(launcher, one_worker_at_a_time)
{
	struct msg_launch	ml = { 1, 2, 3 };
	int			cfd, sfd;
	pid_t			pid;

	start();
	pid = launch(&cfd, &sfd);
	send_msg(MSG_LAUNCH, &ml, sizeof(ml), -1);
	launcher_ended(1, pid);
}

Test(launcher, an_unknown_message_ends_it)
{
	int	cfd, sfd;
	pid_t	pid;

	start();
	pid = launch(&cfd, &sfd);
	send_msg(MSG_PING, NULL, 0, -1);
	launcher_ended(1, pid);
}

Test(launcher, a_wrong_size_ends_it)
{
	uint8_t	junk[sizeof(struct msg_launch) + 1] = { 0 };

	start();
	send_msg(MSG_LAUNCH, junk, sizeof(junk), -1);
	launcher_ended(1, 0);
}

Test(launcher, a_passed_fd_ends_it)
{
	int	cfd, sfd;
	pid_t	pid;

	start();
	pid = launch(&cfd, &sfd);
	send_msg(MSG_LAUNCH_KILL, NULL, 0, open("/dev/null", O_RDONLY));
	launcher_ended(1, pid);
}

Test(launcher, the_brokers_end_closing_ends_both)
{
	int	cfd, sfd;
	pid_t	pid;

	start();
	pid = launch(&cfd, &sfd);
	close(lc.c_fd);
	cr_assert_eq(waitpid(lpid, NULL, 0), lpid);
	cr_assert(kill(pid, 0) == -1 && errno == ESRCH,
	    "worker %d outlived its launcher", (int)pid);
}

/* What main() and the broker's loop ignore, the launcher ignores too. */
Test(launcher, terminal_signals_are_the_brokers)
{
	static struct chan_msg	m;
	int			cfd, sfd;

	start();
	(void)launch(&cfd, &sfd);
	cr_assert_eq(kill(lpid, SIGTERM), 0);
	cr_assert_eq(kill(lpid, SIGINT), 0);
	cr_assert_eq(kill(lpid, SIGHUP), 0);
	send_msg(MSG_LAUNCH_KILL, NULL, 0, -1);
	cr_assert(next(&m));
	cr_assert_eq(m.m_hdr.ch_type, MSG_LAUNCH_EXIT);
	launcher_stop(&lc, lpid);
}
