/* SPDX-License-Identifier: ISC */
/*
 * The broker's event loop: signals through a self-pipe, the worker channel,
 * and the listeners, polled only while a worker is up to take connections.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "broker.h"
#include "owner_auth.h"
#include "sandbox.h"
#include "privsep/log.h"
#include "sd.h"
#include "reader.h"
#include "rotate.h"
#include "stats.h"
#include "tokens.h"
#include "waiters.h"
#include "hasher.h"
#include "writer.h"

#define BROKER_TICK_MS		100
#define BROKER_INIT_MS		5000	/* exec to MSG_INIT_DONE */
#define BROKER_BATCH		64	/* messages or accepts per wakeup */

static int	broker_sigfd[2] = { -1, -1 };

static void	broker_sig(int);
static void	broker_signals(void);
static void	broker_stop(struct broker *);
static void	broker_read_one(struct broker *, struct chan_msg *);
static void	broker_later_add(struct broker *, const struct chan_msg *);
static void	broker_later_clear(struct broker *);
static void	broker_later_drop(struct broker *, uint32_t);
static void	broker_reload(struct broker *);

uint64_t
broker_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The wall clock, for what another node reads: a token's expiry. */
uint64_t
broker_wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The session-token keys of conf, derived into *ring for tokens_commit;
 * the files' bytes are wiped at once.
 */
int
broker_token_keys(const struct config *conf, struct tokens_ring **ring,
    char *err, size_t errlen)
{
	struct secret	tk[2];
	int		have[2], r, i;

	*ring = NULL;
	if (keys_load_tokens(conf, tk, have, err, errlen) == -1)
		return -1;
	r = tokens_keys(have[0] ? secret_open(&tk[0]) : NULL, tk[0].s_len,
	    have[1] ? secret_open(&tk[1]) : NULL, tk[1].s_len, ring, err,
	    errlen);
	for (i = 0; i < 2; i++)
		if (have[i])
			secret_free(&tk[i]);
	return r;
}

/* Where a listener gives session tokens, say which key verifies them. */
void
broker_tokens_log(const struct broker *b)
{
	char	what[TOKENS_DESCR_MAX];
	size_t	i;

	for (i = 0; i < b->b_nlisten; i++)
		if (b->b_listen[i].l_role == ROLE_GUEST &&
		    b->b_listen[i].l_guard.cg_tokens != GUARD_TOKENS_OFF)
			break;
	if (i == b->b_nlisten)
		return;
	tokens_describe(what, sizeof(what));
	log_info("session tokens: %s", what);
}

uint64_t
broker_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct bconn *
broker_conn_get(struct broker *b, uint32_t id)
{
	uint32_t	slot = BROKER_SLOT(id);

	if (id == 0 || slot >= BROKER_CONNS(b) ||
	    b->b_conns[slot].bc_id != id)
		return NULL;
	return &b->b_conns[slot];
}

/*
 * Its waiters and its waiting messages go with it: nobody is left to
 * answer.
 */
void
broker_conn_free(struct broker *b, uint32_t id)
{
	struct bconn	*bc;

	if ((bc = broker_conn_get(b, id)) == NULL)
		return;
	waiters_drop_conn(id);
	if (bc->bc_later > 0)
		broker_later_drop(b, id);
	broker_batch_free(b, bc);
	if (bc->bc_fd != -1)
		close(bc->bc_fd);
	b->b_nconns[bc->bc_role]--;
	memset(bc, 0, sizeof(*bc));
}

/* A batch that will not be committed: its entries go. */
void
broker_batch_free(struct broker *b, struct bconn *bc)
{
	if (bc->bc_batch == NULL)
		return;
	if (bc->bc_batch->ob_inst != NULL) {
		free(bc->bc_batch->ob_inst);
		b->b_nbatch--;
	}
	free(bc->bc_batch);
	bc->bc_batch = NULL;
}

/*
 * The broker's own end of a connection's worth: the socket is shut down
 * under the worker, the caller sees it close, and the id is forgotten.
 * from_op: an operation found it over its limit, and was that one
 * operation the worker may send before it sees the close.
 */
static void
broker_conn_expire(struct broker *b, struct bconn *bc, int from_op,
    const char *why)
{
	struct bgone	*g = &b->b_gone[BROKER_SLOT(bc->bc_id)];

	log_warnx("%s: connection %u (%s): %s; closed by the broker",
	    b->b_listen[bc->bc_listener].l_name, bc->bc_id, bc->bc_peer, why);
	if (bc->bc_fd != -1 && shutdown(bc->bc_fd, SHUT_RDWR) == -1 &&
	    errno != ENOTCONN)
		log_warn("shutdown");
	g->bg_id = bc->bc_id;
	g->bg_ops = from_op;
	g->bg_batch = 0;
	g->bg_until_ms = broker_now_ms() + BROKER_GONE_MS;
	broker_conn_free(b, bc->bc_id);
}

