/* SPDX-License-Identifier: ISC */
/*
 * The worker (sealmd-worker): unprivileged and confined.  It parses every
 * untrusted byte, and asks the broker for typed operations.
 */
#ifndef SEALMD_WORKER_H
#define SEALMD_WORKER_H

#include <stdint.h>

#include "privsep/buf.h"
#include "privsep/chan.h"
#include "privsep/msg.h"
#include "http.h"
#include "path.h"

#define GUEST_BODY_MAX		4096	/* non-password routes; read, ignored */
#define OWNER_BODY_MAX		32768	/* one registration: a batch line */
#define OWNER_BATCH_BODY_MAX	(4 * 1024 * 1024)	/* a batch */
#define OWNER_OUT_MAX		(8 * 1024 * 1024)
#define OWNER_METRICS_MAX	(256 * 1024)
#define OWNER_LIST_LIMIT	1000	/* listing page: default, max */
#define GUEST_OUT_MAX		16384
#define WORKER_SWEEP_MS		200
#define LINGER_MS		2000	/* a refused body may still arrive */
#define LINGER_MAX		(256 * 1024)

enum wc_state {
	WC_HEAD,	/* reading a request head */
	WC_BODY,	/* reading its body */
	WC_WAIT,	/* waiting for the broker */
	WC_WRITE,	/* sending the answer */
	WC_LINGER,	/* answered early: discarding the unread rest */
};

/*
 * What a request is for, from its method and path: the worker's
 * routing, not the broker's struct route (how an answer finds its
 * connection).
 */
enum endpoint {
	EP_NONE,
	EP_ROOT,		/* "/": EC2 versions, no identity */
	EP_OS_VERSIONS,		/* /openstack */
	EP_OS_LISTING,		/* /openstack/<v> */
	EP_PASSWORD,
	EP_META,
	EP_VENDOR,
	EP_NETWORK,
	EP_VENDOR2,
	EP_NOTFOUND,		/* identify first, as Nova does, then 404 */
	EP_TOKEN,		/* PUT /openstack/api/token */
	EP_O_LIST,
	EP_O_INST,
	EP_O_PW,
	EP_O_STATUS,
	EP_O_METRICS,
	EP_O_KEYS,		/* GET /keys */
	EP_O_KEY_ACTION,	/* POST /keys/rotate, /keys/rewrap */
	EP_O_KEY,		/* DELETE /keys/ID */
	EP_O_VERIFY,		/* POST .../os-server-password/verify */
	EP_O_BATCH,		/* POST /instances:batch */
};

struct wbatch;

/* What a request needs after its head bytes are gone. */
struct wreq {
	enum http_method	wr_method;
	int			wr_minor;
	int			wr_keepalive;
	enum endpoint		wr_endpoint;
	int			wr_version;	/* index, OS routes */
	int			wr_status;	/* if set, answer this now */
	int			wr_sent;	/* the queued answer's status */
	const char		*wr_why;	/* explanation for wr_status */
	uint32_t		wr_reject;	/* password POST refused body */
	uint32_t		wr_ttl;		/* token route */
	uint32_t		wr_wait;	/* owner GET ?wait=, seconds */
	int			wr_close;	/* body left unread: close */
	size_t			wr_head_len;
	size_t			wr_body_len;
	int			wr_expect;
	struct msg_guest	wr_guest;
	char			wr_id[ID_LEN + 1];	/* owner routes */
	char			wr_after[ID_LEN + 1];	/* list cursor */
	uint32_t		wr_limit;	/* list: page size */
	uint32_t		wr_count;	/* list: entries so far */
	uint32_t		wr_key_id;
	uint32_t		wr_key_op;	/* MSG_OWNER_KEY_* */
	void			*wr_json;	/* list being built */
	struct wbatch		*wr_batch;	/* batch sent, for its answer */
	uint64_t		 wr_batch_turn;	/* waiting for the channel */
	int			 wr_batch_go;	/* its turn has come */
	int			 wr_batch_out;	/* sent, not answered */
	int			wr_authed;	/* owner TLS: broker agreed */
	uint32_t		wr_auth_flags;	/* AUTH_F_TOKEN */
	char			wr_token[AUTH_TOKEN_MAX + 1];
};

/* A guest listener's guards, as the broker sent them with a connection. */
struct wguard {
	uint32_t		wg_tokens;
	char			wg_header[GUARD_NAME_MAX + 1];
	char			wg_value[GUARD_VALUE_MAX + 1];
};

struct tls;
struct wtls_ctx;

