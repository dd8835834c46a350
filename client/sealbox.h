/* SPDX-License-Identifier: ISC */
/*
 * The sealed-box value format (README, "Ed25519 and the sealed-box
 * format"):
 *
 *	"sx1:" base64(crypto_box_seal(password, X25519(ed25519 public key)))
 *
 * base64 is the standard alphabet, padded, on one line.  The whole value
 * fits Nova's 1020-byte limit on a posted password, which bounds the
 * password to SEALBOX_PLAIN_MAX bytes.  RSA values (base64 alone) never
 * hold a ':', so the prefix alone tells the two formats apart.
 */
#ifndef SEALMD_SEALBOX_H
#define SEALMD_SEALBOX_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define SEALBOX_PREFIX		"sx1:"
#define SEALBOX_PREFIX_LEN	4
#define SEALBOX_VALUE_MAX	1020	/* Nova's limit on a posted value */
#define SEALBOX_OVERHEAD	48	/* crypto_box_SEALBYTES */
/* 1016 base64 characters carry 762 bytes: box <= 762, password <= 714. */
#define SEALBOX_BOX_MAX \
	((SEALBOX_VALUE_MAX - SEALBOX_PREFIX_LEN) / 4 * 3)
#define SEALBOX_PLAIN_MAX	(SEALBOX_BOX_MAX - SEALBOX_OVERHEAD)
#define SEALBOX_ED25519_PUB	32
#define SEALBOX_ED25519_PRIV	64	/* seed || public key, as libsodium */

enum sealbox_err {
	SEALBOX_OK = 0,
	SEALBOX_EEMPTY,		/* an empty password */
	SEALBOX_ETOOLONG,	/* password over SEALBOX_PLAIN_MAX */
	SEALBOX_EKEY,		/* not a usable Ed25519 key */
	SEALBOX_EFORMAT,	/* no prefix, bad base64, bad length */
	SEALBOX_EOPEN,		/* wrong key or altered value */
	SEALBOX_ESPACE		/* caller's buffer too small */
};

int		 sealbox_seal(const uint8_t [SEALBOX_ED25519_PUB],
		    const uint8_t *, size_t, char *, size_t);
int		 sealbox_is_sealed(const struct buf *);
int		 sealbox_open(const struct buf *,
		    const uint8_t [SEALBOX_ED25519_PRIV], uint8_t *, size_t,
		    size_t *);
const char	*sealbox_strerror(int);

#endif