/* Past its lifetime, or idle (nothing in flight or waiting) too long. */
static const char *
broker_conn_over(const struct broker *b, const struct bconn *bc,
    uint64_t now)
{
	const struct conf_conn	*cc = &b->b_conf->c_conn[bc->bc_role];

	/* now may be older than an answer sent since: not idle then. */
	if (now > bc->bc_born_ms && now - bc->bc_born_ms >= cc->cc_life_ms)
		return "lifetime over";
	if (bc->bc_inflight == 0 && bc->bc_later == 0 &&
	    now > bc->bc_last_ms &&
	    now - bc->bc_last_ms >= cc->cc_idle_ms)
		return "idle too long";
	return NULL;
}

/*
 * An operation on bc: counted, and refused (-1) when the connection is
 * past any of its limits, which closes it.
 */
int
broker_conn_op(struct broker *b, struct bconn *bc)
{
	const char	*why;

	if ((why = broker_conn_over(b, bc, broker_now_ms())) == NULL &&
	    bc->bc_nreq >= b->b_conf->c_conn[bc->bc_role].cc_requests)
		why = "request limit reached";
	if (why != NULL) {
		broker_conn_expire(b, bc, 1, why);
		return -1;
	}
	bc->bc_nreq++;
	bc->bc_inflight++;
	return 0;
}

/*
 * A message on an id the broker does not know.  1: the connection was
 * closed by the broker just now, and this is what a worker that had not
 * seen it yet may send: its report that it is done, reports of answers
 * it wrote meanwhile (not counted), or one operation (dropped).  Anything
 * more is a violation.
 */
int
broker_conn_gone(struct broker *b, uint32_t id, uint32_t type)
{
	struct bgone	*g;

	if (id == 0 || BROKER_SLOT(id) >= BROKER_CONNS(b))
		return 0;
	g = &b->b_gone[BROKER_SLOT(id)];
	if (g->bg_id != id || broker_now_ms() >= g->bg_until_ms)
		return 0;
	if (type == MSG_CONN_DONE) {
		g->bg_id = 0;
		return 1;
	}
	if (type == MSG_HTTP_SENT)
		return 1;
	/* The rest of a batch begun before: its entries and its end. */
	if (type == MSG_OWNER_BATCH_ENTRY || type == MSG_OWNER_BATCH_END)
		return g->bg_batch++ <= BATCH_MAX;
	return g->bg_ops++ == 0;
}

/* An answer went to the worker: the connection's idle time starts now. */
void
broker_conn_answered(struct broker *b, uint32_t id)
{
	struct bconn	*bc;

	if ((bc = broker_conn_get(b, id)) == NULL)
		return;
	if (bc->bc_inflight > 0)
		bc->bc_inflight--;
	bc->bc_last_ms = broker_now_ms();
}

/*
 * How long an owner may wait for a value on bc: no longer than its
 * lifetime leaves, less the time its answer needs to go out.
 */
uint32_t
broker_conn_wait(struct broker *b, const struct bconn *bc, uint32_t wait)
{
	uint64_t	end, now = broker_now_ms();

	end = bc->bc_born_ms + b->b_conf->c_conn[bc->bc_role].cc_life_ms;
	if (now + BROKER_LIFE_MARGIN_MS >= end)
		return 0;
	if ((uint64_t)wait * 1000 > end - BROKER_LIFE_MARGIN_MS - now)
		wait = (uint32_t)((end - BROKER_LIFE_MARGIN_MS - now) / 1000);
	return wait;
}

/* Every connection, at a fixed pace: one pass over the slots. */
static void
broker_conn_sweep(struct broker *b, uint64_t now)
{
	const char	*why;
	uint32_t	 i;

	if (now < b->b_next_conn_sweep_ms)
		return;
	b->b_next_conn_sweep_ms = now + BROKER_CONN_SWEEP_MS;
	for (i = 0; i < BROKER_CONNS(b); i++)
		if (b->b_conns[i].bc_id != 0 &&
		    (why = broker_conn_over(b, &b->b_conns[i], now)) != NULL)
			broker_conn_expire(b, &b->b_conns[i], 0, why);
}

/*
 * The worker is gone, and its connections with it: shut them, so that no
 * caller waits on a socket only the broker still holds.
 */
