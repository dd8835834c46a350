/* SPDX-License-Identifier: ISC */
/*
 * The launcher: the one process that can start a worker.  main() forks it
 * before any key, secret or store is opened.  It keeps the capabilities a
 * worker needs to confine itself and exec of the one worker path; the
 * broker, which then loads the keys, drops every capability and cannot
 * exec at all.  OpenSSH's sshd, which execs sshd-session, is the model.
 *
 * On a SOCK_SEQPACKET pair (privsep/msg.h) the broker sends MSG_LAUNCH.
 * The launcher makes the worker's channel, sign channel and log pipe,
 * puts the worker's MSG_INIT first on the channel (whom the worker drops
 * to and where it chroots are the launcher's, fixed at start, never the
 * broker's word), forks, execs the worker path found at start, and
 * answers MSG_LAUNCH_LOG, MSG_LAUNCH_SIGN, then MSG_LAUNCH_ANS with the
 * broker's ends.  MSG_LAUNCH_KILL kills the worker; MSG_LAUNCH_EXIT
 * reports its wait status once reaped (SIGCHLD, through a self-pipe).
 * One worker at a time.  When the broker's end closes, the launcher
 * kills its worker and exits.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "privsep/chan.h"
#include "privsep/log.h"

#define LAUNCHER_FD	3	/* the broker's socket, in the launcher */

struct launcher {
	struct chan	 l_chan;	/* to the broker */
	struct msg_init	 l_init;	/* the worker's, less the timeouts */
	char		 l_path[PATH_MAX];
	pid_t		 l_pid;		/* the worker; 0: none */
};

static int	launcher_sigfd[2] = { -1, -1 };	/* SIGCHLD self-pipe */

static void	launcher_main(const struct msg_init *, const char *, int)
		    __attribute__((noreturn));
static void	launcher_exit(struct launcher *, int)
		    __attribute__((noreturn));
static void	launcher_exec(const char *, int, int, int)
		    __attribute__((noreturn));
static void	launcher_spawn(struct launcher *, const struct msg_launch *);
static void	launcher_reap(struct launcher *);
static void	launcher_sigchld(int);
static void	launcher_read(struct launcher *);

/*
 * Fork the launcher with what it keeps for its life: the worker's
 * MSG_INIT (whom it drops to, where it chroots, whether it may) and the
 * worker's path.  The caller keeps its end of the socket, lc.
 */
