/* SPDX-License-Identifier: ISC */
/*
 * Session tokens in the style of IMDSv2, stateless: a token carries its
 * expiry and a MAC over that expiry, the listener's identity class and
 * the identity it is bound to, under a key every node shares.  Any node
 * with the key verifies a token; nothing is kept per token.
 *
 * A token is base64url (no padding) of 45 bytes: version (1), key id
 * (4), expiry in ms since the epoch (8, big-endian), MAC (32).
 */
#ifndef SEALMD_TOKENS_H
#define SEALMD_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define TOKENS_KEY_MIN	32	/* bytes in a token key file */

#define TOKENS_DESCR_MAX	96

struct tokens_ring;

void	tokens_init(void);
int	tokens_keys(const uint8_t *, size_t, const uint8_t *, size_t,
	    struct tokens_ring **, char *, size_t);
void	tokens_commit(struct tokens_ring *);
void	tokens_discard(struct tokens_ring *);
void	tokens_describe(char *, size_t);
int	tokens_issue(int, const char *, uint32_t, uint64_t, char *, size_t);
int	tokens_check(const char *, int, const char *, uint64_t);

#endif
