/* SPDX-License-Identifier: ISC */
/*
 * The sizes of what sealmd keeps: Nova's password layout and an instance
 * registration's fields.  The worker checks requests against them, the
 * channel's messages (msg.h) and the broker's store (broker/store/) are
 * laid out by them, so that a registration fits either way.
 */
#ifndef SEALMD_SIZES_H
#define SEALMD_SIZES_H

/* Nova's password layout (nova/api/metadata/password.py). */
#define PW_CHUNKS		4
#define PW_CHUNK_LEN		255
#define PW_MAX			(PW_CHUNKS * PW_CHUNK_LEN)	/* 1020 */
#define PW_DIGEST_LEN		32	/* BLAKE2b-256 of the whole value */

#define ID_LEN			36	/* canonical lowercase uuid */
#define PROJECT_MAX		64
#define HOSTNAME_MAX		255
/*
 * A registered address: IP[%IFNAME][@NET].  A link-local IPv6 address
 * names its interface; NET names the [guest NET] section it belongs to.
 */
#define ADDR_IP_MAX		45	/* INET6_ADDRSTRLEN - 1 */
#define ADDR_IF_MAX		15	/* IFNAMSIZ - 1 */
#define ADDR_NET_MAX		32
#define ADDR_MAX		(ADDR_IP_MAX + ADDR_IF_MAX + ADDR_NET_MAX + 2)
#define INST_ADDRS_MAX		8
#define KEYNAME_MAX		64
#define KEYDATA_MAX		2048
#define INST_KEYS_MAX		4
#define LIST_MAX		64	/* registrations on a listing page */

/* How a registration keeps its password. */
#define PW_MODE_DEFAULT		0
#define PW_MODE_ESCROW		1	/* Nova's: the value, sealed */
#define PW_MODE_VERIFIER	2	/* an Argon2id verifier only */

#define PW_TTL_MAX	(10 * 366 * 86400)

#endif