void
broker_conn_close_all(struct broker *b)
{
	uint32_t	i;

	for (i = 0; i < BROKER_CONNS(b); i++) {
		if (b->b_conns[i].bc_id == 0)
			continue;
		if (b->b_conns[i].bc_fd != -1)
			(void)shutdown(b->b_conns[i].bc_fd, SHUT_RDWR);
		broker_conn_free(b, b->b_conns[i].bc_id);
	}
	memset(b->b_gone, 0, BROKER_CONNS(b) * sizeof(*b->b_gone));
	broker_later_clear(b);
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
	static const int	sigs[] = { SIGTERM, SIGINT, SIGHUP };

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

/* state and the instance count; the count is read ahead with a reader. */
void
broker_notify_status(struct broker *b, const char *state)
{
	struct rjob	*j;
	uint32_t	 ninst = 0, npw = 0;

	if (reader_on()) {
		j = reader_job(AHEAD_COUNTS, RT_NOTIFY);
		j->rj_state = state;
		reader_submit(j);
		return;
	}
	(void)store_counts(b->b_store, &ninst, &npw);
	sd_notifyf("%sSTATUS=serving %zu listeners, %u instances", state,
	    b->b_nlisten, ninst);
}

/*
 * The worker answered a ping.  The first answer after start means every
 * listener works: READY=1.  The watchdog is fed only from here, so a hung
 * worker stops it and systemd restarts the service.
 */
void
broker_pong(struct broker *b)
{
	uint64_t	now = broker_now_ms();

	stats_rtt((double)(broker_now_us() - b->b_ping_sent_us) / 1e6);
	b->b_ping_sent_ms = 0;
	b->b_next_ping_ms = now + b->b_ping_every_ms;
	if (!b->b_ready) {
		b->b_ready = 1;
		/* Logged first: whoever READY=1 wakes finds the line there. */
		log_info("ready");
		broker_notify_status(b, "READY=1\n");
	}
	if (b->b_wd_usec != 0 && !b->b_stopping &&
	    (now - b->b_wd_sent_ms) * 2000 >= b->b_wd_usec) {
		sd_notifyf("WATCHDOG=1");
		b->b_wd_sent_ms = now;
	}
}

/*
 * Every setting, and what a reload does with it: applies it (0), or
 * leaves it for a restart (1).  TLS contexts, listeners and instance
 * seeds are handled on their own in broker_reload.
 */
struct reload_field {
	const char	*rf_name;
	size_t		 rf_off;
	size_t		 rf_len;
	int		 rf_restart;
};

#define RF(n, f, r)	{ n, offsetof(struct config, f), \
			    sizeof(((struct config *)NULL)->f), r }

static const struct reload_field reload_fields[] = {
	RF("state_dir", c_state_dir, 1),
	RF("key_dir", c_key_dir, 0),
	RF("token_key_file", c_token_key, 0),
	RF("token_key_previous_file", c_token_key_prev, 0),
	RF("worker_user", c_worker_user, 1),
	RF("chroot", c_chroot, 1),
	RF("worker_path", c_worker_path, 1),
	RF("proxy_secret_file", c_proxy_secret_file, 0),
	RF("socket", c_owner_socket, 1),
	RF("listen_tls", c_owner_tls, 1),
	RF("listen_tls", c_owner_listen, 1),
	RF("listen_tls", c_owner_tcp, 1),
	RF("allow_subject", c_nallow_subject, 0),
	RF("allow_subject", c_allow_subject, 0),
	RF("allow_uid", c_nallow_uid, 0),
	RF("allow_uid", c_allow_uid, 0),
	RF("allow_group", c_nallow_group, 0),
	RF("allow_group", c_allow_group, 0),
	RF("backend", c_store_engine, 1),
	RF("path", c_store_path, 1),
	RF("conninfo", c_store_conninfo, 1),
	RF("password_ttl", c_pw_ttl, 0),
	RF("one_time_read", c_one_time, 0),
	RF("mode", c_mode, 0),
	RF("verifier_ops", c_vops, 0),
	RF("verifier_mem", c_vmem, 0),
	RF("max_conns", c_max_conns, 1),
	RF("header_timeout_ms", c_header_timeout_ms, 0),
	RF("body_timeout_ms", c_body_timeout_ms, 0),
	RF("idle_timeout_ms", c_idle_timeout_ms, 0),
	RF("rate", c_rate, 0),
	RF("burst", c_burst, 0),
	RF("owner_conn_idle_ms", c_conn[ROLE_OWNER].cc_idle_ms, 0),
	RF("owner_conn_lifetime_ms", c_conn[ROLE_OWNER].cc_life_ms, 0),
	RF("owner_conn_requests", c_conn[ROLE_OWNER].cc_requests, 0),
	RF("guest_conn_idle_ms", c_conn[ROLE_GUEST].cc_idle_ms, 0),
	RF("guest_conn_lifetime_ms", c_conn[ROLE_GUEST].cc_life_ms, 0),
	RF("guest_conn_requests", c_conn[ROLE_GUEST].cc_requests, 0),
};

