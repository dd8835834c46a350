/*
 * Sealing of password chunks: XChaCha20-Poly1305-IETF, one seal per chunk.
 * The associated data binds a format tag, the instance id, the chunk
 * index, the chunk count and the key id, so no chunk can be moved to
 * another instance or slot.
 */
#ifndef SEALMD_SEAL_H
#define SEALMD_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store.h"

#define SEAL_FORMAT_TAG	"sealmd-chunk-v1"

int	seal_init(void);
int	seal_chunk(const struct keyring *, const char *, uint8_t, uint8_t,
	    const uint8_t *, size_t, struct store_sealed *);
int	seal_open(const struct keyring *, const char *, uint8_t, uint8_t,
	    const struct store_sealed *, uint8_t *, size_t *);
const char	*seal_why(const struct keyring *, const struct store_sealed *);
int	seal_fingerprint(const struct keyring *, const uint8_t *, size_t,
	    uint8_t [FP_LEN]);

#endif