pid_t
launcher_start(struct chan *lc, const struct msg_init *init, const char *path)
{
	int	sv[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	log_flush();
	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		close(sv[0]);
		launcher_main(init, path, sv[1]);
	default:
		break;
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	chan_init(lc, sv[0], 1);
	log_info("launcher started, pid %d", (int)pid);
	return pid;
}

/* The broker is done: close the socket, and the launcher follows. */
void
launcher_stop(struct chan *lc, pid_t pid)
{
	chan_clear(lc);
	if (lc->c_fd != -1)
		close(lc->c_fd);
	lc->c_fd = -1;
	if (pid > 0 && waitpid(pid, NULL, 0) == -1)
		log_warn("waitpid launcher");
}

static void
launcher_main(const struct msg_init *init, const char *path, int fd)
{
	static struct launcher	 l;
	struct pollfd		 pfd[2];
	struct sigaction	 sa;
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	unsigned char		 c;
	size_t			 i;

	log_init("sealmd-launcher", (int)init->mi_debug);
	/* Stopping and reloading are the broker's; its socket ends us. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (signal(sigs[i], SIG_IGN) == SIG_ERR)
			fatal("signal");
	/* Only stdio and the socket: systemd's listeners are the broker's. */
	if (fd != LAUNCHER_FD && dup3(fd, LAUNCHER_FD, O_CLOEXEC) == -1)
		fatal("dup3");
	if (close_range(LAUNCHER_FD + 1, ~0U, 0) == -1)
		fatal("close_range");
	chan_init(&l.l_chan, LAUNCHER_FD, 0);
	if (pipe2(launcher_sigfd, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = launcher_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		fatal("sigaction");
	l.l_init = *init;
	if ((size_t)snprintf(l.l_path, sizeof(l.l_path), "%s", path) >=
	    sizeof(l.l_path))
		fatalx("worker path too long");
	sandbox_launcher((int)init->mi_drop);

	for (;;) {
		pfd[0].fd = l.l_chan.c_fd;
		pfd[0].events = POLLIN |
		    (chan_pending(&l.l_chan) ? POLLOUT : 0);
		pfd[1].fd = launcher_sigfd[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents & POLLIN) {
			while (read(launcher_sigfd[0], &c, 1) == 1)
				continue;
			launcher_reap(&l);
		}
		if ((pfd[0].revents & POLLOUT) && chan_flush(&l.l_chan) == -1)
			launcher_exit(&l, 0);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			launcher_read(&l);
	}
}

static void
launcher_sigchld(int sig)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)sig;

	/* A full pipe already holds a wakeup. */
	if (write(launcher_sigfd[1], &c, 1) == -1)
		errno = saved;
	errno = saved;
}

/* The worker dies with the launcher: nothing else could stop it. */
static void
launcher_exit(struct launcher *l, int code)
{
	if (l->l_pid > 0) {
		(void)kill(l->l_pid, SIGKILL);
		(void)waitpid(l->l_pid, NULL, 0);
	}
	log_flush();
	_exit(code);
}

/*
 * The broker is trusted no further than this: it may ask for one worker
 * at a time and for its death, in messages of exact size.  Anything
 * else ends the launcher, and the broker with it.
 */
static void
launcher_read(struct launcher *l)
{
	static struct chan_msg	m;
	struct msg_launch	ml;
	int			r;

	for (;;) {
		if ((r = chan_recv(&l->l_chan, &m)) == 0)
			return;
		if (r == -1) {
			if (errno != EPIPE)
				log_warnx("bad frame from the broker");
			launcher_exit(l, errno == EPIPE ? 0 : 1);
		}
		switch (m.m_hdr.ch_type) {
		case MSG_LAUNCH:
			if (chan_get(&m, &ml, sizeof(ml)) == -1 ||
			    l->l_pid != 0) {
				log_warnx("bad or second MSG_LAUNCH");
				launcher_exit(l, 1);
			}
			launcher_spawn(l, &ml);
			break;
		case MSG_LAUNCH_KILL:
			if (m.m_hdr.ch_len != 0) {
				log_warnx("bad MSG_LAUNCH_KILL");
				launcher_exit(l, 1);
			}
			/* Not reaped yet, so the pid is still ours. */
			if (l->l_pid > 0)
				(void)kill(l->l_pid, SIGKILL);
			break;
		default:
			log_warnx("unexpected message %u from the broker",
			    m.m_hdr.ch_type);
			launcher_exit(l, 1);
		}
	}
}

static void
launcher_spawn(struct launcher *l, const struct msg_launch *ml)
{
	struct msg_init		mi = l->l_init;
	struct msg_launched	la;
	struct chan		wc;
	int			cv[2] = { -1, -1 }, sv[2] = { -1, -1 };
	int			lp[2] = { -1, -1 };
	pid_t			pid;

	memset(&la, 0, sizeof(la));
	mi.mi_header_timeout_ms = ml->ml_header_timeout_ms;
	mi.mi_body_timeout_ms = ml->ml_body_timeout_ms;
	mi.mi_idle_timeout_ms = ml->ml_idle_timeout_ms;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cv) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(lp, O_CLOEXEC) == -1) {
		log_warn("cannot make the worker's channels");
		goto fail;
	}
	/* First on the channel, before the broker holds an end of it. */
	chan_init(&wc, cv[0], 0);
	if (chan_send(&wc, MSG_INIT, 0, 0, &mi, sizeof(mi), -1) == -1 ||
	    chan_pending(&wc)) {
		chan_clear(&wc);
		log_warn("cannot send the worker's init");
		goto fail;
	}
	switch (pid = fork()) {
	case -1:
		log_warn("fork");
		goto fail;
	case 0:
		launcher_exec(l->l_path, cv[1], sv[1], lp[1]);
	default:
		break;
	}
	close(cv[1]);
	close(sv[1]);
	close(lp[1]);
	l->l_pid = pid;
	la.mld_pid = (int32_t)pid;
	if (chan_send(&l->l_chan, MSG_LAUNCH_LOG, 0, 0, NULL, 0, lp[0]) ==
	    -1 || chan_send(&l->l_chan, MSG_LAUNCH_SIGN, 0, 0, NULL, 0,
	    sv[0]) == -1 || chan_send(&l->l_chan, MSG_LAUNCH_ANS, 0, 0, &la,
	    sizeof(la), cv[0]) == -1)
		launcher_exit(l, 1);
	return;
 fail:
	for (pid = 0; pid < 2; pid++) {
		if (cv[pid] != -1)
			close(cv[pid]);
		if (sv[pid] != -1)
			close(sv[pid]);
		if (lp[pid] != -1)
			close(lp[pid]);
	}
	if (chan_send(&l->l_chan, MSG_LAUNCH_ANS, 0, 0, &la, sizeof(la), -1) ==
	    -1)
		launcher_exit(l, 1);
}

/*
 * In the child: the channel on fd 3, the sign channel on fd 4, the log
 * pipe as stderr, an empty environment, the default signal actions.
 */
static void
launcher_exec(const char *path, int cfd, int sfd, int lfd)
{
	char	*argv[] = { (char *)(uintptr_t)"sealmd-worker", NULL };
	char	*envp[] = { NULL };

	if (signal(SIGTERM, SIG_DFL) == SIG_ERR ||
	    signal(SIGINT, SIG_DFL) == SIG_ERR ||
	    signal(SIGHUP, SIG_DFL) == SIG_ERR)
		_exit(127);
	/* First: lfd may have any number above stderr's. */
	if (dup2(lfd, STDERR_FILENO) == -1)
		_exit(127);
	/* Both above the fds they go to, so that neither overwrites one. */
	if ((cfd = fcntl(cfd, F_DUPFD, CHAN_SIGN_FD + 1)) == -1 ||
	    (sfd = fcntl(sfd, F_DUPFD, CHAN_SIGN_FD + 1)) == -1)
		_exit(127);
	/* Terminal signals are for the broker, which drains the worker. */
	if (setsid() == -1 || dup2(cfd, CHAN_WORKER_FD) == -1 ||
	    dup2(sfd, CHAN_SIGN_FD) == -1)
		_exit(127);
	if (close_range(CHAN_SIGN_FD + 1, ~0U, 0) == -1)
		_exit(127);
	execve(path, argv, envp);
	_exit(127);
}

static void
launcher_reap(struct launcher *l)
{
	struct msg_launched	la;
	int			st;
	pid_t			pid;

	if (l->l_pid == 0 || (pid = waitpid(l->l_pid, &st, WNOHANG)) <= 0)
		return;
	l->l_pid = 0;
	memset(&la, 0, sizeof(la));
	la.mld_pid = (int32_t)pid;
	la.mld_status = st;
	if (chan_send(&l->l_chan, MSG_LAUNCH_EXIT, 0, 0, &la, sizeof(la),
	    -1) == -1)
		launcher_exit(l, 1);
}
