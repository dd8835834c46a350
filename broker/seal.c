/* SPDX-License-Identifier: ISC */
/*
 * Chunk sealing with XChaCha20-Poly1305-IETF and the audit fingerprint.
 * Nothing here logs a value, a key or a ciphertext.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "seal.h"

#define SEAL_ID_MAX	64
#define SEAL_AD_MAX	(sizeof(SEAL_FORMAT_TAG_V2) - 1 + 1 + SEAL_ID_MAX + \
			    1 + 1 + 4 + 4 + 8)
#define SEAL_FP_CONTEXT	"sealmd-fingerprint-v1"
#define SEAL_NONCES	10	/* 240 bytes: one getrandom in libsodium */

struct seal_for {
	const char	*sf_id;
	uint8_t		 sf_index;
	uint8_t		 sf_count;
	uint32_t	 sf_kind;
	int64_t		 sf_set_at;
};

static int	seal_ad(uint8_t *, size_t *, uint32_t, const struct seal_for *,
		    uint32_t);
static void	seal_be(uint8_t *, size_t *, uint64_t, size_t);
static void	seal_nonce(uint8_t [SEAL_NONCE_LEN]);
static void	seal_nonce_fork(void);

/*
 * Random nonces, SEAL_NONCES to a randombytes_buf call rather than one
 * (a getrandom system call each, on Linux).  Each byte of the pool is
 * the kernel's CSPRNG output, as before, and is handed out once: the
 * index only moves forward, each thread has its own pool, and a forked
 * child drops the copy it inherited.  So no two seals share a nonce.
 * A nonce is no secret (it is stored beside its ciphertext), nor is one
 * not yet used.
 */
static _Thread_local uint8_t	seal_nonces[SEAL_NONCES][SEAL_NONCE_LEN];
static _Thread_local size_t	seal_nonce_next = SEAL_NONCES;
static int			seal_forks;	/* seal_nonce_fork is set */

static void
seal_nonce(uint8_t nonce[SEAL_NONCE_LEN])
{
	if (seal_nonce_next >= SEAL_NONCES) {
		randombytes_buf(seal_nonces, sizeof(seal_nonces));
		seal_nonce_next = 0;
	}
	memcpy(nonce, seal_nonces[seal_nonce_next++], SEAL_NONCE_LEN);
}

/* In the child, in the thread that forked: the only one there. */
static void
seal_nonce_fork(void)
{
	seal_nonce_next = SEAL_NONCES;
}

/* v bytes of big-endian x at ad + *n. */
static void
seal_be(uint8_t *ad, size_t *n, uint64_t x, size_t v)
{
	while (v-- > 0)
		ad[(*n)++] = (uint8_t)(x >> (8 * v));
}

/*
 * v1: AD = "sealmd-chunk-v1" || u8 idlen || id || u8 index || u8 count ||
 * u32be key id.  v2: "sealmd-chunk-v2" || the same || u32be kind ||
 * i64be set_at.  The length prefix keeps "ab" + index 0x63 apart from
 * "abc".
 */
static int
seal_ad(uint8_t *ad, size_t *adlen, uint32_t format, const struct seal_for *f,
    uint32_t key_id)
{
	const char	*tag;
	size_t		 idlen, n = 0;

	if (format == SEAL_FORMAT_V1)
		tag = SEAL_FORMAT_TAG;
	else if (format == SEAL_FORMAT_V2)
		tag = SEAL_FORMAT_TAG_V2;
	else
		return -1;
	idlen = strnlen(f->sf_id, SEAL_ID_MAX + 1);
	if (idlen > SEAL_ID_MAX)
		return -1;
	memcpy(ad, tag, strlen(tag));
	n += strlen(tag);
	ad[n++] = (uint8_t)idlen;
	memcpy(ad + n, f->sf_id, idlen);
	n += idlen;
	ad[n++] = f->sf_index;
	ad[n++] = f->sf_count;
	seal_be(ad, &n, key_id, 4);
	if (format == SEAL_FORMAT_V2) {
		seal_be(ad, &n, f->sf_kind, 4);
		seal_be(ad, &n, (uint64_t)f->sf_set_at, 8);
	}
	*adlen = n;
	return 0;
}

int
seal_init(void)
{
	if (sodium_init() == -1)
		return -1;
	/* At start, before any thread: once for good. */
	if (!seal_forks && pthread_atfork(NULL, NULL, seal_nonce_fork) != 0)
		return -1;
	seal_forks = 1;
	return 0;
}

/* Always as the newest format, with the newest key. */
int
seal_chunk(const struct keyring *kr, const char *id, uint8_t index,
    uint8_t count, uint32_t kind, int64_t set_at, const uint8_t *plain,
    size_t len, struct store_sealed *out)
{
	const struct seal_for	 f = { id, index, count, kind, set_at };
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
	if (seal_ad(ad, &adlen, SEAL_FORMAT_V2, &f, k->k_id) == -1)
		return -1;
	out->ss_format = SEAL_FORMAT_V2;
	out->ss_key_id = k->k_id;
	seal_nonce(out->ss_nonce);
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

/*
 * A whole value, as its chunks, set now; the writer commits them all, or
 * none (set-once).
 */
int
seal_value(const struct keyring *kr, const char *id, const uint8_t *value,
    size_t len, uint32_t kind, struct store_pw *sp)
{
	size_t	i, n;
	int	r = 0;

	memset(sp, 0, sizeof(*sp));
	sp->sp_nchunks = (uint32_t)((len + PW_CHUNK_LEN - 1) / PW_CHUNK_LEN);
	sp->sp_kind = kind;
	sp->sp_set_at = (int64_t)time(NULL);
	if (sp->sp_nchunks == 0 || sp->sp_nchunks > PW_CHUNKS)
		return -1;
	for (i = 0; i < sp->sp_nchunks && r == 0; i++) {
		n = len - i * PW_CHUNK_LEN < PW_CHUNK_LEN ?
		    len - i * PW_CHUNK_LEN : PW_CHUNK_LEN;
		r = seal_chunk(kr, id, (uint8_t)i, (uint8_t)sp->sp_nchunks,
		    sp->sp_kind, sp->sp_set_at, value + i * PW_CHUNK_LEN, n,
		    &sp->sp_chunk[i]);
	}
	if (r == 0)
		r = seal_fingerprint(kr, value, len, sp->sp_fp);
	return r;
}

int
seal_open(const struct keyring *kr, const char *id, uint8_t index,
    uint8_t count, uint32_t kind, int64_t set_at,
    const struct store_sealed *in, uint8_t *plain, size_t *len)
{
	const struct seal_for	 f = { id, index, count, kind, set_at };
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
	if (seal_ad(ad, &adlen, in->ss_format, &f, k->k_id) == -1)
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
