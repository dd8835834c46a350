/* SPDX-License-Identifier: ISC */
/*
 * Every message on the broker <-> worker channel.  A frame is a struct
 * chan_hdr followed by exactly the payload struct of its type; sizes are
 * checked for equality, never for a minimum.  Types come in pairs: the even
 * number is the request, the odd number after it is the answer.  The
 * direction of each pair is given beside it.
 *
 * Both ends are built from the same tree for the same architecture, so the
 * structs travel as they lie in memory.  Senders zero a struct before
 * filling it so that padding never carries stale memory.
 */
#ifndef SEALMD_MSG_H
#define SEALMD_MSG_H

#include <stdint.h>

#include "sizes.h"
#include "metrics.h"

#define CHAN_WORKER_FD		3	/* the worker's end, after exec */
#define CHAN_SIGN_FD		4	/* the worker's sign channel */
#define CHAN_MAX_PAYLOAD	12288

#define SIG_MAX			64	/* lowercase hex HMAC-SHA256 */
#define LISTENERS_MAX		32	/* mc_listener is below this */
#define TOKEN_LEN		60	/* 45 bytes base64url (tokens.h) */
#define TOKEN_TTL_MAX		21600
#define GUARD_TOKENS_OFF	0	/* session_tokens, in mc_tokens */
#define GUARD_TOKENS_OPTIONAL	1
#define GUARD_TOKENS_REQUIRED	2
#define GUARD_NAME_MAX		63
#define GUARD_VALUE_MAX		255

struct chan_hdr {
	uint32_t	ch_type;
	uint32_t	ch_len;		/* payload bytes after the header */
	uint32_t	ch_reqid;	/* echoed in the answer */
	uint32_t	ch_connid;	/* broker-assigned connection id */
};

enum msg_type {
	MSG_INIT = 2,		/* b->w: limits and identity to drop to */
	MSG_INIT_DONE,		/* w->b: confined and serving */
	MSG_PING = 4,		/* b->w */
	MSG_PONG,		/* w->b */
	MSG_CONN_NEW = 6,	/* b->w, one fd attached */
	MSG_CONN_DONE,		/* w->b: the connection is closed */
	MSG_SHUTDOWN = 8,	/* b->w: finish in-flight requests, exit */
	MSG_SHUTDOWN_ACK,	/* unused answer slot */

	MSG_GUEST_IDENT = 10,	/* w->b: who is this guest? */
	MSG_GUEST_IDENT_ANS,
	MSG_GUEST_META = 12,	/* w->b: registration for meta_data.json */
	MSG_GUEST_META_ANS,
	MSG_GUEST_PW_GET = 14,
	MSG_GUEST_PW_GET_ANS,
	MSG_GUEST_PW_PUT = 16,	/* hashed chunk operation */
	MSG_GUEST_PW_PUT_ANS,
	MSG_GUEST_TOKEN = 18,	/* w->b: issue a session token */
	MSG_GUEST_TOKEN_ANS,

	MSG_OWNER_INST_PUT = 20,
	MSG_OWNER_INST_PUT_ANS,
	MSG_OWNER_INST_GET = 22,
	MSG_OWNER_INST_GET_ANS,
	MSG_OWNER_INST_DEL = 24,
	MSG_OWNER_INST_DEL_ANS,
	MSG_OWNER_INST_LIST = 26,
	MSG_OWNER_INST_LIST_ANS,
	MSG_OWNER_PW_GET = 28,
	MSG_OWNER_PW_GET_ANS,
	MSG_OWNER_PW_DEL = 30,
	MSG_OWNER_PW_DEL_ANS,
	MSG_OWNER_STATUS = 32,
	MSG_OWNER_STATUS_ANS,

