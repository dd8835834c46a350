/* SPDX-License-Identifier: ISC */
/*
 * The broker (sealmd): owns keys, the store and every listener; accepts,
 * records kernel-given identity, passes connections to the worker and
 * executes the typed operations the worker asks for.
 */
#ifndef SEALMD_BROKER_H
#define SEALMD_BROKER_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "privsep/chan.h"
#include "keys.h"
#include "tokens.h"
#include "store/store.h"
#include "route.h"
#include "tlskey.h"

#define SEALMD_VERSION		"0.1.0"
#define BROKER_PING_MS		5000	/* worker liveness ping */
#define BROKER_PONG_MS		10000	/* no pong this long: worker hung */
#define BROKER_BACKOFF_MIN_MS	50
#define BROKER_BACKOFF_MAX_MS	1000
#define BROKER_STABLE_MS	10000	/* resets the restart backoff */
#define BROKER_DRAIN_MS		5000	/* in-flight limit on SIGTERM */
/* Guests, the owner socket and the owner TLS listener. */
#define BROKER_LISTENERS_MAX	(CONF_LISTEN_MAX + 2)
/* Owner slots beyond max_conns, so that guests cannot starve the owner. */
#define BROKER_OWNER_CONNS	32
#define BROKER_CONNS(b)		((b)->b_conf->c_max_conns + BROKER_OWNER_CONNS)
#define BROKER_SLOT(id)		((id) & 0xffff)
#define BROKER_CONN_SWEEP_MS	500	/* idle and lifetime checks */
#define BROKER_GONE_MS		BROKER_PONG_MS	/* late reports tolerated */
#define BROKER_LIFE_MARGIN_MS	2000	/* a wait ends this before */
#define BROKER_FD_SLACK		64	/* fds beyond the connections */
/*
 * Bulk registrations the broker holds at once, open or at the writer:
 * each is up to BATCH_MAX instances (about 10 MB).  The worker sends at
 * most BATCH_INFLIGHT at a time; past this, a batch is answered 503.
 */
#define BROKER_BATCHES_MAX	BATCH_HELD_MAX
#define BROKER_LATER_MAX	128	/* writes waiting behind reads */
#define BROKER_LATER_TURN	16	/* of those, run per loop turn */
#define BROKER_LATER_READ	4	/* of those, run between reads */

struct listener {
	int		l_fd;
	int		l_role;		/* enum listener_role */
	int		l_ident;	/* enum identity_mode */
	int		l_inherited;	/* from systemd: never unlink it */
	int		l_tls;		/* TLS context, 1-based; 0: plain */
	struct conf_guard l_guard;	/* guests: SSRF and squatting guards */
	char		l_net[ADDR_NET_MAX + 1]; /* [guest NET]; "": none */
	int		l_section;	/* its guards' c_listen index + 1; 0 */
	char		l_name[128];	/* for logs: "guest:127.0.0.1:8775" */
};

struct bconn {
	uint32_t	bc_id;		/* generation << 16 | slot; 0 = free */
	uint64_t	bc_serial;	/* never reused, unlike bc_id */
	int		bc_listener;
	int		bc_role;
	int		bc_ident;
	int		bc_authorized;
	char		bc_peer[PEER_MAX];
	char		bc_addr[ADDR_MAX + 1];	/* guest: IP[%IFNAME][@NET] */
	int		bc_tls;		/* TLS context, 1-based; 0: plain */
	uint32_t	bc_tlsgen;	/* its reloads when accepted */
	int		bc_signed;	/* one signature per connection */
	int		bc_fd;		/* the broker's own dup; -1: none */
	uid_t		bc_uid;		/* owner socket: SO_PEERCRED */
	gid_t		bc_gid;
	uint64_t	bc_born_ms;
	uint64_t	bc_last_ms;	/* accepted, or its last answer */
	uint32_t	bc_inflight;	/* operations not answered yet */
	uint32_t	bc_nreq;	/* operations so far */
	int		bc_asked;	/* an operation since its last answer */
	struct obatch	*bc_batch;	/* POST /instances:batch, open */
	uint32_t	bc_later;	/* its messages in b_later */
};

