/* SPDX-License-Identifier: ISC */
/*
 * The broker that fuzz_chan.c builds and the layout of its inputs, shared
 * with gen_chan_seeds.c, which writes the seed corpus from them.
 *
 * Byte 0 of an input:
 *   bit 0 clear: the rest is one frame, header and payload, sent as is;
 *   bit 0 set: the rest is messages, each
 *	[type index][connection index][flags][request id, u32 LE][payload]
 *	where the payload is exactly the type's size (zero-padded when the
 *	input ends early) and the header is written to match;
 *   FZC_S_* bits: the worker state the broker is in.
 * In the raw form, FZC_F_FD in byte 0 attaches a fd to the frame.
 *
 * fzc_types mirrors the broker's ops_table, and MSG_REPORTS, which
 * broker_read_chan takes before it: a type the worker may send that is
 * missing here is reached only through the raw form.
 */
#ifndef SEALMD_FUZZ_CHAN_H
#define SEALMD_FUZZ_CHAN_H

#include <stdint.h>

#include "privsep/msg.h"

#define FZC_MESSAGES	0x01
#define FZC_S_STARTING	0x02	/* no MSG_INIT_DONE yet */
#define FZC_S_STOPPING	0x04	/* MSG_SHUTDOWN was sent */

/* Per-message flags: fix-ups that keep mutated messages well-formed. */
#define FZC_F_STRS	0x01	/* NUL-terminate every string field */
#define FZC_F_SIG	0x02	/* sign mg_instance with FZC_SECRET */
#define FZC_F_LENS	0x04	/* in range: chunks, verify, reports */
#define FZC_F_DIGEST	0x08	/* the digest of the chunks */
#define FZC_F_FD	0x10	/* attach a fd, which the broker must close */
#define FZC_F_TOKEN	0x20	/* mg_token: the last token issued */

#define FZC_MSG_HDR	7	/* type, connection, flags, request id */

/* The proxy secret, the registrations and the password that exist. */
#define FZC_SECRET	"fuzz-proxy-secret"
#define FZC_ID_A	"6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b"
#define FZC_PROJECT_A	"proj-a"
#define FZC_ADDR_A	"10.0.0.5"
#define FZC_PW_A	"c2VhbGVkIHNlZWQgcGFzc3dvcmQ="
#define FZC_ID_B	"0b5e2c3d-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
#define FZC_PROJECT_B	"proj-b"
#define FZC_ADDR_B	"fd00::b"
#define FZC_PING_ID	7	/* the ping the broker waits on */
#define FZC_SUBJECT	"CN=fuzz-owner"	/* a client certificate allowed */

/* Listeners: session tokens off, optional and required. */
enum fzc_listener {
	FZC_L_PROXY,		/* proxy identity, no tokens */
	FZC_L_DIRECT,		/* direct identity, tokens optional */
	FZC_L_PROXY_TOKENS,	/* proxy identity, tokens required */
	FZC_L_OWNER,
	FZC_L_N
};

/* Connections, by slot; a live id is 1 << 16 | slot. */
enum fzc_conn {
	FZC_C_PROXY,		/* guest on FZC_L_PROXY */
	FZC_C_DIRECT,		/* guest on FZC_L_DIRECT, from FZC_ADDR_A */
	FZC_C_STRANGER,		/* same, from an unregistered address */
	FZC_C_OWNER,		/* owner, allowed by SO_PEERCRED */
	FZC_C_DENIED,		/* owner, not allowed */
	FZC_C_PROXY_TOKENS,	/* guest on FZC_L_PROXY_TOKENS */
	FZC_C_OWNER_TLS,	/* owner over TLS, not yet authenticated */
	FZC_C_N
};
#define FZC_SLOTS	40	/* max_conns guests + BROKER_OWNER_CONNS */
#define FZC_CONN_ID(slot)	(1U << 16 | (uint32_t)(slot))

/* Connection index: the live ones first, then ids the broker must refuse. */
static const uint32_t fzc_conn_ids[] = {
	FZC_CONN_ID(FZC_C_PROXY), FZC_CONN_ID(FZC_C_DIRECT),
	FZC_CONN_ID(FZC_C_STRANGER), FZC_CONN_ID(FZC_C_OWNER),
	FZC_CONN_ID(FZC_C_DENIED), FZC_CONN_ID(FZC_C_PROXY_TOKENS),
	FZC_CONN_ID(FZC_C_OWNER_TLS),
	0,				/* none */
	2U << 16 | FZC_C_OWNER,		/* an old generation of a live slot */
	FZC_CONN_ID(FZC_SLOTS - 1),	/* a free slot */
	FZC_CONN_ID(FZC_SLOTS),		/* past the table */
	0xffffffff,
};
#define FZC_NCONN_IDS	(sizeof(fzc_conn_ids) / sizeof(fzc_conn_ids[0]))

/* Type index: what the worker may send, then what it may not. */
static const struct {
	uint32_t	ft_type;
	uint32_t	ft_size;
} fzc_types[] = {
	{ MSG_INIT_DONE, 0 },
	{ MSG_PONG, 0 },
	{ MSG_CONN_DONE, 0 },
	{ MSG_GUEST_IDENT, sizeof(struct msg_guest) },
	{ MSG_GUEST_META, sizeof(struct msg_guest) },
	{ MSG_GUEST_PW_GET, sizeof(struct msg_guest) },
	{ MSG_GUEST_PW_PUT, sizeof(struct msg_guest_pw_put) },
	{ MSG_GUEST_TOKEN, sizeof(struct msg_guest_token) },
	{ MSG_OWNER_INST_PUT, sizeof(struct msg_instance) },
	{ MSG_OWNER_INST_GET, sizeof(struct msg_id) },
	{ MSG_OWNER_INST_DEL, sizeof(struct msg_id) },
	{ MSG_OWNER_INST_LIST, sizeof(struct msg_list) },
	{ MSG_OWNER_PW_GET, sizeof(struct msg_pw_get) },
	{ MSG_OWNER_PW_DEL, sizeof(struct msg_id) },
	{ MSG_OWNER_STATUS, 0 },
	{ MSG_OWNER_METRICS, 0 },
	{ MSG_OWNER_KEYS, 0 },
	{ MSG_OWNER_PW_VERIFY, sizeof(struct msg_pw_verify) },
	{ MSG_OWNER_KEY_ROTATE, 0 },
	{ MSG_OWNER_KEY_REWRAP, 0 },
	{ MSG_OWNER_KEY_RETIRE, sizeof(struct msg_key_id) },
	{ MSG_OWNER_AUTH, sizeof(struct msg_owner_auth) },
	{ MSG_REPORTS, sizeof(struct msg_reports) },
	{ MSG_INIT, sizeof(struct msg_init) },
	{ MSG_CONN_NEW, sizeof(struct msg_conn_new) },
	{ MSG_GUEST_IDENT_ANS, sizeof(struct msg_status) },
	{ MSG_SHUTDOWN_ACK, 0 },
	{ MSG_TYPE_MAX, 0 },
};
#define FZC_NTYPES	(sizeof(fzc_types) / sizeof(fzc_types[0]))

#endif
