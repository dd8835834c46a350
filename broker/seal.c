/*
 * Chunk sealing with XChaCha20-Poly1305-IETF and the audit fingerprint.
 * Nothing here logs a value, a key or a ciphertext.
 */
#include <string.h>

#include <sodium.h>

#include "seal.h"

#define SEAL_ID_MAX	64
#define SEAL_AD_MAX	(sizeof(SEAL_FORMAT_TAG) - 1 + 1 + SEAL_ID_MAX + \
			    1 + 1 + 4)
#define SEAL_FP_CONTEXT	"sealmd-fingerprint-v1"

static int	seal_ad(uint8_t *, size_t *, const char *, uint8_t, uint8_t,
		    uint32_t);

/*
 * AD = tag || u8 idlen || id || u8 index || u8 count || u32be key id.
 * The length prefix keeps "ab" + index 0x63 apart from "abc".
 */
static int
seal_ad(uint8_t *ad, size_t *adlen, const char *id, uint8_t index,
    uint8_t count, uint32_t key_id)
{
	size_t	idlen, n = 0;

	idlen = strnlen(id, SEAL_ID_MAX + 1);
	if (idlen > SEAL_ID_MAX)
		return -1;
	memcpy(ad, SEAL_FORMAT_TAG, sizeof(SEAL_FORMAT_TAG) - 1);
	n += sizeof(SEAL_FORMAT_TAG) - 1;
	ad[n++] = (uint8_t)idlen;
	memcpy(ad + n, id, idlen);
	n += idlen;
	ad[n++] = index;
	ad[n++] = count;
	ad[n++] = (uint8_t)(key_id >> 24);
	ad[n++] = (uint8_t)(key_id >> 16);
	ad[n++] = (uint8_t)(key_id >> 8);
	ad[n++] = (uint8_t)key_id;
	*adlen = n;
	return 0;
}

int
seal_init(void)
{
	if (sodium_init() == -1)
		return -1;
	return 0;
}

int
seal_chunk(const struct keyring *kr, const char *id, uint8_t index,
    uint8_t count, const uint8_t *plain, size_t len, struct store_sealed *out)
{
	const struct key	*k;
	const uint8_t		*kb;
	uint8_t			 ad[SEAL_AD_MAX];
	unsigned long long	 clen;
	size_t			 adlen;
	int			 r;

	memset(out, 0, sizeof(*out));
	if (len > PW_CHUNK_LEN || count == 0 || count > PW_CHUNKS ||
	    index >= count)
		return -1;
	if ((k = keyring_newest(kr)) == NULL)
		return -1;
	if (seal_ad(ad, &adlen, id, index, count, k->k_id) == -1)
		return -1;
	out->ss_key_id = k->k_id;
	randombytes_buf(out->ss_nonce, sizeof(out->ss_nonce));
	kb = key_open(k);
	r = crypto_aead_xchacha20poly1305_ietf_encrypt(out->ss_ct, &clen,
	    plain, len, ad, adlen, NULL, out->ss_nonce, kb);
	key_close(k);
	if (r != 0 || clen != len + SEAL_TAG_LEN) {
		sodium_memzero(out, sizeof(*out));
		return -1;
	}
	out->ss_len = (uint32_t)clen;
	return 0;
}

int
seal_open(const struct keyring *kr, const char *id, uint8_t index,
    uint8_t count, const struct store_sealed *in, uint8_t *plain,
    size_t *len)
{
	const struct key	*k;
	const uint8_t		*kb;
	uint8_t			 ad[SEAL_AD_MAX];
	unsigned long long	 mlen;
	size_t			 adlen;
	int			 r;

	*len = 0;
	if (count == 0 || count > PW_CHUNKS || index >= count)
		return -1;
	if (in->ss_len < SEAL_TAG_LEN ||
	    in->ss_len > PW_CHUNK_LEN + SEAL_TAG_LEN)
		return -1;
	if ((k = keyring_find(kr, in->ss_key_id)) == NULL)
		return -1;
	if (seal_ad(ad, &adlen, id, index, count, k->k_id) == -1)
		return -1;
	kb = key_open(k);
	r = crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &mlen, NULL,
	    in->ss_ct, in->ss_len, ad, adlen, in->ss_nonce, kb);
	key_close(k);
	if (r != 0) {
		sodium_memzero(plain, in->ss_len - SEAL_TAG_LEN);
		return -1;
	}
	*len = (size_t)mlen;
	return 0;
}

/* Why a chunk seal_open refused does not open, for the log. */
const char *
seal_why(const struct keyring *kr, const struct store_sealed *in)
{
	return keyring_find(kr, in->ss_key_id) == NULL ?
	    "its key is not in the ring" :
	    "altered, or its key file changed";
}

/*
 * The fingerprint key is derived from, not equal to, the sealing key, so
 * a fingerprint in the audit log says nothing usable about the key.
 */
int
seal_fingerprint(const struct keyring *kr, const uint8_t *value, size_t len,
    uint8_t out[FP_LEN])
{
	const struct key	*k;
	const uint8_t		*kb;
	uint8_t			 fpkey[crypto_generichash_BYTES];
	uint8_t			 h[crypto_generichash_BYTES];
	int			 r;

	if ((k = keyring_newest(kr)) == NULL)
		return -1;
	kb = key_open(k);
	r = crypto_generichash(fpkey, sizeof(fpkey),
	    (const uint8_t *)SEAL_FP_CONTEXT, sizeof(SEAL_FP_CONTEXT) - 1,
	    kb, KEY_LEN);
	key_close(k);
	if (r == 0)
		r = crypto_generichash(h, sizeof(h), value, len, fpkey,
		    sizeof(fpkey));
	if (r == 0)
		memcpy(out, h, FP_LEN);
	sodium_memzero(fpkey, sizeof(fpkey));
	sodium_memzero(h, sizeof(h));
	return r == 0 ? 0 : -1;
}