/* A batch between its BEGIN and END (ops_owner.c). */
struct obatch {
	uint32_t		 ob_n;		/* entries so far */
	unsigned int		 ob_status;	/* 0, or its refusal */
	struct store_inst	*ob_inst;	/* BATCH_MAX; NULL if refused */
};

/*
 * A message read from the worker that waits for the reads read with it
 * (ops_later): a copy of its header and payload, wiped when it has run.
 */
struct blater {
	struct blater	*bl_next;
	struct chan_hdr	 bl_hdr;
	size_t		 bl_len;
	uint8_t		 bl_data[];
};

/*
 * A connection the broker closed itself: the worker may still report it
 * done, or have sent one operation before it saw the close.
 */
struct bgone {
	uint32_t	bg_id;		/* 0: none */
	int		bg_ops;		/* operations seen since */
	uint32_t	bg_batch;	/* the rest of a batch, seen since */
	uint64_t	bg_until_ms;
};

/* The worker's stderr, read by the broker (wlog.c). */
#define WLOG_LINE_MAX	1024
struct wlog {
	int		wl_fd;		/* the pipe's read end; -1: none */
	size_t		wl_len;		/* escaped bytes in wl_line */
	int		wl_skip;	/* the rest of a cut line goes */
	uint32_t	wl_dropped;	/* lines over the rate */
	uint64_t	wl_credit_ms;	/* rate: each line costs some */
	uint64_t	wl_last_ms;
	char		wl_line[WLOG_LINE_MAX + 1];
};

enum worker_state {
	WORKER_DOWN,		/* waiting for the restart backoff */
	WORKER_STARTING,	/* asked for, waiting for MSG_INIT_DONE */
	WORKER_UP,
	WORKER_STOPPING,	/* sent MSG_SHUTDOWN */
};

struct broker {
	struct config	*b_conf;
	struct keyring	 b_keys;
	int		 b_keys_creds;	/* ring from systemd credentials */
	int		 b_rewrap;	/* a rewrap pass is running */
	uint32_t	 b_rewrap_inflight;
	uint32_t	 b_rewrap_done;
	char		 b_rewrap_after[ID_LEN + 1];
	int		 b_rewrap_reading;	/* next batch read ahead */
	struct secret	 b_secret;
	int		 b_have_secret;
	struct tlsstate	 b_tls;
	struct store	*b_store;

	struct listener	 b_listen[BROKER_LISTENERS_MAX];
	size_t		 b_nlisten;

	struct bconn	*b_conns;	/* BROKER_CONNS slots */
	uint32_t	 b_nconns[3];	/* open, by enum listener_role */
	struct bgone	*b_gone;	/* BROKER_CONNS slots */
	uint32_t	 b_nbatch;	/* batches held: BROKER_BATCHES_MAX */
	uint64_t	 b_next_conn_sweep_ms;
	uint32_t	 b_gen;
	uint64_t	 b_serial;	/* the last bc_serial */

	struct chan	 b_launch;	/* to the launcher (launcher/) */
	pid_t		 b_lpid;
	enum worker_state b_wstate;
	pid_t		 b_wpid;	/* -1: asked for; 0: none */
	int		 b_wkilled;	/* its MSG_LAUNCH_KILL is sent */
	int		 b_wlinger[2];	/* its channels, until it is reaped */
	struct chan	 b_chan;
	struct blater	*b_later;	/* oldest first */
	struct blater	**b_later_tail;
	size_t		 b_nlater;
	struct wlog	 b_wlog;
	uint64_t	 b_wstart_ms;
	uint64_t	 b_restart_at_ms;
	uint32_t	 b_backoff_ms;
	uint32_t	 b_restarts;
	uint32_t	 b_wgen;		/* worker generation */
	uint32_t	 b_ping_id;
	uint64_t	 b_ping_sent_ms;	/* 0: no ping outstanding */
	uint64_t	 b_ping_sent_us;	/* the same, for the RTT */
	int		 b_kill_cause;	/* enum met_cause, -1: none yet */
	uint64_t	 b_next_ping_ms;
	uint64_t	 b_next_sweep_ms;
	uint64_t	 b_ping_every_ms;	/* BROKER_PING_MS, watchdog/4 */
	uint64_t	 b_wd_usec;		/* systemd watchdog, 0: none */
	uint64_t	 b_wd_sent_ms;
	int		 b_ready;		/* READY=1 sent */
	char		 b_worker_path[PATH_MAX];
	uid_t		 b_wuid;
	gid_t		 b_wgid;
	int		 b_drop;	/* may chroot the worker, set its id */
	int		 b_debug;	/* -d: the worker logs debug too */