/* "a, b, c": each name once, in the order given. */
static void
broker_reload_name(char *list, size_t size, const char *name)
{
	size_t	n = strlen(list), k = strlen(name);
	char	*p;

	for (p = list; (p = strstr(p, name)) != NULL; p += k)
		if ((p == list || p[-1] == ' ') &&
		    (p[k] == '\0' || p[k] == ','))
			return;
	(void)snprintf(list + n, size - n, "%s%s", n > 0 ? ", " : "", name);
}

/*
 * The new configuration nc against the running one oc: what a reload
 * applies is copied into oc and named in applied, what needs a restart
 * is named in restart and left as it runs.
 */
static void
broker_reload_diff(struct config *oc, const struct config *nc, int tls_kept,
    char *applied, size_t asize, char *restart, size_t rsize)
{
	const struct reload_field	*rf;
	const struct conf_listen	*ol, *nl;
	char				 name[96];
	size_t				 i;
	int				 same;

	for (i = 0; i < sizeof(reload_fields) / sizeof(reload_fields[0]);
	    i++) {
		rf = &reload_fields[i];
		if (memcmp((const char *)oc + rf->rf_off,
		    (const char *)nc + rf->rf_off, rf->rf_len) == 0)
			continue;
		if (rf->rf_restart) {
			broker_reload_name(restart, rsize, rf->rf_name);
			continue;
		}
		memcpy((char *)oc + rf->rf_off, (const char *)nc + rf->rf_off,
		    rf->rf_len);
		broker_reload_name(applied, asize, rf->rf_name);
	}
	/* Without their contexts, the token list stays as it was read. */
	if (tls_kept && strcmp(oc->c_token_file, nc->c_token_file) != 0)
		broker_reload_name(restart, rsize, "token_hashes_file");
	else if (strcmp(oc->c_token_file, nc->c_token_file) != 0)
		broker_reload_name(applied, asize, "token_hashes_file");
	/* Certificates are read again whatever changed; name new paths. */
	for (i = 0; !tls_kept && i < nc->c_ntls; i++) {
		if (strcmp(oc->c_tls[i].ct_cert, nc->c_tls[i].ct_cert) != 0)
			broker_reload_name(applied, asize, "tls_cert");
		if (strcmp(oc->c_tls[i].ct_key, nc->c_tls[i].ct_key) != 0)
			broker_reload_name(applied, asize, "tls_key");
		if (strcmp(oc->c_tls[i].ct_ca, nc->c_tls[i].ct_ca) != 0)
			broker_reload_name(applied, asize, "tls_client_ca");
	}
	/* Those at the running paths are read again all the same. */
	if (tls_kept)
		broker_reload_name(restart, rsize, "the number of TLS "
		    "certificates");

	/* Listeners stay; their guards follow the file if they match it. */
	same = oc->c_nlisten == nc->c_nlisten;
	for (i = 0; same && i < nc->c_nlisten; i++) {
		ol = &oc->c_listen[i];
		nl = &nc->c_listen[i];
		same = strcmp(ol->cl_host, nl->cl_host) == 0 &&
		    strcmp(ol->cl_port, nl->cl_port) == 0 &&
		    ol->cl_ident == nl->cl_ident && ol->cl_tls == nl->cl_tls &&
		    strcmp(ol->cl_section, nl->cl_section) == 0 &&
		    strcmp(ol->cl_device, nl->cl_device) == 0;
	}
	if (!same) {
		broker_reload_name(restart, rsize, "[guest] listeners and "
		    "their guards");
		return;
	}
	for (i = 0; i < nc->c_nlisten; i++) {
		if (memcmp(&oc->c_listen[i].cl_guard, &nc->c_listen[i].cl_guard,
		    sizeof(nc->c_listen[i].cl_guard)) == 0)
			continue;
		oc->c_listen[i].cl_guard = nc->c_listen[i].cl_guard;
		(void)snprintf(name, sizeof(name), "guards of [%s]",
		    nc->c_listen[i].cl_section);
		broker_reload_name(applied, asize, name);
	}
}

/*
 * SIGHUP: read the configuration, instance seeds, key ring, proxy secret,
 * TLS material and owner groups again.  Every setting is applied, or
 * named in a warning as needing a restart; the log line says what
 * changed.  Listeners, open connections and the running worker stay.  A
 * file, key, certificate or group that does not load changes nothing.
 */
