/*
 * Starting, watching and restarting the worker.  The worker is a separate
 * executable, fork+exec'd with an empty environment and only the channel
 * (fd 3), the sign channel (fd 4) and stdio, so it starts with a fresh
 * address space and learns nothing it is not sent.  Its stderr is a pipe
 * the broker reads (wlog.c), never the broker's own.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "privsep/log.h"
#include "stats.h"
#include "waiters.h"

/*
 * The configured path, else the worker beside this executable (a build
 * tree or a package), else the installed LIBEXECDIR one.  With a TLS
 * listener that is sealmd-worker-tls; without one, sealmd-worker, which
 * maps no TLS library at all.
 */
int
worker_find_path(struct broker *b)
{
	char		 self[PATH_MAX], *dir;
	const char	*name;
	ssize_t		 n;
	struct stat	 st;

	name = b->b_tls.ts_n > 0 ? CONF_WORKER_TLS : CONF_DEFAULT_WORKER;

	if (b->b_conf->c_worker_path[0] != '\0') {
		if ((size_t)snprintf(b->b_worker_path, sizeof(b->b_worker_path),
		    "%s", b->b_conf->c_worker_path) >= sizeof(b->b_worker_path))
			return -1;
		return access(b->b_worker_path, X_OK);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = dirname(self);
		if ((size_t)snprintf(b->b_worker_path, sizeof(b->b_worker_path),
		    "%s/%s", dir, name) <
		    sizeof(b->b_worker_path) &&
		    stat(b->b_worker_path, &st) == 0 && S_ISREG(st.st_mode))
			return access(b->b_worker_path, X_OK);
	}
	if ((size_t)snprintf(b->b_worker_path, sizeof(b->b_worker_path),
	    "%s/%s", LIBEXECDIR, name) >=
	    sizeof(b->b_worker_path))
		return -1;
	return access(b->b_worker_path, X_OK);
}

/* What the worker is told: who to become, and its limits. */
void
worker_fill_init(const struct broker *b, struct msg_init *mi)
{
	const struct config	*conf = b->b_conf;

	memset(mi, 0, sizeof(*mi));
	mi->mi_uid = (uint32_t)b->b_wuid;
	mi->mi_gid = (uint32_t)b->b_wgid;
	mi->mi_drop = (uint32_t)b->b_drop;
	mi->mi_debug = (uint32_t)b->b_debug;
	mi->mi_max_conns = BROKER_CONNS(b);
	mi->mi_tls = (uint32_t)b->b_tls.ts_n;
	mi->mi_header_timeout_ms = conf->c_header_timeout_ms;
	mi->mi_body_timeout_ms = conf->c_body_timeout_ms;
	mi->mi_idle_timeout_ms = conf->c_idle_timeout_ms;
	if ((size_t)snprintf(mi->mi_chroot, sizeof(mi->mi_chroot), "%s",
	    conf->c_chroot) >= sizeof(mi->mi_chroot))
		fatalx("chroot path too long: %s", conf->c_chroot);
}

/* After a reload: new timeouts, without dropping a connection. */
void
worker_limits(struct broker *b)
{
	struct msg_init	mi;

	if (b->b_wstate != WORKER_UP)
		return;
	worker_fill_init(b, &mi);
	if (chan_send(&b->b_chan, MSG_LIMITS, 0, 0, &mi, sizeof(mi), -1) == -1)
		worker_kill(b, "cannot send limits: %s", strerror(errno));
}

void
worker_start(struct broker *b)
{
	struct msg_init	 mi;
	char		*argv[] = { (char *)(uintptr_t)"sealmd-worker", NULL };
	char		*envp[] = { NULL };
	int		 sv[2], sfd, lfd;
	pid_t		 pid;

	if ((lfd = wlog_open(&b->b_wlog)) == -1) {
		b->b_restart_at_ms = broker_now_ms() + BROKER_BACKOFF_MAX_MS;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("socketpair");
		close(lfd);
		b->b_restart_at_ms = broker_now_ms() + BROKER_BACKOFF_MAX_MS;
		return;
	}
	if ((sfd = tlskey_chan_open(b)) == -1) {
		close(sv[0]);
		close(sv[1]);
		close(lfd);
		b->b_restart_at_ms = broker_now_ms() + BROKER_BACKOFF_MAX_MS;
		return;
	}
	switch (pid = fork()) {
	case -1:
		log_warn("fork");
		close(sv[0]);
		close(sv[1]);
		close(sfd);
		close(lfd);
		tlskey_chan_close(b);
		b->b_restart_at_ms = broker_now_ms() + BROKER_BACKOFF_MAX_MS;
		return;
	case 0:
		/* First: lfd may have any number above stderr's. */
		if (dup2(lfd, STDERR_FILENO) == -1)
			_exit(127);
		/* Terminal signals are for the broker, which drains the worker. */
		if (sfd <= CHAN_SIGN_FD &&
		    (sfd = fcntl(sfd, F_DUPFD, CHAN_SIGN_FD + 1)) == -1)
			_exit(127);
		if (setsid() == -1 || dup2(sv[1], CHAN_WORKER_FD) == -1 ||
		    dup2(sfd, CHAN_SIGN_FD) == -1)
			_exit(127);
		if (close_range(CHAN_SIGN_FD + 1, ~0U, 0) == -1)
			_exit(127);
		execve(b->b_worker_path, argv, envp);
		_exit(127);
	default:
		break;
	}
	close(sv[1]);
	close(sfd);
	close(lfd);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	chan_init(&b->b_chan, sv[0], 0);
	chan_batch(&b->b_chan);
	b->b_wpid = pid;
	b->b_wgen++;
	b->b_kill_cause = -1;
	b->b_wstate = WORKER_STARTING;
	b->b_wstart_ms = broker_now_ms();
	b->b_ping_sent_ms = 0;
	b->b_next_ping_ms = b->b_wstart_ms + b->b_ping_every_ms;

	worker_fill_init(b, &mi);
	if (chan_send(&b->b_chan, MSG_INIT, 0, 0, &mi, sizeof(mi), -1) == -1)
		worker_kill(b, "cannot send init: %s", strerror(errno));
	else {
		log_info("worker started, pid %d", (int)pid);
		tlskey_send_certs(b);
	}
}

