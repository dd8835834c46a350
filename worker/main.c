/* SPDX-License-Identifier: ISC */
/*
 * sealmd-worker: started by the broker with the channel on fd 3.  It reads
 * its limits, confines itself, says so, and serves connections the broker
 * hands it until told to stop.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "privsep/log.h"
#include "sandbox.h"
#include "worker.h"

#define WORKER_INIT_WAIT_MS	5000

static void
worker_read_init(struct worker *w)
{
	static struct chan_msg	 m;
	struct msg_init		*mi = &w->w_init;
	struct pollfd		 pfd;
	int			 r;

	pfd.fd = w->w_chan.c_fd;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, WORKER_INIT_WAIT_MS);
	} while (r == -1 && errno == EINTR);
	if (r != 1 || chan_recv(&w->w_chan, &m) != 1)
		fatalx("no init message from the broker");
	if (m.m_hdr.ch_type != MSG_INIT ||
	    chan_get(&m, mi, sizeof(*mi)) == -1 ||
	    !chan_str_ok(mi->mi_chroot, sizeof(mi->mi_chroot)) ||
	    mi->mi_max_conns == 0 || mi->mi_max_conns > 65536 ||
	    mi->mi_header_timeout_ms == 0 || mi->mi_body_timeout_ms == 0 ||
	    mi->mi_idle_timeout_ms == 0)
		fatalx("bad init message from the broker");
}

#ifdef SEALMD_SANITIZE
/*
 * make check-asan: LeakSanitizer stops the world with clone and ptrace at
 * exit, which no seccomp filter of ours allows.  Leaks in the daemons are
 * valgrind's job; ASan and UBSan stay on.
 */
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0:symbolize=0";
}
#endif

int
main(void)
{
	static struct worker	w;
#ifdef SEALMD_EVIL
	char			evil_arg[256];
	int			evil;
#endif

	log_init("sealmd-worker", 0);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	chan_init(&w.w_chan, CHAN_WORKER_FD, 1);
	chan_cork(&w.w_chan);		/* conn_loop flushes once per turn */
	chan_pack(&w.w_chan);		/* a turn's frames share datagrams */
	worker_read_init(&w);
	chan_unpack(&w.w_chan);	/* the broker packs a turn's answers */
	log_init("sealmd-worker", (int)w.w_init.mi_debug);

	/*
	 * Everything that reads a file does it now, while files can be
	 * opened: jansson's hash seed and libsodium read /dev/urandom, and
	 * glibc's time code reads /etc/localtime on first use.
	 */
	tzset();
	json_object_seed(0);
	if (sodium_init() < 0)
		fatalx("sodium_init");
	/* Without a TLS listener OpenSSL is never set up: 3 MiB less. */
	if (w.w_init.mi_tls > 0)
		wtls_init(w.w_init.mi_tls);
	w.w_max = w.w_init.mi_max_conns;
	if ((w.w_conns = calloc(w.w_max, sizeof(*w.w_conns))) == NULL)
		fatal("calloc");

	if ((w.w_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
#ifdef SEALMD_EVIL
	/* Test build only: choose an attack while files can be read. */
	evil = evil_confined_pick(evil_arg, sizeof(evil_arg));
#endif
	sandbox_worker(&w.w_init, w.w_ep);
	if (chan_send(&w.w_chan, MSG_INIT_DONE, 0, 0, NULL, 0, -1) == -1 ||
	    chan_flush(&w.w_chan) == -1)
		fatal("channel to broker");
#ifdef SEALMD_EVIL
	if (evil != -1)
		evil_confined_run(&w, evil, evil_arg);
#endif
	conn_loop(&w);
	return 0;
}
