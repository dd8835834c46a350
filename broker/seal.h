/* SPDX-License-Identifier: ISC */
/*
 * Sealing of password chunks: XChaCha20-Poly1305-IETF, one seal per chunk.
 * The associated data binds a format tag, the instance id, the chunk
 * index, the chunk count, the key id, and (format v2) the value's kind
 * and set_at, so no chunk can be moved to another instance or slot, and
 * no value can pass for a verifier, or live longer, by a change of its
 * row.  Chunks sealed as v1 still open; a rewrap seals them as v2.
 */
#ifndef SEALMD_SEAL_H
#define SEALMD_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store/store.h"

#define SEAL_FORMAT_TAG		"sealmd-chunk-v1"
#define SEAL_FORMAT_TAG_V2	"sealmd-chunk-v2"

int	seal_init(void);
int	seal_chunk(const struct keyring *, const char *, uint8_t, uint8_t,
	    uint32_t, int64_t, const uint8_t *, size_t, struct store_sealed *);
int	seal_value(const struct keyring *, const char *, const uint8_t *,
	    size_t, uint32_t, struct store_pw *);
int	seal_open(const struct keyring *, const char *, uint8_t, uint8_t,
	    uint32_t, int64_t, const struct store_sealed *, uint8_t *,
	    size_t *);
const char	*seal_why(const struct keyring *, const struct store_sealed *);
int	seal_fingerprint(const struct keyring *, const uint8_t *, size_t,
	    uint8_t [FP_LEN]);

#endif
