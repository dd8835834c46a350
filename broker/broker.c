/*
 * The broker's event loop: signals through a self-pipe, the worker channel,
 * and the listeners, polled only while a worker is up to take connections.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "policy/sandbox.h"
#include "privsep/log.h"

#define BROKER_TICK_MS		100
#define BROKER_INIT_MS		5000	/* exec to MSG_INIT_DONE */
#define BROKER_BATCH		64	/* messages or accepts per wakeup */

static int	broker_sigfd[2] = { -1, -1 };

static void	broker_sig(int);
static void	broker_signals(void);
static void	broker_stop(struct broker *);
static void	broker_read_chan(struct broker *);

uint64_t
broker_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct bconn *
broker_conn_get(struct broker *b, uint32_t id)
{
	uint32_t	slot = id & 0xffff;

	if (id == 0 || slot >= b->b_conf->c_max_conns ||
	    b->b_conns[slot].bc_id != id)
		return NULL;
	return &b->b_conns[slot];
}

void
broker_conn_free(struct broker *b, uint32_t id)
{
	struct bconn	*bc;

	if ((bc = broker_conn_get(b, id)) == NULL)
		return;
	memset(bc, 0, sizeof(*bc));
	b->b_nconns--;
}

static void
broker_sig(int sig)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)sig;

	/* A full pipe already holds a wakeup. */
	if (write(broker_sigfd[1], &c, 1) == -1)
		errno = saved;
	errno = saved;
}

static void
broker_signals(void)
{
	struct sigaction	sa;
	int			i, fl;
	static const int	sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP };

	if (pipe2(broker_sigfd, O_CLOEXEC) == -1)
		fatal("pipe2");
	for (i = 0; i < 2; i++) {
		fl = fcntl(broker_sigfd[i], F_GETFL);
		if (fl == -1 ||
		    fcntl(broker_sigfd[i], F_SETFL, fl | O_NONBLOCK) == -1)
			fatal("fcntl");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = broker_sig;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
}

/* SIGTERM: stop accepting, let the worker finish what is in flight. */
static void
broker_stop(struct broker *b)
{
	size_t	i;

	if (b->b_stopping)
		return;
	log_info("stopping: no new connections, draining for at most %d ms",
	    BROKER_DRAIN_MS);
	b->b_stopping = 1;
	b->b_stop_deadline_ms = broker_now_ms() + BROKER_DRAIN_MS;
	for (i = 0; i < b->b_nlisten; i++) {
		close(b->b_listen[i].l_fd);
		b->b_listen[i].l_fd = -1;
		if (b->b_listen[i].l_role == ROLE_OWNER)
			(void)unlink(b->b_conf->c_owner_socket);
	}
	if (b->b_wstate == WORKER_UP &&
	    chan_send(&b->b_chan, MSG_SHUTDOWN, 0, 0, NULL, 0, -1) == 0)
		b->b_wstate = WORKER_STOPPING;
	else
		worker_kill(b, "stopping");
}

static void
broker_read_chan(struct broker *b)
{
	static struct chan_msg	m;
	int			i, r;

	for (i = 0; i < BROKER_BATCH && b->b_chan.c_fd != -1; i++) {
		r = chan_recv(&b->b_chan, &m);
		if (r == 0)
			break;
		if (r == -1) {
			if (errno == EBADMSG)
				worker_kill(b, "malformed frame");
			else if (b->b_wstate == WORKER_STOPPING)
				worker_down(b);	/* it finished, as asked */
			else
				worker_kill(b, "channel closed");
			break;
		}
		ops_dispatch(b, &m);
	}
}

void
broker_run(struct broker *b)
{
	struct pollfd	 pfd[2 + BROKER_LISTENERS_MAX];
	struct listener	*lmap[BROKER_LISTENERS_MAX];
	size_t		 i, n, nl;
	unsigned char	 sig;
	uint64_t	 now;
	int		 j;

	broker_signals();
	b->b_chan.c_fd = -1;
	worker_start(b);
	sandbox_broker(b->b_worker_path, b->b_root);
	for (;;) {
		now = broker_now_ms();
		if (b->b_stopping && b->b_wstate == WORKER_DOWN)
			break;
		if (b->b_stopping && now > b->b_stop_deadline_ms)
			worker_kill(b, "drain time over");
		/* Before a restart: a worker started now has no age yet. */
		if (b->b_wstate == WORKER_STARTING &&
		    now - b->b_wstart_ms > BROKER_INIT_MS)
			worker_kill(b, "not ready after %d ms", BROKER_INIT_MS);
		if (b->b_wstate == WORKER_DOWN && !b->b_stopping &&
		    now >= b->b_restart_at_ms && b->b_wpid == 0)
			worker_start(b);
		worker_ping(b);

		n = 0;
		pfd[n].fd = broker_sigfd[0];
		pfd[n++].events = POLLIN;
		if (b->b_chan.c_fd != -1) {
			pfd[n].fd = b->b_chan.c_fd;
			pfd[n++].events = POLLIN |
			    (chan_pending(&b->b_chan) ? POLLOUT : 0);
		}
		nl = 0;
		if (b->b_wstate == WORKER_UP && !b->b_stopping) {
			for (i = 0; i < b->b_nlisten; i++) {
				lmap[nl++] = &b->b_listen[i];
				pfd[n].fd = b->b_listen[i].l_fd;
				pfd[n++].events = POLLIN;
			}
		}
		if (poll(pfd, n, BROKER_TICK_MS) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}

		if (pfd[0].revents & POLLIN) {
			while (read(broker_sigfd[0], &sig, 1) == 1) {
				if (sig == SIGCHLD)
					worker_reap(b);
				else if (sig == SIGHUP)
					log_info("SIGHUP ignored: reload is "
					    "not implemented");
				else
					broker_stop(b);
			}
		}
		if (n > 1 + nl && b->b_chan.c_fd == pfd[1].fd) {
			if ((pfd[1].revents & POLLOUT) &&
			    chan_flush(&b->b_chan) == -1)
				worker_kill(b, "channel write: %s",
				    strerror(errno));
			if (b->b_chan.c_fd != -1 &&
			    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
				broker_read_chan(b);
		}
		for (i = 0; i < nl; i++) {
			if (!(pfd[n - nl + i].revents & POLLIN))
				continue;
			for (j = 0; j < BROKER_BATCH &&
			    b->b_wstate == WORKER_UP; j++)
				if (listen_accept(b, lmap[i]) == 0)
					break;
		}
	}
	worker_reap(b);
}