/*
 * Forget the worker: its connections died with it.  The process itself is
 * reaped by worker_reap on SIGCHLD.
 */
void
worker_down(struct broker *b)
{
	uint64_t	now = broker_now_ms();

	chan_clear(&b->b_chan);
	if (b->b_chan.c_fd != -1)
		close(b->b_chan.c_fd);
	b->b_chan.c_fd = -1;
	tlskey_chan_close(b);
	waiters_clear();
	broker_conn_close_all(b);
	if (b->b_wstate == WORKER_STOPPING || b->b_stopping) {
		b->b_wstate = WORKER_DOWN;
		return;
	}
	if (now - b->b_wstart_ms > BROKER_STABLE_MS ||
	    b->b_backoff_ms == 0)
		b->b_backoff_ms = BROKER_BACKOFF_MIN_MS;
	else if ((b->b_backoff_ms *= 2) > BROKER_BACKOFF_MAX_MS)
		b->b_backoff_ms = BROKER_BACKOFF_MAX_MS;
	b->b_restart_at_ms = now + b->b_backoff_ms;
	b->b_restarts++;
	b->b_wstate = WORKER_DOWN;
}

/* A protocol violation or a hang: the worker is hostile or broken. */
void
worker_kill(struct broker *b, const char *fmt, ...)
{
	char	reason[256];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (b->b_kill_cause == -1)
		b->b_kill_cause = MET_C_VIOLATION;
	if (b->b_wpid > 0) {
		log_warnx("killing worker %d: %s", (int)b->b_wpid, reason);
		(void)kill(b->b_wpid, SIGKILL);
	}
	if (b->b_wstate != WORKER_DOWN)
		worker_down(b);
}

void
worker_reap(struct broker *b)
{
	pid_t	pid;
	int	st, cause;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != b->b_wpid)
			continue;
		/* Why this worker ended, for the restart counter. */
		cause = b->b_kill_cause;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
			cause = MET_C_SECCOMP;
		else if (cause == -1 || (cause == MET_C_EXIT &&
		    WIFSIGNALED(st)))
			cause = WIFSIGNALED(st) ? MET_C_SIGNAL : MET_C_EXIT;
		if (!b->b_stopping)
			stats_restart((enum met_cause)cause);
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
			log_warnx("worker %d killed by seccomp (SIGSYS)",
			    (int)pid);
		else if (WIFSIGNALED(st))
			log_warnx("worker %d killed by signal %d (%s)",
			    (int)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
		else if (WEXITSTATUS(st) != 0 || !b->b_stopping)
			log_warnx("worker %d exited with status %d", (int)pid,
			    WEXITSTATUS(st));
		b->b_wpid = 0;
		if (b->b_wstate != WORKER_DOWN)
			worker_down(b);
	}
}

void
worker_ping(struct broker *b)
{
	uint64_t	now = broker_now_ms();

	if (b->b_wstate != WORKER_UP)
		return;
	if (b->b_ping_sent_ms != 0) {
		if (now - b->b_ping_sent_ms > BROKER_PONG_MS) {
			b->b_kill_cause = MET_C_HANG;
			worker_kill(b, "no answer to ping in %d ms",
			    BROKER_PONG_MS);
		}
		return;
	}
	if (now < b->b_next_ping_ms)
		return;
	b->b_ping_id++;
	b->b_ping_sent_ms = now;
	b->b_ping_sent_us = broker_now_us();
	if (chan_send(&b->b_chan, MSG_PING, b->b_ping_id, 0, NULL, 0, -1) ==
	    -1)
		worker_kill(b, "cannot send ping: %s", strerror(errno));
}