	MSG_LIMITS = 34,	/* b->w: new timeouts after a reload */
	MSG_LIMITS_ACK,		/* unused answer slot */
	MSG_TLS_SIGN = 36,	/* w->b, sign channel only: ECDSA of a digest */
	MSG_TLS_SIGN_ANS,
	MSG_TLS_CERT = 38,	/* b->w: a certificate chain or client CAs */
	MSG_TLS_CERT_ACK,	/* unused answer slot */
	MSG_OWNER_METRICS = 40,	/* w->b; 36-39 are TLS's */
	MSG_OWNER_METRICS_ANS,
	MSG_OWNER_KEYS = 42,	/* key ids and what each seals */
	MSG_OWNER_KEYS_ANS,
	MSG_OWNER_KEY_ROTATE = 44,
	MSG_OWNER_KEY_ROTATE_ANS,
	MSG_OWNER_KEY_REWRAP = 46,
	MSG_OWNER_KEY_REWRAP_ANS,
	MSG_OWNER_KEY_RETIRE = 48,
	MSG_OWNER_KEY_RETIRE_ANS,
	MSG_OWNER_PW_VERIFY = 50,	/* a candidate against the verifier */
	MSG_OWNER_PW_VERIFY_ANS,
	MSG_OWNER_AUTH = 52,	/* w->b: credentials of an owner TLS request */
	MSG_OWNER_AUTH_ANS,
	MSG_HTTP_SENT = 54,	/* w->b: an HTTP answer went out (metrics) */
	MSG_HTTP_SENT_ACK,	/* unused answer slot */

	/* The launcher's socket only (launcher/launcher.c): b->l and l->b. */
	MSG_LAUNCH = 54,	/* b->l: start a worker, struct msg_launch */
	MSG_LAUNCH_ANS,		/* l->b: its channel (fd), msg_launched */
	MSG_LAUNCH_SIGN = 56,	/* l->b: its sign channel (fd), before ANS */
	MSG_LAUNCH_SIGN_ACK,	/* unused answer slot */
	MSG_LAUNCH_KILL = 58,	/* b->l: SIGKILL the worker */
	MSG_LAUNCH_KILL_ACK,	/* unused answer slot */
	MSG_LAUNCH_EXIT = 60,	/* l->b: it was reaped, struct msg_launched */
	MSG_LAUNCH_EXIT_ACK,	/* unused answer slot */
	MSG_LAUNCH_LOG = 62,	/* l->b: its stderr's read end (fd), first */
	MSG_LAUNCH_LOG_ACK,	/* unused answer slot */

	/* Bulk registration (struct msg_batch_end), after the launcher's. */
	MSG_OWNER_BATCH_BEGIN = 64,	/* w->b: a batch starts, no payload */
	MSG_OWNER_BATCH_BEGIN_ACK,	/* unused answer slot */
	MSG_OWNER_BATCH_ENTRY = 66,	/* w->b: one struct msg_instance */
	MSG_OWNER_BATCH_ENTRY_ACK,	/* unused answer slot */
	MSG_OWNER_BATCH_END = 68,	/* w->b: commit them all, or none */
	MSG_OWNER_BATCH_END_ANS,
	MSG_REPORTS = 70,	/* w->b: answers sent, connections closed */
	MSG_REPORTS_ACK,	/* unused answer slot */

	MSG_TYPE_MAX
};

enum listener_role {
	ROLE_GUEST = 1,
	ROLE_OWNER = 2,
};

enum identity_mode {
	IDENT_PROXY = 1,
	IDENT_DIRECT = 2,
};

/* MSG_INIT; MSG_LIMITS reuses it and applies only the timeouts. */
struct msg_init {
	uint32_t	mi_uid;		/* 0 with mi_drop 0: not root */
	uint32_t	mi_gid;
	uint32_t	mi_drop;	/* chroot + change id when 1 */
	uint32_t	mi_max_conns;
	uint32_t	mi_header_timeout_ms;
	uint32_t	mi_body_timeout_ms;
	uint32_t	mi_idle_timeout_ms;
	uint32_t	mi_debug;
	uint32_t	mi_tls;		/* TLS contexts; 0: OpenSSL idle */
	char		mi_chroot[256];
};

/*
 * MSG_LAUNCH: the timeouts a reload may have changed.  Everything else in
 * the worker's MSG_INIT, above all whom it drops to, is the launcher's.
 */
struct msg_launch {
	uint32_t	ml_header_timeout_ms;
	uint32_t	ml_body_timeout_ms;
	uint32_t	ml_idle_timeout_ms;
};

