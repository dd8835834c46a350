/* SPDX-License-Identifier: ISC */
/*
 * Starting, watching and restarting the worker.  The worker is a separate
 * executable that the launcher (launcher/launcher.c) fork+execs with an empty
 * environment and only the channel (fd 3), the sign channel (fd 4) and
 * stdio, so it starts with a fresh address space and learns nothing it is
 * not sent.  Its stderr is a pipe the broker reads (wlog.c), never the
 * broker's own.  The broker asks the launcher for a worker, receives its
 * channels and log pipe, asks for its death and hears its wait status;
 * it never forks, execs or signals a worker itself.
 */
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
supervise_find_path(struct broker *b)
{
	char		 self[PATH_MAX], *dir;
	const char	*name;
	ssize_t		 n;
	struct stat	 st;

	name = b->b_conf->c_ntls > 0 ? CONF_WORKER_TLS : CONF_DEFAULT_WORKER;

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

/*
 * What the worker is told: who to become, and its limits.  main() fills
 * it for the launcher at start, before the TLS keys are loaded; their
 * number is the configuration's.
 */
void
supervise_fill_init(const struct broker *b, struct msg_init *mi)
{
	const struct config	*conf = b->b_conf;

	memset(mi, 0, sizeof(*mi));
	mi->mi_uid = (uint32_t)b->b_wuid;
	mi->mi_gid = (uint32_t)b->b_wgid;
	mi->mi_drop = (uint32_t)b->b_drop;
	mi->mi_debug = (uint32_t)b->b_debug;
	mi->mi_max_conns = BROKER_CONNS(b);
	mi->mi_tls = (uint32_t)conf->c_ntls;
	mi->mi_header_timeout_ms = conf->c_header_timeout_ms;
	mi->mi_body_timeout_ms = conf->c_body_timeout_ms;
	mi->mi_idle_timeout_ms = conf->c_idle_timeout_ms;
	if ((size_t)snprintf(mi->mi_chroot, sizeof(mi->mi_chroot), "%s",
	    conf->c_chroot) >= sizeof(mi->mi_chroot))
		fatalx("chroot path too long: %s", conf->c_chroot);
}

/* After a reload: new timeouts, without dropping a connection. */
void
supervise_limits(struct broker *b)
{
	struct msg_init	mi;

	if (b->b_wstate != WORKER_UP)
		return;
	supervise_fill_init(b, &mi);
	if (chan_send(&b->b_chan, MSG_LIMITS, 0, 0, &mi, sizeof(mi), -1) == -1)
		supervise_kill(b, "cannot send limits: %s", strerror(errno));
}

/*
 * Until the launcher has reaped it, a worker's channels stay open, unread:
 * a worker being killed must never see them close first and carry on.
 */
static void
supervise_linger(struct broker *b, int i, int fd)
{
	if (b->b_wlinger[i] != -1)
		close(b->b_wlinger[i]);
	b->b_wlinger[i] = -1;
	if (fd != -1 && b->b_wpid == 0)
		close(fd);
	else
		b->b_wlinger[i] = fd;
}

/* Ask the launcher for a worker; supervise_launcher hears the answer. */
void
supervise_start(struct broker *b)
{
	const struct config	*conf = b->b_conf;
	struct msg_launch	 ml;

	memset(&ml, 0, sizeof(ml));
	ml.ml_header_timeout_ms = conf->c_header_timeout_ms;
	ml.ml_body_timeout_ms = conf->c_body_timeout_ms;
	ml.ml_idle_timeout_ms = conf->c_idle_timeout_ms;
	if (chan_send(&b->b_launch, MSG_LAUNCH, 0, 0, &ml, sizeof(ml), -1) ==
	    -1)
		fatal("cannot reach the launcher");
	b->b_wpid = -1;
	b->b_wkilled = 0;
	b->b_kill_cause = -1;
	b->b_wstate = WORKER_STARTING;
	b->b_wstart_ms = broker_now_ms();
}

/* MSG_LAUNCH_ANS: the new worker's channel, or no worker. */
static void
supervise_launched(struct broker *b, struct chan_msg *m)
{
	struct msg_launched	la;

	if (chan_get(m, &la, sizeof(la)) == -1 || b->b_wpid != -1 ||
	    (la.mld_pid > 0) != (m->m_fd != -1))
		fatalx("launcher: unexpected MSG_LAUNCH_ANS");
	if (la.mld_pid <= 0) {
		/* The launcher said why. */
		tlskey_chan_close(b);
		b->b_wpid = 0;
		b->b_wstate = WORKER_DOWN;
		b->b_restart_at_ms = broker_now_ms() + BROKER_BACKOFF_MAX_MS;
		return;
	}
	b->b_wpid = la.mld_pid;
	if (b->b_wstate != WORKER_STARTING) {
		/* Given up on already: MSG_LAUNCH_KILL is on its way. */
		supervise_linger(b, 0, m->m_fd);
		return;
	}
	if (fcntl(m->m_fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	broker_chan_open(b, m->m_fd);
	b->b_wgen++;
	b->b_ping_sent_ms = 0;
	b->b_next_ping_ms = broker_now_ms() + b->b_ping_every_ms;
	log_info("worker started, pid %d", (int)la.mld_pid);
	tlskey_send_certs(b);
}

/*
 * Forget the worker: its connections died with it.  The launcher reaps
 * the process and reports how it ended (MSG_LAUNCH_EXIT).
 */
void
supervise_down(struct broker *b)
{
	uint64_t	now = broker_now_ms();

	chan_clear(&b->b_chan);
	supervise_linger(b, 0, b->b_chan.c_fd);
	b->b_chan.c_fd = -1;
	supervise_linger(b, 1, b->b_tls.ts_chan.c_fd);
	b->b_tls.ts_chan.c_fd = -1;
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
supervise_kill(struct broker *b, const char *fmt, ...)
{
	char	reason[256];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (b->b_kill_cause == -1)
		b->b_kill_cause = MET_C_VIOLATION;
	if (b->b_wpid != 0 && !b->b_wkilled) {
		if (b->b_wpid > 0)
			log_warnx("killing worker %d: %s", (int)b->b_wpid,
			    reason);
		else
			log_warnx("killing the worker being started: %s",
			    reason);
		if (chan_send(&b->b_launch, MSG_LAUNCH_KILL, 0, 0, NULL, 0,
		    -1) == -1)
			fatal("cannot reach the launcher");
		b->b_wkilled = 1;
	}
	if (b->b_wstate != WORKER_DOWN)
		supervise_down(b);
}

/* MSG_LAUNCH_EXIT: the launcher reaped the worker. */
static void
supervise_exited(struct broker *b, struct chan_msg *m)
{
	struct msg_launched	la;
	int			st, cause;

	if (chan_get(m, &la, sizeof(la)) == -1 || m->m_fd != -1 ||
	    la.mld_pid <= 0 || la.mld_pid != b->b_wpid)
		fatalx("launcher: unexpected MSG_LAUNCH_EXIT");
	st = la.mld_status;
	/* Why this worker ended, for the restart counter. */
	cause = b->b_kill_cause;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		cause = MET_C_SECCOMP;
	else if (cause == -1 || (cause == MET_C_EXIT && WIFSIGNALED(st)))
		cause = WIFSIGNALED(st) ? MET_C_SIGNAL : MET_C_EXIT;
	if (!b->b_stopping)
		stats_restart((enum met_cause)cause);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		log_warnx("worker %d killed by seccomp (SIGSYS)", la.mld_pid);
	else if (WIFSIGNALED(st))
		log_warnx("worker %d killed by signal %d (%s)", la.mld_pid,
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (WEXITSTATUS(st) != 0 || !b->b_stopping)
		log_warnx("worker %d exited with status %d", la.mld_pid,
		    WEXITSTATUS(st));
	b->b_wpid = 0;
	if (b->b_wstate != WORKER_DOWN)
		supervise_down(b);
	supervise_linger(b, 0, -1);
	supervise_linger(b, 1, -1);
}

/*
 * What the launcher sends.  It is trusted code: a message out of order is
 * a bug, and without it no worker can start, so the broker exits and its
 * service manager starts both again.
 */
void
supervise_launcher(struct broker *b)
{
	static struct chan_msg	m;
	int			i, r;

	for (i = 0; i < 8; i++) {
		if ((r = chan_recv(&b->b_launch, &m)) == 0)
			return;
		if (r == -1)
			fatalx("the launcher is gone");
		switch (m.m_hdr.ch_type) {
		case MSG_LAUNCH_SIGN:
			if (m.m_hdr.ch_len != 0 || m.m_fd == -1 ||
			    b->b_wpid != -1)
				fatalx("launcher: unexpected MSG_LAUNCH_SIGN");
			if (b->b_wstate == WORKER_STARTING)
				tlskey_chan_set(b, m.m_fd);
			else
				supervise_linger(b, 1, m.m_fd);
			break;
		case MSG_LAUNCH_LOG:
			if (m.m_hdr.ch_len != 0 || m.m_fd == -1 ||
			    b->b_wpid != -1)
				fatalx("launcher: unexpected MSG_LAUNCH_LOG");
			/* Even a worker given up on: its last words. */
			wlog_set(&b->b_wlog, m.m_fd);
			break;
		case MSG_LAUNCH_ANS:
			supervise_launched(b, &m);
			break;
		case MSG_LAUNCH_EXIT:
			supervise_exited(b, &m);
			break;
		default:
			fatalx("launcher: unexpected message %u",
			    m.m_hdr.ch_type);
		}
	}
}

void
supervise_ping(struct broker *b)
{
	uint64_t	now = broker_now_ms();

	if (b->b_wstate != WORKER_UP)
		return;
	if (b->b_ping_sent_ms != 0) {
		if (now - b->b_ping_sent_ms > BROKER_PONG_MS) {
			b->b_kill_cause = MET_C_HANG;
			supervise_kill(b, "no answer to ping in %d ms",
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
		supervise_kill(b, "cannot send ping: %s", strerror(errno));
}
