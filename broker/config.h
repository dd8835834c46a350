/* SPDX-License-Identifier: ISC */
/*
 * sealmd.conf, read with libinih in the broker only.  The worker gets the
 * few limits it needs over the channel (struct msg_init).
 */
#ifndef SEALMD_CONFIG_H
#define SEALMD_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "privsep/msg.h"
#include "broker/store/store.h"

#define CONF_LISTEN_MAX		16
#define CONF_ALLOW_MAX		32
#define CONF_INSTANCES_MAX	1024
#define CONF_ERR_MAX		512
#define CONF_RATE_MAX		1000000
#define CONF_RATE_DEFAULT	UINT32_MAX	/* direct: 10/s; proxy: off */
#define CONF_RATE_DIRECT	10
#define CONF_VERIFIER_OPS	3		/* libsodium's MODERATE */
#define CONF_IDLE_SLACK_MS	10000	/* broker idle past the worker's */
#define CONF_LIFE_MIN_MS	1000
#define CONF_LIFE_MAX_MS	86400000U	/* a day */
#define CONF_REQUESTS_MAX	1000000
#define CONF_OWNER_LIFE_MS	900000U		/* > PW_WAIT_MAX */
#define CONF_OWNER_REQUESTS	4096
#define CONF_GUEST_LIFE_MS	3600000U
#define CONF_GUEST_REQUESTS	10000
#define CONF_VERIFIER_MEM	268435456U	/* 256 MiB, MODERATE */

#define CONF_DEFAULT_STATE_DIR	"/var/lib/sealmd"
#define CONF_DEFAULT_CHROOT	"/run/sealmd/empty"
#define CONF_DEFAULT_SOCKET	"/run/sealmd/owner.sock"
#define CONF_DEFAULT_WORKER	"sealmd-worker"
#define CONF_WORKER_TLS		"sealmd-worker-tls"

#define GUARD_HEADER_NAME_MAX	GUARD_NAME_MAX
#define GUARD_HEADER_VALUE_MAX	GUARD_VALUE_MAX
#define GUARD_HOPS_MAX		255
#define GUARD_WINDOW_MAX	(366U * 86400)

/* SSRF and squatting guards of one guest section (issue 10). */
struct conf_guard {
	char		cg_header[GUARD_HEADER_NAME_MAX + 1];	/* "" = none */
	char		cg_value[GUARD_HEADER_VALUE_MAX + 1];
	int		cg_tokens;	/* GUARD_TOKENS_* */
	int		cg_hops;	/* IP_TTL for answers; 0: leave it */
	uint32_t	cg_post_window;	/* seconds; 0: no window */
};

/*
 * What a connection's identity is worth, enforced by the broker whatever
 * the worker does: idle time (no operation in flight) since its last
 * answer, total age, and operations.  By enum listener_role.
 */
struct conf_conn {
	uint32_t	cc_idle_ms;	/* 0 until conf_finish derives it */
	uint32_t	cc_life_ms;
	uint32_t	cc_requests;
};

struct conf_listen {
	char		cl_host[256];	/* literal address, no names */
	char		cl_port[8];
	int		cl_ident;	/* enum identity_mode */
	int		cl_tls;		/* c_tls index + 1; 0: plain HTTP */
	char		cl_section[64];	/* "guest" or "guest NAME" */
	char		cl_device[ADDR_IF_MAX + 1];	/* interface; "": any */
	struct conf_guard cl_guard;
};

/*
 * A certificate and its key: a [guest ...] section with tls = yes, or the
 * owner TLS listener.  A path without a leading '/' names a systemd
 * credential in $CREDENTIALS_DIRECTORY.
 */
struct conf_tls {
	char		ct_cert[PATH_MAX];
	char		ct_key[PATH_MAX];
	char		ct_ca[PATH_MAX];	/* owner: client CAs, or "" */
	int		ct_ident;		/* guests: enum identity_mode */
	int		ct_owner;
	char		ct_section[64];
};

struct config {
	char		c_path[PATH_MAX];
	char		c_state_dir[PATH_MAX];
	char		c_key_dir[PATH_MAX];	/* default: state_dir/keys */
	char		c_token_key[PATH_MAX];	/* session tokens; may be "" */
	char		c_token_key_prev[PATH_MAX];
	char		c_worker_user[64];
	char		c_chroot[PATH_MAX];
	char		c_worker_path[PATH_MAX];	/* empty: default */

	size_t			c_nlisten;
	struct conf_listen	c_listen[CONF_LISTEN_MAX];
	char		c_proxy_secret_file[PATH_MAX];

	size_t		c_ntls;
	struct conf_tls	c_tls[TLS_CTX_MAX];

	char		c_owner_socket[PATH_MAX];
	int		c_owner_tls;	/* c_tls index + 1; 0: no owner TLS */
	int		c_owner_listen;	/* c_owner_tcp is set */
	struct conf_listen c_owner_tcp;
	size_t		c_nallow_subject;
	char		c_allow_subject[CONF_ALLOW_MAX][AUTH_SUBJECT_MAX + 1];
	char		c_token_file[PATH_MAX];
	size_t		c_nallow_uid;
	uid_t		c_allow_uid[CONF_ALLOW_MAX];
	size_t		c_nallow_group;
	char		c_allow_group[CONF_ALLOW_MAX][64];

	enum store_engine c_store_engine;
	char		c_store_path[PATH_MAX];	/* state_dir/sealmd.db */
	char		c_store_conninfo[1024];	/* libpq, no password */
	uint32_t	c_pw_ttl;	/* seconds a value lives; 0: for ever */
	uint32_t	c_one_time;	/* the first owner GET also clears */
	int		c_mode;		/* PW_MODE_ESCROW or _VERIFIER */
	uint32_t	c_vops;		/* Argon2id passes */
	uint32_t	c_vmem;		/* Argon2id memory, bytes */

	uint32_t	c_max_conns;
	uint32_t	c_header_timeout_ms;
	uint32_t	c_body_timeout_ms;
	uint32_t	c_idle_timeout_ms;
	uint32_t	c_rate;		/* guest ops per second per source */
	uint32_t	c_burst;
	struct conf_conn c_conn[3];	/* by enum listener_role */

	size_t			c_ninstances;
	struct msg_instance	*c_instances;	/* seeds, calloc'd */
};

int	config_load(const char *, struct config *, char *, size_t);
void	config_free(struct config *);
const char *config_store_target(const struct config *);
const char *config_store_advice(const struct config *);

#endif