/* MSG_LAUNCH_ANS (pid 0: not started) and MSG_LAUNCH_EXIT. */
struct msg_launched {
	int32_t		mld_pid;
	int32_t		mld_status;	/* MSG_LAUNCH_EXIT: the wait status */
};

/* MSG_CONN_NEW */
struct msg_conn_new {
	uint32_t	mc_role;	/* enum listener_role */
	uint32_t	mc_ident;	/* enum identity_mode, guests only */
	uint32_t	mc_listener;	/* index, for logs */
	uint32_t	mc_authorized;	/* owner peer allowed by SO_PEERCRED */
	uint32_t	mc_tls;		/* 1..TLS_CTX_MAX; 0: plain */
	uint32_t	mc_tokens;	/* tokens: 0 off, 1 opt, 2 required */
	char		mc_header[GUARD_NAME_MAX + 1];	/* required header */
	char		mc_value[GUARD_VALUE_MAX + 1];
};

/*
 * Identity a guest request claims.  In proxy mode these are the neutron
 * proxy's headers, unchecked: the broker verifies the signature.  In direct
 * mode all three are empty and the broker uses the peer address.
 */
#define GUEST_F_TENANT_LONG	0x1	/* X-Tenant-ID too long to match */
#define GUEST_F_TOKEN_BAD	0x2	/* X-Metadata-Token malformed */

struct msg_guest {
	uint32_t	mg_flags;
	char		mg_instance[PROJECT_MAX + 1];
	char		mg_tenant[PROJECT_MAX + 1];
	char		mg_sig[SIG_MAX + 1];
	char		mg_token[TOKEN_LEN + 1];	/* X-Metadata-Token */
};

/* MSG_GUEST_TOKEN */
struct msg_guest_token {
	struct msg_guest mgt_guest;
	uint32_t	mgt_ttl;	/* seconds, 1..TOKEN_TTL_MAX */
};

/* MSG_GUEST_TOKEN_ANS */
struct msg_token_ans {
	uint32_t	mta_status;
	char		mta_token[TOKEN_LEN + 1];
};

/*
 * MSG_GUEST_PW_PUT.  Chunks are canonical: every chunk but the last holds
 * exactly PW_CHUNK_LEN bytes, and the digest covers their concatenation.
 * mp_reject is 0, or the status (400, 411) the worker would give a body it
 * refused; the broker still answers 409 first when a value is set, as
 * Nova checks the conflict before the size.
 */
struct msg_guest_pw_put {
	struct msg_guest mp_guest;
	uint32_t	mp_reject;
	uint8_t		mp_nchunks;
	uint8_t		mp_pad[1];
	uint16_t	mp_len[PW_CHUNKS];
	uint8_t		mp_chunk[PW_CHUNKS][PW_CHUNK_LEN];
	uint8_t		mp_digest[PW_DIGEST_LEN];
};

/* Every answer that carries only an HTTP status; and MSG_HTTP_SENT. */
struct msg_status {
	uint32_t	ms_status;
};

/*
 * MSG_REPORTS: what MSG_HTTP_SENT and MSG_CONN_DONE say, for up to
 * REPORTS_MAX of them in one frame, in the order they happened: the
 * broker runs each as that message on its connection.  mr_status 0: the
 * connection is closed; else the status of an answer sent.  Entries past
 * mrs_n are zero.
 */
#define REPORTS_MAX	32
struct msg_report {
	uint32_t	mr_connid;
	uint32_t	mr_status;
};
struct msg_reports {
	uint32_t		mrs_n;
	struct msg_report	mrs_r[REPORTS_MAX];
};

/* MSG_GUEST_PW_GET_ANS, MSG_OWNER_PW_GET_ANS */
#define PW_F_VERIFIER	0x1	/* a verifier is stored, not a value */

struct msg_pw {
	uint32_t	mw_status;
	uint32_t	mw_flags;
	uint32_t	mw_len;
	uint8_t		mw_value[PW_MAX];
};

struct msg_key {
	char		mk_name[KEYNAME_MAX + 1];
	char		mk_data[KEYDATA_MAX + 1];
};

