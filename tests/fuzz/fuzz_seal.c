/* SPDX-License-Identifier: ISC */
/*
 * broker/seal.c.  A record built from input bytes must never open: the
 * key ring is made of fresh random keys at every start, so no input can
 * hold a real seal.  Then the round trip: the first bytes sealed with the
 * input's id, index and count open to exactly themselves, and the same
 * record with any one thing changed (a byte, the length, the key id, the
 * id, the index, the count) no longer opens.
 *
 * Input: index, count, id length, the id, then the record: key id (4),
 * nonce (24), length (4), ciphertext (the rest, zero-padded); the tamper
 * choice is taken from the record's first bytes.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "broker/keys.h"
#include "broker/seal.h"
#include "tests/fuzz/common.h"

#define FS_ID_MAX	80	/* past seal.c's 64, to reach its refusal */
#define FS_KIND(count)	((uint32_t)(count) & 1)	/* value or verifier */
#define FS_SET_AT	INT64_C(1700000000)

static struct keyring	fs_kr;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir = fuzz_tmpdir("seal");
	char		 path[PATH_MAX], err[256];
	uint8_t		 key[KEY_LEN];
	int		 id;

	(void)argc;
	(void)argv;
	if (seal_init() == -1)
		fuzz_fail(__FILE__, __LINE__, "seal_init");
	/* Two keys, so that a record names which one opens it. */
	for (id = 1; id <= 2; id++) {
		randombytes_buf(key, sizeof(key));
		(void)snprintf(path, sizeof(path), "%s/%d", dir, id);
		fuzz_write_file(path, key, sizeof(key));
	}
	sodium_memzero(key, sizeof(key));
	if (keyring_load(&fs_kr, dir, "", err, sizeof(err)) == -1)
		fuzz_fail(__FILE__, __LINE__, "keyring_load: %s", err);
	return 0;
}

static uint32_t
fs_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The one change how makes to a good record; it must then fail. */
static void
fs_tamper(const struct store_sealed *good, const char *id, uint8_t index,
    uint8_t count, uint8_t how, uint8_t at, uint8_t x)
{
	struct store_sealed	s = *good;
	uint32_t		kind = FS_KIND(count);
	int64_t			set_at = FS_SET_AT;
	char			tid[FS_ID_MAX + 1];
	uint8_t			plain[PW_CHUNK_LEN + SEAL_TAG_LEN];
	size_t			len, idlen = strlen(id);

	/* x is never 0, so every change changes something. */
	x = x == 0 ? 1 : x;
	memset(tid, 0, sizeof(tid));
	memcpy(tid, id, idlen);
	switch (how % 10) {
	case 0:
		s.ss_ct[at % s.ss_len] ^= x;
		break;
	case 1:
		s.ss_nonce[at % sizeof(s.ss_nonce)] ^= x;
		break;
	case 2:
		s.ss_len ^= x;
		break;
	case 3:
		s.ss_key_id = s.ss_key_id == 1 ? 2 : 1;
		break;
	case 4:
		if (idlen == 0)
			tid[0] = (char)x;
		else
			tid[at % idlen] ^= (char)x;
		break;
	case 5:
		index ^= x;
		break;
	case 6:
		count ^= x;
		break;
	case 7:
		kind ^= 1;
		break;
	case 8:
		set_at ^= x;
		break;
	case 9:
		s.ss_format = x == SEAL_FORMAT_V2 ? SEAL_FORMAT_V1 : x;
		break;
	}
	FUZZ_CHECK(seal_open(&fs_kr, tid, index, count, kind, set_at, &s, plain,
	    &len) == -1, "a record opened after change %d", how % 10);
	FUZZ_CHECK(len == 0, "failed open left length %zu", len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_sealed	 rec, good;
	char			 id[FS_ID_MAX + 1];
	uint8_t			 plain[PW_CHUNK_LEN + SEAL_TAG_LEN];
	uint8_t			 index, count, idlen;
	size_t			 len, n, pos, ptlen;
	const uint8_t		*r;
	int			 ok;

	if (size < 3)
		return 0;
	index = data[0];
	count = data[1];
	idlen = (uint8_t)(data[2] % (FS_ID_MAX + 1));
	pos = 3;
	n = size - pos < idlen ? size - pos : idlen;
	memset(id, 0, sizeof(id));
	memcpy(id, data + pos, n);
	pos += n;

	/* An arbitrary record never opens. */
	memset(&rec, 0, sizeof(rec));
	r = data + pos;
	n = size - pos;
	if (n >= 4)
		rec.ss_key_id = fs_u32(r);
	if (n >= 4 + SEAL_NONCE_LEN)
		memcpy(rec.ss_nonce, r + 4, SEAL_NONCE_LEN);
	if (n >= 8 + SEAL_NONCE_LEN)
		rec.ss_len = fs_u32(r + 4 + SEAL_NONCE_LEN);
	if (n > 8 + SEAL_NONCE_LEN)
		memcpy(rec.ss_ct, r + 8 + SEAL_NONCE_LEN,
		    n - 8 - SEAL_NONCE_LEN < sizeof(rec.ss_ct) ?
		    n - 8 - SEAL_NONCE_LEN : sizeof(rec.ss_ct));
	rec.ss_format = SEAL_FORMAT_V1 + (index & 1);
	len = 1;
	FUZZ_CHECK(seal_open(&fs_kr, id, index, count, FS_KIND(count),
	    FS_SET_AT, &rec, plain, &len) == -1, "an input record opened");
	FUZZ_CHECK(len == 0, "failed open left length %zu", len);

	/* Round trip of the first bytes, under the same id, index, count. */
	ptlen = size < PW_CHUNK_LEN ? size : PW_CHUNK_LEN;
	ok = count >= 1 && count <= PW_CHUNKS && index < count &&
	    strlen(id) <= 64;
	FUZZ_CHECK((seal_chunk(&fs_kr, id, index, count, FS_KIND(count),
	    FS_SET_AT, data, ptlen, &good) == 0) == ok,
	    "seal_chunk: index %u count %u idlen %zu", index, count,
	    strlen(id));
	if (!ok)
		return 0;
	FUZZ_CHECK(good.ss_key_id == 2 && good.ss_len == ptlen + SEAL_TAG_LEN,
	    "sealed under key %u, %u bytes", good.ss_key_id, good.ss_len);
	FUZZ_CHECK(seal_open(&fs_kr, id, index, count, FS_KIND(count),
	    FS_SET_AT, &good, plain, &len) == 0, "a fresh seal does not open");
	FUZZ_CHECK(len == ptlen && memcmp(plain, data, ptlen) == 0,
	    "opened to something else");
	fs_tamper(&good, id, index, count, n > 0 ? r[0] : 0,
	    n > 1 ? r[1] : 0, n > 2 ? r[2] : 0);
	return 0;
}