static void
broker_reload(struct broker *b)
{
	static struct config	 nc;
	static struct tlsstate	 nt;
	static char		 applied[1024], restart[4096];
	static char		 groups[CONF_ALLOW_MAX * 66];
	static char		 note[sizeof(groups) + 64];
	struct config		*oc = b->b_conf, *tc;
	struct keyring		 kr;
	struct secret		 sec;
	struct tokens_ring	*ring = NULL;
	char			 err[CONF_ERR_MAX];
	int			 have_sec = 0;
	struct timespec		 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	log_info("reloading %s", oc->c_path);
	if (config_load(oc->c_path, &nc, err, sizeof(err)) == -1) {
		log_warnx("reload: %s; the running configuration stays", err);
		goto done;
	}
	if (keys_load_all(&nc, &kr, &sec, &have_sec, &b->b_keys_creds, err,
	    sizeof(err)) == -1) {
		log_warnx("reload: %s; the running configuration stays", err);
		config_free(&nc);
		goto done;
	}
	if (broker_token_keys(&nc, &ring, err, sizeof(err)) == -1)
		goto fail;
	/* Certificates belong to listeners: their number stays. */
	tc = nc.c_ntls == oc->c_ntls ? &nc : oc;
	if (tlskey_load(tc, &nt, err, sizeof(err)) == -1)
		goto fail;
	tokens_commit(ring);
	keyring_free(&b->b_keys);
	b->b_keys = kr;
	if (b->b_have_secret)
		secret_free(&b->b_secret);
	b->b_secret = sec;
	b->b_have_secret = have_sec;
	applied[0] = restart[0] = '\0';
	broker_reload_diff(oc, &nc, tc == oc, applied, sizeof(applied),
	    restart, sizeof(restart));
	tlskey_commit(b, tc, &nt);
	/* Open owner connections are held to the new lists at once. */
	owner_auth_reload(oc, groups, sizeof(groups));
	if (groups[0] != '\0') {
		(void)snprintf(note, sizeof(note), "allow_group %s (groups "
		    "are resolved at start)", groups);
		broker_reload_name(restart, sizeof(restart), note);
	}
	if (restart[0] != '\0')
		log_warnx("reload: %s change only on restart; the running "
		    "values stay", restart);
	free(oc->c_instances);
	oc->c_instances = nc.c_instances;
	oc->c_ninstances = nc.c_ninstances;
	nc.c_instances = NULL;
	nc.c_ninstances = 0;
	config_free(&nc);
	listen_reguard(b);
	broker_tokens_log(b);
	if (ops_seed_instances(b) == -1)
		log_warnx("reload: some instance seeds were not registered");
	supervise_limits(b);
	log_info("reloaded: %s%s; key ring of %zu (newest %u), %zu seeded "
	    "instances", applied[0] != '\0' ? "changed " : "no setting "
	    "changed", applied, b->b_keys.kr_n,
	    keyring_newest(&b->b_keys)->k_id, oc->c_ninstances);
	goto done;
 fail:
	log_warnx("reload: %s; the running configuration stays", err);
	tokens_discard(ring);
	keyring_free(&kr);
	if (have_sec)
		secret_free(&sec);
	config_free(&nc);
 done:
	broker_notify_status(b, "READY=1\n");
}

/* SIGTERM: stop accepting, let the worker finish what is in flight. */
static void
broker_stop(struct broker *b)
{
	size_t	i;

	if (b->b_stopping)
		return;
	sd_notifyf("STOPPING=1");
	log_info("stopping: no new connections, draining for at most %d ms",
	    BROKER_DRAIN_MS);
	b->b_stopping = 1;
	b->b_stop_deadline_ms = broker_now_ms() + BROKER_DRAIN_MS;
	for (i = 0; i < b->b_nlisten; i++) {
		close(b->b_listen[i].l_fd);
		b->b_listen[i].l_fd = -1;
		if (b->b_listen[i].l_role == ROLE_OWNER &&
		    !b->b_listen[i].l_inherited)
			(void)unlink(b->b_conf->c_owner_socket);
	}
	if (b->b_wstate == WORKER_UP &&
	    chan_send(&b->b_chan, MSG_SHUTDOWN, 0, 0, NULL, 0, -1) == 0)
		b->b_wstate = WORKER_STOPPING;
	else
		supervise_kill(b, "stopping");
}

/*
 * What the worker sent: reads are answered at once, and their answers
 * leave (after their audit lines) before anything else of the turn runs;
 * writes wait in b_later (broker_later_run), so that a read never waits
 * behind the sealing of a batch of writes, nor behind the completions.
 * Frames read ahead that b_later has no room for wait in the channel:
 * the loop does not sleep while chan_buffered() says there are some.
 */