struct msg_instance {
	char		mn_id[ID_LEN + 1];
	char		mn_project[PROJECT_MAX + 1];
	char		mn_hostname[HOSTNAME_MAX + 1];
	uint32_t	mn_naddr;
	char		mn_addr[INST_ADDRS_MAX][ADDR_MAX + 1];
	uint32_t	mn_nkeys;
	struct msg_key	mn_keys[INST_KEYS_MAX];
	int64_t		mn_created;
	int64_t		mn_cleared;	/* last password clear, 0: never */
	int32_t		mn_pw_ttl;	/* 0: the default, -1: never, else s */
	int32_t		mn_one_time;	/* 0: the default, 1: yes, -1: no */
	int32_t		mn_mode;	/* PW_MODE_* */
};

/* MSG_GUEST_META_ANS, MSG_OWNER_INST_GET_ANS */
struct msg_instance_ans {
	uint32_t	mia_status;
	struct msg_instance mia_inst;
};

/* MSG_OWNER_INST_GET, _DEL, _PW_GET, _PW_DEL */
struct msg_id {
	char		md_id[ID_LEN + 1];
};

/* MSG_OWNER_PW_GET: with mq_wait, answer when a value arrives. */
#define PW_WAIT_MAX	600	/* seconds */

struct msg_pw_get {
	char		mq_id[ID_LEN + 1];
	uint32_t	mq_wait;	/* seconds, 0: answer now */
};

/* MSG_OWNER_PW_VERIFY */
struct msg_pw_verify {
	char		mv_id[ID_LEN + 1];
	uint32_t	mv_len;
	uint8_t		mv_value[PW_MAX];
};

/*
 * POST /instances:batch.  BEGIN, then up to BATCH_MAX ENTRY messages (each
 * a struct msg_instance, as MSG_OWNER_INST_PUT's), then END with their
 * count; only END is answered.  The broker keeps the entries of one open
 * batch per connection and commits them in one writer job: all or none.
 * The answer names at most BATCH_ERR_MAX entries, by their index in the
 * batch (0-based): the ones at fault; every other entry of a failed batch
 * was not stored either.
 */
#define BATCH_MAX		1000
#define BATCH_ERR_MAX		64
#define BATCH_HELD_MAX		4	/* the broker holds, open or writing */
#define BATCH_INFLIGHT		2	/* the worker sends, unanswered */

struct msg_batch_end {
	uint32_t	mbe_n;		/* ENTRY messages since BEGIN */
};

struct msg_batch_ans {
	uint32_t	mba_status;	/* 200; 400, 403, 409, 503: none kept */
	uint32_t	mba_created;	/* 200: entries new, the rest updated */
	uint32_t	mba_nerr;
	struct {
		uint32_t	index;
		uint32_t	status;	/* 400 or 409 */
	}		mba_err[BATCH_ERR_MAX];
};

/* MSG_OWNER_INST_LIST: entries after mls_after, in id order */
struct msg_list {
	char		mls_after[ID_LEN + 1];
};

struct msg_list_ans {
	uint32_t	mla_status;
	uint32_t	mla_n;
	uint32_t	mla_more;
	struct {
		char	id[ID_LEN + 1];
		char	project[PROJECT_MAX + 1];
	}		mla_e[LIST_MAX];
};

struct msg_hist {
	uint64_t	mh_bucket[MET_BUCKETS];	/* not cumulative */
	uint64_t	mh_count;
	double		mh_sum;
};

/* MSG_OWNER_METRICS_ANS: raw counts; the worker renders the text. */
struct msg_metrics_ans {
	uint32_t	mm_status;
	uint32_t	mm_nlisten;
	uint64_t	mm_ops[MET_OPS][MET_STATUSES];
	uint64_t	mm_listener[MET_LISTENERS][MET_STATUSES];
	char		mm_lname[MET_LISTENERS][128];
	struct msg_hist	mm_hist[MET_NHIST];
	uint64_t	mm_restarts[MET_CAUSES];
	uint64_t	mm_ratelimited;
	uint32_t	mm_conns_guest;
	uint32_t	mm_conns_owner;
	uint32_t	mm_instances;
	uint32_t	mm_passwords;
	uint32_t	mm_waiters;		/* owner GETs with ?wait= */
};

#define KEYS_LIST_MAX	64

