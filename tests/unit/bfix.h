/* SPDX-License-Identifier: ISC */
/*
 * A broker for unit tests: the real broker code less its event loop, the
 * worker's process and the sandbox, with a SQLite store, a key ring and a
 * proxy secret in a directory of its own, listeners of every kind and a
 * connection open on each.  The test is the worker: bfix_send() hands
 * ops_dispatch one message over a socketpair, as broker_read_chan does,
 * and returns the answer, or notes that the worker was killed for it.
 * tests/fuzz/fuzz_chan.c builds the same broker for the fuzzer.
 */
#ifndef SEALMD_TEST_BFIX_H
#define SEALMD_TEST_BFIX_H

#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"

#define BFIX_SECRET	"unit-proxy-secret"
#define BFIX_SUBJECT	"CN=unit-owner"	/* a client certificate allowed */
#define BFIX_NET	"prov"		/* the named direct network */
#define BFIX_IF		"eth1"		/* a link-local guest's interface */

enum bfix_listener {
	BFIX_L_PROXY,		/* proxy identity, no tokens */
	BFIX_L_DIRECT,		/* direct identity, tokens optional */
	BFIX_L_PROXY_TOKENS,	/* proxy identity, tokens required */
	BFIX_L_DIRECT_NET,	/* direct identity, [guest prov], no tokens */
	BFIX_L_OWNER,
	BFIX_L_N
};

/* Connections, by slot; a live id is 1 << 16 | slot. */
enum bfix_conn {
	BFIX_C_PROXY,		/* guest on BFIX_L_PROXY */
	BFIX_C_DIRECT,		/* guest on BFIX_L_DIRECT, 10.0.0.5 */
	BFIX_C_OWNER,		/* owner, root: allowed by SO_PEERCRED */
	BFIX_C_DENIED,		/* owner, uid 65533: not allowed */
	BFIX_C_PROXY_TOKENS,	/* guest on BFIX_L_PROXY_TOKENS */
	BFIX_C_OWNER_TLS,	/* owner over TLS, not yet authenticated */
	BFIX_C_DIRECT_NET,	/* guest on BFIX_L_DIRECT_NET */
	BFIX_C_N
};
#define BFIX_SLOTS	40	/* max_conns guests + BROKER_OWNER_CONNS */
#define BFIX_ID(slot)	(1U << 16 | (uint32_t)(slot))

/* What the worker gets back for one message. */
struct bfix_ans {
	int		ba_killed;	/* supervise_kill: a violation */
	char		ba_why[256];	/* its reason */
	int		ba_answered;
	uint32_t	ba_type;
	uint32_t	ba_status;	/* the answer's first field */
	size_t		ba_len;
	uint8_t		ba_data[CHAN_MAX_PAYLOAD];
};

/* Called with the worker's socket as each turn ends, before its flush. */
extern void		(*bfix_turn_check)(int);

extern struct broker	bfix_b;
extern struct config	bfix_conf;
extern char		bfix_dir[];

void		 bfix_setup(void);
void		 bfix_teardown(void);
void		 bfix_conns_reset(void);
struct bconn	*bfix_conn(enum bfix_conn);
void		 bfix_register(const char *, const char *, const char *,
		    const char *);
void		 bfix_sign(const char *, char *);
void		 bfix_write(const char *, const void *, size_t);
void		 bfix_guest(struct msg_guest *, const char *, const char *,
		    int);
void		 bfix_send(uint32_t, uint32_t, const void *, size_t,
		    struct bfix_ans *);
void		 bfix_frame(uint32_t, uint32_t, const void *, size_t);
int		 bfix_take(struct bfix_ans *);

#endif