void
broker_read_chan(struct broker *b)
{
	static struct chan_msg	m;
	int			i, r;

	/* Past the first read, one that found the socket drained ends it:
	 * poll wakes the loop for what comes later. */
	for (i = 0; i < BROKER_BATCH &&
	    (i == 0 || !chan_drained(&b->b_chan)) &&
	    b->b_nlater < BROKER_LATER_MAX && b->b_chan.c_fd != -1; i++) {
		r = chan_recv(&b->b_chan, &m);
		if (r == 0)
			break;
		if (r == -1) {
			if (errno == EBADMSG)
				supervise_kill(b, "malformed frame");
			else if (b->b_wstate == WORKER_STOPPING)
				supervise_down(b);	/* finished, as asked */
			else {
				/* It died: the wait status will say how. */
				b->b_kill_cause = MET_C_EXIT;
				supervise_kill(b, "channel closed");
			}
			break;
		}
		if (m.m_hdr.ch_type == MSG_REPORTS)
			broker_reports(b, &m);
		else
			broker_read_one(b, &m);
	}
	broker_turn_end(b);
}

/* A message now, or behind its connection's writes (ops_later). */
static void
broker_read_one(struct broker *b, struct chan_msg *m)
{
	if (ops_later(b, m))
		broker_later_add(b, m);
	else
		ops_dispatch(b, m);
}

/*
 * MSG_REPORTS: each entry runs as the MSG_HTTP_SENT or MSG_CONN_DONE it
 * stands for, on its own connection, through the operation table, in
 * order.  A frame that is not exactly that is a violation.  It may take
 * b_later up to BROKER_LATER_MAX + REPORTS_MAX - 1 entries.
 */
void
broker_reports(struct broker *b, const struct chan_msg *m)
{
	static struct chan_msg	 one;
	struct msg_reports	 mr;
	struct msg_status	 ms;
	uint32_t		 i;

	if (m->m_hdr.ch_connid != 0 ||
	    chan_get(m, &mr, sizeof(mr)) == -1 || mr.mrs_n == 0 ||
	    mr.mrs_n > REPORTS_MAX) {
		supervise_kill(b, "malformed reports");
		return;
	}
	for (i = mr.mrs_n; i < REPORTS_MAX; i++)
		if (mr.mrs_r[i].mr_connid != 0 || mr.mrs_r[i].mr_status != 0) {
			supervise_kill(b, "malformed reports");
			return;
		}
	for (i = 0; i < mr.mrs_n && b->b_wstate != WORKER_DOWN; i++) {
		memset(&one.m_hdr, 0, sizeof(one.m_hdr));
		one.m_hdr.ch_connid = mr.mrs_r[i].mr_connid;
		one.m_fd = -1;
		if (mr.mrs_r[i].mr_status == 0) {
			one.m_hdr.ch_type = MSG_CONN_DONE;
			buf_init(&one.m_payload, NULL, 0);
		} else {
			one.m_hdr.ch_type = MSG_HTTP_SENT;
			one.m_hdr.ch_len = sizeof(ms);
			ms.ms_status = mr.mrs_r[i].mr_status;
			buf_init(&one.m_payload, &ms, sizeof(ms));
		}
		broker_read_one(b, &one);
	}
	buf_init(&one.m_payload, NULL, 0);
}

/* A copy of m waits at the end of b_later: bounded by broker_read_chan. */
static void
broker_later_add(struct broker *b, const struct chan_msg *m)
{
	struct buf	 p = m->m_payload;
	struct blater	*l;
	struct bconn	*bc;
	size_t		 len = buf_left(&p);

	if ((l = malloc(sizeof(*l) + len)) == NULL)
		fatal("%s", __func__);
	l->bl_next = NULL;
	l->bl_hdr = m->m_hdr;
	l->bl_len = len;
	if (buf_get(&p, l->bl_data, len) == -1)
		fatalx("%s: short payload", __func__);
	if (b->b_later == NULL)
		b->b_later_tail = &b->b_later;
	*b->b_later_tail = l;
	b->b_later_tail = &l->bl_next;
	b->b_nlater++;
	if ((bc = broker_conn_get(b, m->m_hdr.ch_connid)) != NULL)
		bc->bc_later++;
}

/*
 * The oldest max messages of b_later, in the order they came.  Every
 * BROKER_LATER_READ of them, what the worker sent meanwhile is read:
 * a read that came while they are sealed waits behind that many, not
 * behind the rest of the turn's.
 */