/* MSG_OWNER_KEY_RETIRE */
struct msg_key_id {
	uint32_t	mki_id;
};

/* The answer to every key operation but retire: the ring as it now is. */
struct msg_keys_ans {
	uint32_t	mka_status;
	uint32_t	mka_n;
	uint32_t	mka_newest;
	uint32_t	mka_rewrap;		/* a rewrap pass is running */
	uint32_t	mka_rewrapped;		/* values it re-sealed so far */
	uint32_t	mka_id[KEYS_LIST_MAX];
	uint32_t	mka_records[KEYS_LIST_MAX];	/* values it seals */
};

/* MSG_OWNER_STATUS_ANS */
struct msg_status_ans {
	uint32_t	mst_status;
	uint32_t	mst_nlisten;
	char		mst_lname[MET_LISTENERS][128];
	char		mst_lmode[MET_LISTENERS][16];	/* proxy|direct|owner */
	uint32_t	mst_nkeyids;
	uint32_t	mst_keyids[KEYS_LIST_MAX];
	uint32_t	mst_keyvalues[KEYS_LIST_MAX];	/* values each seals */
	char		mst_store_state[16];
	uint32_t	mst_instances;
	uint32_t	mst_passwords;
	uint32_t	mst_listeners;
	uint32_t	mst_worker_restarts;
	uint32_t	mst_key_newest;
	uint32_t	mst_keys;
	uint32_t	mst_worker_pid;
	int64_t		mst_uptime;
	char		mst_store[16];
	char		mst_version[16];
};

/*
 * TLS.  The worker holds certificates only; every private-key operation is
 * a MSG_TLS_SIGN on the sign channel (fd CHAN_SIGN_FD in the worker), for
 * the connection named in the header.  A key is named by the SHA-256 of
 * its SubjectPublicKeyInfo DER.
 */
#define TLS_CTX_MAX		8	/* distinct certificates */
#define TLS_KEYID_LEN		32
#define TLS_SIGN_DATA_MAX	512	/* room for what is refused, e.g. RSA */
#define TLS_SIG_MAX		144	/* DER ECDSA-P384 is at most 104 */
#define TLS_PEM_MAX		8192
#define TLS_SIGN_ECDSA		1	/* the one operation there is */

/* MSG_TLS_SIGN: mts_len must be 32, 48 or 64 (SHA-256, -384, -512). */
struct msg_tls_sign {
	uint32_t	mts_op;		/* TLS_SIGN_ECDSA */
	uint32_t	mts_len;
	uint8_t		mts_keyid[TLS_KEYID_LEN];
	uint8_t		mts_data[TLS_SIGN_DATA_MAX];
};

/* MSG_TLS_SIGN_ANS: a DER ECDSA-Sig-Value; length 0 if signing failed. */
struct msg_tls_sig {
	uint32_t	msig_len;
	uint8_t		msig_sig[TLS_SIG_MAX];
};

/* MSG_TLS_CERT: a CA message for a context comes before its chain. */
#define TLS_PEM_CHAIN		1	/* the server's chain, leaf first */
#define TLS_PEM_CA		2	/* CAs that sign client certificates */

struct msg_tls_cert {
	uint32_t	mtc_ctx;	/* 1..TLS_CTX_MAX */
	uint32_t	mtc_kind;
	uint32_t	mtc_len;
	uint8_t		mtc_pem[TLS_PEM_MAX];
};

/*
 * MSG_OWNER_AUTH, before every request on an owner TLS connection: the
 * client certificate's subject (verified against the configured CAs by
 * the worker's handshake) and the X-Auth-Token header.  Answered with a
 * struct msg_status: 200, 401 or 403.
 */
#define AUTH_SUBJECT_MAX	511
#define AUTH_TOKEN_MAX		255
#define AUTH_F_CERT		0x1	/* a verified client certificate */
#define AUTH_F_TOKEN		0x2	/* an X-Auth-Token header, maybe bad */

struct msg_owner_auth {
	uint32_t	mo_flags;
	char		mo_subject[AUTH_SUBJECT_MAX + 1];
	char		mo_token[AUTH_TOKEN_MAX + 1];
};

#endif
