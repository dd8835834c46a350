/* SPDX-License-Identifier: ISC */
/*
 * Sealed boxes to an instance's ssh-ed25519 key; the format is in
 * sealbox.h.  The guest seals with the public key alone, so only the
 * owner of the private key can open the value; nothing here keeps state.
 */
#include <string.h>

#include <sodium.h>

#include "client/sealbox.h"

/* The longest base64 part and its NUL. */
#define SEALBOX_B64_MAX	(SEALBOX_VALUE_MAX - SEALBOX_PREFIX_LEN + 1)

_Static_assert(SEALBOX_OVERHEAD == crypto_box_SEALBYTES, "sealbox.h");
_Static_assert(SEALBOX_PLAIN_MAX == 714, "messages and README say 714");

/*
 * Seal pt to the X25519 form of edpk and write the NUL-terminated value
 * to out.  A small-order or malformed point is refused by the conversion.
 */
int
sealbox_seal(const uint8_t edpk[SEALBOX_ED25519_PUB], const uint8_t *pt,
    size_t len, char *out, size_t outsz)
{
	uint8_t	xpk[crypto_box_PUBLICKEYBYTES];
	uint8_t	box[SEALBOX_BOX_MAX];
	size_t	boxlen = len + crypto_box_SEALBYTES;

	if (len == 0)
		return SEALBOX_EEMPTY;
	if (len > SEALBOX_PLAIN_MAX)
		return SEALBOX_ETOOLONG;
	if (outsz < SEALBOX_PREFIX_LEN +
	    sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL))
		return SEALBOX_ESPACE;
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, edpk) != 0)
		return SEALBOX_EKEY;
	if (crypto_box_seal(box, pt, len, xpk) != 0)
		return SEALBOX_EKEY;
	memcpy(out, SEALBOX_PREFIX, SEALBOX_PREFIX_LEN);
	(void)sodium_bin2base64(&out[SEALBOX_PREFIX_LEN],
	    outsz - SEALBOX_PREFIX_LEN, box, boxlen,
	    sodium_base64_VARIANT_ORIGINAL);
	return SEALBOX_OK;
}

int
sealbox_is_sealed(const struct buf *value)
{
	return buf_has_prefix(value, SEALBOX_PREFIX);
}

/*
 * Open a value (exactly its bytes: the caller trims any newline) with the
 * Ed25519 secret key edsk.  The base64 must be canonical: padded, with
 * zero spare bits and nothing around it.
 */
int
sealbox_open(const struct buf *value,
    const uint8_t edsk[SEALBOX_ED25519_PRIV], uint8_t *pt, size_t ptsz,
    size_t *ptlen)
{
	struct buf	v = *value;
	char		b64[SEALBOX_B64_MAX];
	uint8_t		box[SEALBOX_BOX_MAX];
	uint8_t		xsk[crypto_box_SECRETKEYBYTES];
	uint8_t		xpk[crypto_box_PUBLICKEYBYTES];
	size_t		boxlen;
	int		rv = SEALBOX_EOPEN;

	if (!sealbox_is_sealed(&v) || buf_skip(&v, SEALBOX_PREFIX_LEN) == -1 ||
	    buf_copy_str(&v, b64, sizeof(b64)) == -1 ||
	    sodium_base642bin(box, sizeof(box), b64, strlen(b64), NULL,
	    &boxlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    boxlen <= crypto_box_SEALBYTES)
		return SEALBOX_EFORMAT;
	if (ptsz < boxlen - crypto_box_SEALBYTES)
		return SEALBOX_ESPACE;
	if (crypto_sign_ed25519_sk_to_curve25519(xsk, edsk) != 0 ||
	    crypto_scalarmult_curve25519_base(xpk, xsk) != 0) {
		rv = SEALBOX_EKEY;
		goto out;
	}
	if (crypto_box_seal_open(pt, box, boxlen, xpk, xsk) != 0)
		goto out;
	*ptlen = boxlen - crypto_box_SEALBYTES;
	rv = SEALBOX_OK;
 out:
	sodium_memzero(xsk, sizeof(xsk));
	return rv;
}

const char *
sealbox_strerror(int e)
{
	switch (e) {
	case SEALBOX_OK:
		return "success";
	case SEALBOX_EEMPTY:
		return "the password is empty";
	case SEALBOX_ETOOLONG:
		return "the password is longer than 714 bytes, the most a "
		    "sealed value of 1020 bytes holds";
	case SEALBOX_EKEY:
		return "not a usable Ed25519 key";
	case SEALBOX_EFORMAT:
		return "not a sealed value (sx1: and canonical base64 of at "
		    "least 49 bytes)";
	case SEALBOX_EOPEN:
		return "cannot open the sealed value: wrong key, or the value "
		    "was altered";
	case SEALBOX_ESPACE:
		return "output buffer too small";
	}
	return "unknown error";
}