void
broker_later_run(struct broker *b, int max)
{
	static struct chan_msg	 m;
	struct blater		*l;
	struct bconn		*bc;
	int			 i;

	for (i = 0; i < max && b->b_later != NULL; i++) {
		if (i > 0 && i % BROKER_LATER_READ == 0)
			broker_read_chan(b);
		/* A violation in what was read cleared b_later. */
		if ((l = b->b_later) == NULL)
			break;
		b->b_later = l->bl_next;
		b->b_nlater--;
		if ((bc = broker_conn_get(b, l->bl_hdr.ch_connid)) != NULL &&
		    bc->bc_later > 0)
			bc->bc_later--;
		m.m_hdr = l->bl_hdr;
		m.m_fd = -1;
		buf_init(&m.m_payload, l->bl_data, l->bl_len);
		/* A violation kills the worker and clears b_later. */
		ops_dispatch(b, &m);
		sodium_memzero(l, sizeof(*l) + l->bl_len);
		free(l);
	}
	buf_init(&m.m_payload, NULL, 0);
}

/* Connection id is forgotten: what it sent and has not run is dropped. */
static void
broker_later_drop(struct broker *b, uint32_t id)
{
	struct blater	**p = &b->b_later, *l;

	b->b_later_tail = NULL;
	while ((l = *p) != NULL) {
		if (l->bl_hdr.ch_connid != id) {
			b->b_later_tail = &l->bl_next;
			p = &l->bl_next;
			continue;
		}
		*p = l->bl_next;
		b->b_nlater--;
		sodium_memzero(l, sizeof(*l) + l->bl_len);
		free(l);
	}
	if (b->b_later_tail == NULL)
		b->b_later_tail = &b->b_later;
}

/* The worker is gone, and so are the connections these were for. */
static void
broker_later_clear(struct broker *b)
{
	struct blater	*l;

	while ((l = b->b_later) != NULL) {
		b->b_later = l->bl_next;
		sodium_memzero(l, sizeof(*l) + l->bl_len);
		free(l);
	}
	b->b_nlater = 0;
}

/*
 * The worker's channel, corked: what a turn answers leaves in
 * broker_turn_end, after the audit lines written so far: once its reads
 * are answered, and as it ends.  One turn queues a bounded number of
 * frames: an answer to each of the BROKER_BATCH frames of each read
 * (packed datagrams read ahead wait, whatever they hold, for the next
 * read; a report is answered by nothing; a turn reads once
 * and again every BROKER_LATER_READ waiting writes it runs, each read
 * sent before the next), to BROKER_LATER_TURN waiting writes, to the
 * completions of the job queues
 * (each bounded: WRITER_QUEUE_MAX, READER_QUEUE_MAX, HASHER_QUEUE_MAX)
 * and of the waiters, a ping, and BROKER_BATCH new connections per
 * listener.  CHAN_QUEUE_MAX counts what the last flush left behind: a
 * worker that does not read is killed for that, never for a busy turn.
 */
void
broker_chan_open(struct broker *b, int fd)
{
	chan_init(&b->b_chan, fd, 0);
	chan_unpack(&b->b_chan);
	chan_cork(&b->b_chan);
	chan_pack(&b->b_chan);
}

/*
 * The end of a turn, before the loop can block: the turn's audit lines
 * are written, and only then do its answers (and signatures) leave, so
 * that no value reaches a guest or an owner without its audit line, even
 * if the broker dies now.  Frames the worker cannot take yet wait for
 * POLLOUT and the next turn's end.
 */
void
broker_turn_end(struct broker *b)
{
	struct chan	*sign = &b->b_tls.ts_chan;

	log_flush();
	if (b->b_chan.c_fd != -1 && chan_flush(&b->b_chan) == -1)
		supervise_kill(b, "channel write: %s", strerror(errno));
	else if (sign->c_fd != -1 && chan_flush(sign) == -1)
		supervise_kill(b, "sign channel write: %s", strerror(errno));
	else
		return;
	log_flush();
}

