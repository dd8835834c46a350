/*
 * Session tokens in the style of IMDSv2.  A token is 32 random bytes
 * (base64url) given to one guest identity for a TTL.  The broker keeps
 * only a keyed hash of it, in a fixed-size table in memory.
 *
 * An identity's tokens live in one window of TOKENS_PROBE slots, chosen
 * by a keyed hash of the identity, and it holds at most TOKENS_PER_ID of
 * them: a guest that asks for more replaces its own, never another's.
 */
#ifndef SEALMD_TOKENS_H
#define SEALMD_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define TOKENS_SLOTS	16384
#define TOKENS_PROBE	16
#define TOKENS_PER_ID	8

void	tokens_init(void);
int	tokens_issue(const char *, uint32_t, uint64_t, char *, size_t);
int	tokens_check(const char *, const char *, uint64_t);

#endif