	int		 b_stopping;
	uint64_t	 b_stop_deadline_ms;
	time_t		 b_started;
};

/* broker.c */
uint64_t	 broker_now_ms(void);
uint64_t	 broker_wall_ms(void);
uint64_t	 broker_now_us(void);
int	 broker_token_keys(const struct config *, struct tokens_ring **,
	    char *, size_t);
void	 broker_tokens_log(const struct broker *);
void	 broker_run(struct broker *);
void	 broker_chan_open(struct broker *, int);
void	 broker_turn_end(struct broker *);
void	 broker_read_chan(struct broker *);
void	 broker_later_run(struct broker *, int);
void	 broker_reports(struct broker *, const struct chan_msg *);
void	 broker_conn_free(struct broker *, uint32_t);
struct bconn	*broker_conn_get(struct broker *, uint32_t);
int	 broker_conn_op(struct broker *, struct bconn *);
int	 broker_conn_gone(struct broker *, uint32_t, uint32_t);
void	 broker_conn_answered(struct broker *, uint32_t);
void	 broker_conn_close_all(struct broker *);
void	 broker_batch_free(struct broker *, struct bconn *);
uint32_t broker_conn_wait(struct broker *, const struct bconn *, uint32_t);

/* listen.c */
int	 listen_setup(struct broker *);
int	 listen_accept(struct broker *, struct listener *);
void	 listen_reguard(struct broker *);

/* supervise.c */
int	 supervise_find_path(struct broker *);
void	 supervise_start(struct broker *);
void	 supervise_down(struct broker *);
void	 supervise_kill(struct broker *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 supervise_launcher(struct broker *);
void	 supervise_ping(struct broker *);
void	 supervise_limits(struct broker *);
void	 supervise_fill_init(const struct broker *, struct msg_init *);

/* wlog.c */
void	 wlog_init(struct wlog *);
void	 wlog_set(struct wlog *, int);
int	 wlog_read(struct wlog *);
void	 wlog_drain(struct wlog *);

/* broker.c, for ops.c and ops_done.c */
void	 broker_pong(struct broker *);
void	 broker_notify_status(struct broker *, const char *);

/* ops.c, ops_owner.c, ops_done.c */
void	 ops_dispatch(struct broker *, struct chan_msg *);
int	 ops_later(struct broker *, const struct chan_msg *);
int	 ops_seed_instances(struct broker *);
void	 ops_write_done(struct broker *);
void	 ops_read_done(struct broker *);
void	 ops_expire_sweep(struct broker *);
void	 ops_hash_done(struct broker *);
/* What ops_read_done does with a finished read (struct rjob's rj_then). */
enum rj_then {
	RT_MSG,		/* the worker's message: rj_hdr, rj_payload, rj_rt */
	RT_PW_GET,	/* ops_pw_get_for(rj_rt, rj_ah.ah_key, rj_wait) */
	RT_SWEEP,	/* ops_expire_sweep */
	RT_ROTATE,	/* rotate_step */
	RT_NOTIFY,	/* tell systemd the instance count */
	RT_WAIT_POLL,	/* a value for ah_key's waiters, maybe */
};

void	 ops_pw_get_for(struct broker *, const struct route *, const char *,
	    uint32_t);
int	 ops_route_live(struct broker *, const struct route *);

#define OPS_SWEEP_MS		5000
#define OPS_SWEEP_BATCH		64

/* ident.c */
int	 ident_guest(struct broker *, const struct bconn *,
	    const struct msg_guest *, struct store_inst *, int);
const char *ident_bind(const struct bconn *, const struct msg_guest *);
int	 ident_would_read(struct broker *, const struct bconn *,
	    const struct msg_guest *, int);
int	 ident_nets_ok(const struct broker *, const struct store_inst *);

/* audit.c */
void	 audit_op(const struct broker *, int, const char *, const char *,
	    const char *, unsigned int, const uint8_t *);

#endif