struct wconn {
	uint32_t		wc_id;		/* broker's id; 0: free */
	const struct wguard	*wc_guard;
	int			wc_fd;
	int			wc_role;
	int			wc_ident;
	int			wc_authorized;
	enum wc_state		wc_state;
	struct bbuf		wc_in;
	struct bbuf		wc_out;
	struct http_parser	wc_hp;
	struct wreq		wc_req;
	uint64_t		wc_deadline;
	uint32_t		wc_reqid;	/* outstanding broker request */
	uint32_t		wc_want;	/* answer type it waits for */
	uint16_t		wc_gen;
	uint32_t		wc_events;
	size_t			wc_lingered;	/* bytes discarded */
	int			wc_peer_eof;	/* half-closed: answer, close */
	int			wc_continue_sent;
	struct tls		*wc_tls;	/* NULL: plain HTTP */
	struct wtls_ctx		*wc_tctx;
	uint32_t		wc_tls_want;	/* epoll events libtls awaits */
	int			wc_tls_up;	/* past the first-byte check */
	int			wc_tls_more;	/* wtls_drain may have more */
	struct bbuf		wc_tls_stash;	/* ciphertext read ahead */
};

struct worker {
	struct chan	 w_chan;
	int		 w_ep;
	struct wconn	*w_conns;
	uint32_t	 w_max;
	uint32_t	 w_nconns;
	struct msg_init	 w_init;
	struct wguard	 w_guard[LISTENERS_MAX];
	int		 w_stopping;
	uint32_t	 w_batch_out;	/* batches sent, not answered */
	uint32_t	 w_batch_waiting;	/* conns waiting to send one */
	uint64_t	 w_batch_ticket;
	struct msg_reports w_rep;	/* conn_reports_flush sends them */
};

/* conn.c */
void	conn_loop(struct worker *);
uint64_t conn_now_ms(void);
int	conn_request(struct worker *, struct wconn *, uint32_t, const void *,
	    size_t);
void	conn_reply_ready(struct worker *, struct wconn *);
void	conn_reports_flush(struct worker *);
void	conn_dispatch(struct worker *, struct wconn *);
void	conn_resume(struct worker *, struct wconn *);

/* tls.c */
void	wtls_init(uint32_t);
void	wtls_cert(const struct chan_msg *);
int	wtls_conn_new(struct wconn *, uint32_t);
void	wtls_conn_close(struct wconn *);
ssize_t	wtls_read(struct wconn *, struct bbuf *, size_t);
ssize_t	wtls_drain(struct wconn *, struct bbuf *, size_t);
ssize_t	wtls_write(struct wconn *, struct bbuf *);
void	wtls_send(struct wconn *, const void *, size_t);
uint32_t wtls_events(const struct wconn *, uint32_t);
int	wtls_read_blocked(const struct wconn *);
void	wtls_owner_token(struct wconn *, const struct http_req *);
int	wtls_owner_auth(struct worker *, struct wconn *);
void	wtls_owner_answer(struct worker *, struct wconn *,
	    const struct chan_msg *);

/* guest.c */
void	guest_prepare(struct wconn *, const struct http_req *,
	    const struct path *);
void	guest_dispatch(struct worker *, struct wconn *, const struct buf *);
void	guest_answer(struct worker *, struct wconn *, const struct chan_msg *);

/* owner.c */
void	owner_prepare(struct wconn *, const struct http_req *,
	    const struct path *);
void	owner_dispatch(struct worker *, struct wconn *, const struct buf *);
void	owner_answer(struct worker *, struct wconn *, const struct chan_msg *);
void	owner_cleanup(struct wconn *);
int	owner_batch_room(const struct worker *);
void	owner_batch_next(struct worker *);
void	owner_batch_gone(struct worker *, struct wconn *);
const char *owner_parse_instance(const struct buf *, const char *,
	    struct msg_instance *);

/* prom.c */
void	prom_render(struct bbuf *, const struct msg_metrics_ans *);

/* reply.c */
const char *reply_reason(int);
void	reply_send(struct wconn *, int, const char *, const void *, size_t);
void	reply_text_error(struct wconn *, int, const char *);
void	reply_json_error(struct wconn *, int, const char *);

#ifdef SEALMD_EVIL
/*
 * Test build only (tests/evil/evil_confined.c, never installed): the real
 * worker turns hostile after its real confinement.
 */
int	evil_confined_pick(char *, size_t);
void	evil_confined_run(struct worker *, int, const char *);
#endif

#endif