void
broker_run(struct broker *b)
{
	/* 6 fds, the TLS signer, the worker's log */
	struct pollfd	 pfd[8 + BROKER_LISTENERS_MAX];
	struct listener	*lmap[BROKER_LISTENERS_MAX];
	size_t		 i, n, nl, sidx, widx;
	unsigned char	 sig;
	uint64_t	 now;
	int		 j;

	broker_signals();
	b->b_chan.c_fd = -1;
	b->b_wlinger[0] = b->b_wlinger[1] = -1;
	wlog_init(&b->b_wlog);
	b->b_wd_usec = sd_watchdog_usec();
	b->b_ping_every_ms = BROKER_PING_MS;
	if (b->b_wd_usec != 0 && b->b_wd_usec / 4000 < BROKER_PING_MS)
		b->b_ping_every_ms = b->b_wd_usec / 4000 + 1;
	sandbox_broker(store_engine_remote(b->b_conf->c_store_engine));
	supervise_start(b);
	for (;;) {
		/* The last turn's lines, before the loop may stop below. */
		log_flush();
		now = broker_now_ms();
		/* Stopped once the launcher has reaped the worker. */
		if (b->b_stopping && b->b_wstate == WORKER_DOWN &&
		    b->b_wpid == 0)
			break;
		if (b->b_stopping && now > b->b_stop_deadline_ms)
			supervise_kill(b, "drain time over");
		/* Before a restart: a worker started now has no age yet. */
		if (b->b_wstate == WORKER_STARTING &&
		    now - b->b_wstart_ms > BROKER_INIT_MS) {
			b->b_kill_cause = MET_C_HANG;
			supervise_kill(b, "not ready after %d ms",
			    BROKER_INIT_MS);
		}
		if (b->b_wstate == WORKER_DOWN && !b->b_stopping &&
		    now >= b->b_restart_at_ms && b->b_wpid == 0)
			supervise_start(b);
		supervise_ping(b);
		rotate_step(b);
		waiters_expire(b, now);
		waiters_poll();
		broker_conn_sweep(b, now);
		if (now >= b->b_next_sweep_ms) {
			ops_expire_sweep(b);
			b->b_next_sweep_ms = now + OPS_SWEEP_MS;
		}
		broker_turn_end(b);

		n = 0;
		pfd[n].fd = broker_sigfd[0];
		pfd[n++].events = POLLIN;
		pfd[n].fd = writer_fd();
		pfd[n++].events = POLLIN;
		pfd[n].fd = hasher_fd();
		pfd[n++].events = POLLIN;
		pfd[n].fd = reader_fd();
		pfd[n++].events = POLLIN;
		pfd[n].fd = b->b_launch.c_fd;
		pfd[n++].events = POLLIN |
		    (chan_pending(&b->b_launch) ? POLLOUT : 0);
		if (b->b_chan.c_fd != -1) {
			pfd[n].fd = b->b_chan.c_fd;
			pfd[n++].events = POLLIN |
			    (chan_pending(&b->b_chan) ? POLLOUT : 0);
		}
		sidx = n;
		if (tlskey_pollfd(b, &pfd[n]))
			n++;
		widx = n;
		if (b->b_wlog.wl_fd != -1) {
			pfd[n].fd = b->b_wlog.wl_fd;
			pfd[n++].events = POLLIN;
		}
		nl = 0;
		if (b->b_wstate == WORKER_UP && !b->b_stopping) {
			for (i = 0; i < b->b_nlisten; i++) {
				lmap[nl++] = &b->b_listen[i];
				pfd[n].fd = b->b_listen[i].l_fd;
				pfd[n++].events = POLLIN;
			}
		}
		/* Nothing runs until poll returns: the threads start on the
		 * turn's jobs, keys go no-access, and the next turn's reads
		 * see every commit made meanwhile. */
		reader_wake();
		writer_wake();
		store_read_end(b->b_store);
		keys_lock_all();
		if (poll(pfd, n, b->b_later != NULL ||
		    chan_buffered(&b->b_chan) ? 0 : BROKER_TICK_MS) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}

		if (pfd[0].revents & POLLIN) {
			while (read(broker_sigfd[0], &sig, 1) == 1) {
				if (sig == SIGHUP && !b->b_stopping)
					broker_reload(b);
				else
					broker_stop(b);
			}
		}
		if ((pfd[4].revents & POLLOUT) &&
		    chan_flush(&b->b_launch) == -1)
			fatal("cannot reach the launcher");
		if (pfd[4].revents & (POLLIN | POLLHUP | POLLERR))
			supervise_launcher(b);
		/* POLLOUT: broker_turn_end sends what waits. */
		if (n > 5 + nl && b->b_chan.c_fd == pfd[5].fd &&
		    ((pfd[5].revents & (POLLIN | POLLHUP | POLLERR)) ||
		    chan_buffered(&b->b_chan)))
			broker_read_chan(b);
		/* The reads just read are answered: now what waits. */
		if (pfd[1].revents & POLLIN)
			ops_write_done(b);
		if (pfd[2].revents & POLLIN)
			ops_hash_done(b);
		if (pfd[3].revents & POLLIN) {
			ops_read_done(b);
			waiters_told();
		}
		broker_later_run(b, BROKER_LATER_TURN);
		if (sidx < widx)
			tlskey_read(b, &pfd[sidx]);
		if (widx < n - nl &&
		    (pfd[widx].revents & (POLLIN | POLLHUP | POLLERR)))
			(void)wlog_read(&b->b_wlog);
		for (i = 0; i < nl; i++) {
			if (!(pfd[n - nl + i].revents & POLLIN))
				continue;
			for (j = 0; j < BROKER_BATCH &&
			    b->b_wstate == WORKER_UP; j++)
				if (listen_accept(b, lmap[i]) == 0)
					break;
		}
	}
	/* A sanitizer's report, or the worker's last words. */
	wlog_drain(&b->b_wlog);
}
