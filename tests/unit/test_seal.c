/* SPDX-License-Identifier: ISC */
/*
 * Key ring loading, shared secret loading, chunk sealing and fingerprints.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <sodium.h>

#include "broker/keys.h"
#include "broker/seal.h"
#include "tests/unit/tutil.h"

#define ID_A	"3f1c2a9e-4b7d-4e21-9a6f-0c5d8e7b1a23"
#define ID_B	"3f1c2a9e-4b7d-4e21-9a6f-0c5d8e7b1a24"
#define V	PW_KIND_VALUE
#define T0	INT64_C(1700000000)		/* a value's set_at */

static char	tdir[] = "/tmp/sealmd-test-seal-XXXXXX";
static char	err[512];

static void
setup(void)
{
	cr_assert_eq(seal_init(), 0);
	cr_assert_not_null(mkdtemp(tdir));
	err[0] = '\0';
}

static void
setup_stderr(void)
{
	cr_redirect_stderr();
}

static void
teardown(void)
{
	tutil_rm_tree(tdir);
}

static void
put_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char	p[PATH_MAX];
	int	fd;

	snprintf(p, sizeof(p), "%s/%s", tdir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert(fd != -1, "open %s", p);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
rm_file(const char *name)
{
	char	p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tdir, name);
	cr_assert_eq(unlink(p), 0, "unlink %s", p);
}

static void
put_key(uint32_t id)
{
	uint8_t	k[KEY_LEN];
	char	name[16];

	memset(k, (int)(0x40 + id), sizeof(k));
	snprintf(name, sizeof(name), "%u", id);
	put_file(name, k, sizeof(k), 0600);
}

static void
load_ok(struct keyring *kr)
{
	cr_assert_eq(keyring_load(kr, tdir, "", err, sizeof(err)), 0,
	    "keyring_load: %s", err);
}

static void
load_fails(const char *want1, const char *want2)
{
	struct keyring	kr;

	cr_assert_eq(keyring_load(&kr, tdir, "", err, sizeof(err)), -1);
	cr_assert_eq(kr.kr_n, 0);
	cr_assert_not_null(strstr(err, want1), "err \"%s\" lacks \"%s\"", err,
	    want1);
	cr_assert_not_null(strstr(err, want2), "err \"%s\" lacks \"%s\"", err,
	    want2);
}

TestSuite(seal, .init = setup, .fini = teardown);

Test(seal, keyring_load_sorted_newest)
{
	struct keyring	 kr;
	const uint8_t	*b;
	uint8_t		 want[KEY_LEN];

	put_key(2);
	put_key(1);
	put_file(".hidden", "x", 1, 0644);
	load_ok(&kr);
	cr_assert_eq(kr.kr_n, 2);
	cr_assert_eq(kr.kr_keys[0].k_id, 1);
	cr_assert_eq(kr.kr_keys[1].k_id, 2);
	cr_assert_eq(keyring_newest(&kr)->k_id, 2);
	cr_assert_eq(keyring_find(&kr, 1), &kr.kr_keys[0]);
	cr_assert_null(keyring_find(&kr, 3));
	memset(want, 0x42, sizeof(want));
	b = key_open(keyring_newest(&kr));
	cr_assert_arr_eq(b, want, KEY_LEN);
	key_close(keyring_newest(&kr));
	keyring_free(&kr);
	cr_assert_eq(kr.kr_n, 0);
}

Test(seal, keyring_refuses_group_readable)
{
	uint8_t	k[KEY_LEN] = { 0 };

	put_key(1);
	put_file("2", k, sizeof(k), 0640);
	load_fails("/2", "mode 0640");
}

Test(seal, keyring_refuses_short_file_without_leaking_it)
{
	uint8_t	k[KEY_LEN - 1];

	memset(k, 'Q', sizeof(k));
	put_file("1", k, sizeof(k), 0600);
	load_fails("/1", "31 bytes");
	/* Seven: the message names a mkdtemp directory, whose six random
	 * characters may hold "QQ" by chance (a failed run did). */
	cr_assert_null(strstr(err, "QQQQQQQ"));
}

Test(seal, keyring_refuses_long_file)
{
	uint8_t	k[KEY_LEN + 1] = { 0 };

	put_file("7", k, sizeof(k), 0600);
	load_fails("/7", "33 bytes");
}

Test(seal, keyring_refuses_bad_name)
{
	put_key(1);
	put_file("abc", "x", 1, 0600);
	load_fails("/abc", "not a key file name");
}

Test(seal, keyring_refuses_leading_zero_and_overflow)
{
	struct keyring	kr;
	uint8_t		k[KEY_LEN] = { 0 };

	put_file("01", k, sizeof(k), 0600);
	load_fails("/01", "not a key file name");
	rm_file("01");
	put_file("4294967296", k, sizeof(k), 0600);
	load_fails("/4294967296", "not a key file name");
	rm_file("4294967296");
	put_file("4294967295", k, sizeof(k), 0600);
	load_ok(&kr);
	cr_assert_eq(keyring_newest(&kr)->k_id, UINT32_MAX);
	keyring_free(&kr);
}

Test(seal, keyring_refuses_empty_dir)
{
	char	want[64];

	snprintf(want, sizeof(want), "no keys in %s", tdir);
	put_file(".keep", "", 0, 0600);
	load_fails(want, tdir);
}

Test(seal, keyring_refuses_symlink)
{
	char	target[PATH_MAX], link[PATH_MAX];

	put_key(1);
	snprintf(target, sizeof(target), "%s/1", tdir);
	snprintf(link, sizeof(link), "%s/2", tdir);
	cr_assert_eq(symlink(target, link), 0);
	load_fails("/2", "symbolic link");
}

Test(seal, keyring_refuses_directory_entry)
{
	char	p[PATH_MAX];

	put_key(1);
	snprintf(p, sizeof(p), "%s/5", tdir);
	cr_assert_eq(mkdir(p, 0700), 0);
	load_fails("/5", "not a regular file");
}

Test(seal, keyring_refuses_other_owner)
{
	char	p[PATH_MAX];

	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	put_key(1);
	snprintf(p, sizeof(p), "%s/1", tdir);
	cr_assert_eq(chown(p, 65534, 65534), 0);
	load_fails("/1", "owned by uid 65534");
}

Test(seal, keyring_refuses_too_many)
{
	uint32_t	i;

	for (i = 1; i <= KEYRING_MAX + 1; i++)
		put_key(i);
	load_fails(tdir, "more than 64 keys");
}

Test(seal, keys_check_file_refuses_directory)
{
	int	fd;

	fd = open(tdir, O_RDONLY | O_DIRECTORY);
	cr_assert(fd != -1);
	cr_assert_eq(keys_check_file(fd, "thedir", err, sizeof(err)), -1);
	cr_assert_str_eq(err, "thedir: not a regular file");
	close(fd);
}

static void
roundtrip(size_t len)
{
	struct keyring		kr;
	struct store_sealed	ss;
	uint8_t			plain[PW_CHUNK_LEN], out[PW_CHUNK_LEN];
	size_t			outlen = 9999, i;

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 + 1);
	put_key(1);
	put_key(2);
	load_ok(&kr);
	cr_assert_eq(seal_chunk(&kr, ID_A, 1, 3, V, T0, plain, len, &ss), 0);
	cr_assert_eq(ss.ss_key_id, 2);
	cr_assert_eq(ss.ss_len, len + SEAL_TAG_LEN);
	if (len > 8)
		cr_assert(memcmp(ss.ss_ct, plain, len) != 0);
	cr_assert_eq(seal_open(&kr, ID_A, 1, 3, V, T0, &ss, out, &outlen), 0);
	cr_assert_eq(outlen, len);
	cr_assert_arr_eq(out, plain, len);
	keyring_free(&kr);
}

Test(seal, roundtrip_full_chunk)
{
	roundtrip(PW_CHUNK_LEN);
}

Test(seal, roundtrip_empty_chunk)
{
	roundtrip(0);
}

Test(seal, chunk_refuses_bad_shape)
{
	struct keyring		kr;
	struct store_sealed	ss;
	uint8_t			plain[PW_CHUNK_LEN + 1] = { 0 };
	char			longid[80];

	put_key(1);
	load_ok(&kr);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain,
	    PW_CHUNK_LEN + 1, &ss), -1);
	cr_assert_eq(seal_chunk(&kr, ID_A, 1, 1, V, T0, plain, 1, &ss), -1);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 0, V, T0, plain, 1, &ss), -1);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, PW_CHUNKS + 1, V, T0, plain, 1,
	    &ss), -1);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	cr_assert_eq(seal_chunk(&kr, longid, 0, 1, V, T0, plain, 1, &ss), -1);
	keyring_free(&kr);
}

Test(seal, open_refuses_tampering)
{
	struct keyring		kr;
	struct store_sealed	ss, t;
	uint8_t			plain[40], out[PW_CHUNK_LEN];
	size_t			outlen;

	memset(plain, 'p', sizeof(plain));
	put_key(1);
	put_key(2);
	load_ok(&kr);
	cr_assert_eq(seal_chunk(&kr, ID_A, 1, 2, V, T0, plain, sizeof(plain),
	    &ss), 0);
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &ss, out, &outlen), 0);

	cr_assert_eq(seal_open(&kr, ID_B, 1, 2, V, T0, &ss, out, &outlen), -1);
	cr_assert_eq(seal_open(&kr, ID_A, 0, 2, V, T0, &ss, out, &outlen), -1);
	cr_assert_eq(seal_open(&kr, ID_A, 1, 3, V, T0, &ss, out, &outlen), -1);

	t = ss;
	t.ss_key_id = 1;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);
	t.ss_key_id = 99;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);

	t = ss;
	t.ss_ct[5] ^= 0x10;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);
	t = ss;
	t.ss_ct[t.ss_len - 1] ^= 0x01;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);
	t = ss;
	t.ss_nonce[23] ^= 0x80;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);

	t = ss;
	t.ss_len = SEAL_TAG_LEN - 1;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);
	t.ss_len = PW_CHUNK_LEN + SEAL_TAG_LEN + 1;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);
	t = ss;
	t.ss_len--;
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &t, out, &outlen), -1);

	/* The untouched record still opens: the failures were the edits. */
	cr_assert_eq(seal_open(&kr, ID_A, 1, 2, V, T0, &ss, out, &outlen), 0);
	cr_assert_arr_eq(out, plain, sizeof(plain));
	keyring_free(&kr);
}

Test(seal, open_binds_key_id)
{
	struct keyring		kr;
	struct store_sealed	ss;
	uint8_t			k[KEY_LEN], plain[] = "x", out[PW_CHUNK_LEN];
	size_t			outlen;

	/* Same bytes under two ids: only the associated data differs. */
	memset(k, 0x5c, sizeof(k));
	put_file("1", k, sizeof(k), 0600);
	put_file("2", k, sizeof(k), 0600);
	load_ok(&kr);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 1, &ss), 0);
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &ss, out, &outlen), 0);
	ss.ss_key_id = 1;
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &ss, out, &outlen), -1);
	keyring_free(&kr);
}

/*
 * The kind and set_at are the row's, which a database writer can change:
 * a value must not pass for a verifier, or live longer, for it.
 */
Test(seal, open_binds_kind_and_set_at)
{
	struct keyring		kr;
	struct store_sealed	ss;
	uint8_t			plain[] = "v", out[PW_CHUNK_LEN];
	size_t			outlen;

	put_key(1);
	load_ok(&kr);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 1, &ss), 0);
	cr_assert_eq(ss.ss_format, SEAL_FORMAT_V2);
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, PW_KIND_VERIFIER, T0, &ss,
	    out, &outlen), -1);
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0 + 86400, &ss, out,
	    &outlen), -1);
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0 - 1, &ss, out, &outlen),
	    -1);
	/* As v1 (a row's seal_format set back), its AD is another. */
	ss.ss_format = SEAL_FORMAT_V1;
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &ss, out, &outlen),
	    -1);
	ss.ss_format = 3;
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &ss, out, &outlen),
	    -1);
	ss.ss_format = SEAL_FORMAT_V2;
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &ss, out, &outlen), 0);
	cr_assert_eq(outlen, 1);
	keyring_free(&kr);
}

/*
 * A chunk sealed by a sealmd before format v2, built here by hand: tag
 * "sealmd-chunk-v1", id length, id, index, count, key id.  It opens,
 * whatever kind and set_at its row says.
 */
Test(seal, v1_chunk_still_opens)
{
	static const char	tag[] = "sealmd-chunk-v1";
	struct keyring		kr;
	struct store_sealed	ss;
	uint8_t			k[KEY_LEN], ad[128], out[PW_CHUNK_LEN];
	uint8_t			plain[] = "old value";
	unsigned long long	clen;
	size_t			n = 0, outlen;

	memset(k, 0x3c, sizeof(k));
	put_file("1", k, sizeof(k), 0600);
	load_ok(&kr);
	memcpy(ad, tag, sizeof(tag) - 1);
	n += sizeof(tag) - 1;
	ad[n++] = (uint8_t)strlen(ID_A);
	memcpy(ad + n, ID_A, strlen(ID_A));
	n += strlen(ID_A);
	ad[n++] = 0;			/* index */
	ad[n++] = 1;			/* count */
	ad[n++] = 0;			/* key id 1, big-endian */
	ad[n++] = 0;
	ad[n++] = 0;
	ad[n++] = 1;
	memset(&ss, 0, sizeof(ss));
	ss.ss_format = SEAL_FORMAT_V1;
	ss.ss_key_id = 1;
	randombytes_buf(ss.ss_nonce, sizeof(ss.ss_nonce));
	cr_assert_eq(crypto_aead_xchacha20poly1305_ietf_encrypt(ss.ss_ct,
	    &clen, plain, sizeof(plain), ad, n, NULL, ss.ss_nonce, k), 0);
	ss.ss_len = (uint32_t)clen;
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &ss, out, &outlen), 0);
	cr_assert_arr_eq(out, plain, sizeof(plain));
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, PW_KIND_VERIFIER, 0, &ss, out,
	    &outlen), 0);
	ss.ss_format = SEAL_FORMAT_V2;
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &ss, out, &outlen),
	    -1);
	keyring_free(&kr);
}

Test(seal, old_key_opens_after_rotation)
{
	struct keyring		kr;
	struct store_sealed	old, cur;
	uint8_t			plain[] = "hunter2", out[PW_CHUNK_LEN];
	size_t			outlen;

	put_key(1);
	load_ok(&kr);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, sizeof(plain),
	    &old), 0);
	cr_assert_eq(old.ss_key_id, 1);
	keyring_free(&kr);

	put_key(2);
	load_ok(&kr);
	cr_assert_eq(seal_open(&kr, ID_A, 0, 1, V, T0, &old, out, &outlen), 0);
	cr_assert_eq(outlen, sizeof(plain));
	cr_assert_arr_eq(out, plain, sizeof(plain));
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, sizeof(plain),
	    &cur), 0);
	cr_assert_eq(cur.ss_key_id, 2);
	keyring_free(&kr);
}

Test(seal, nonces_differ)
{
	struct keyring		kr;
	struct store_sealed	a, b;
	uint8_t			plain[] = "same";

	put_key(1);
	load_ok(&kr);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 4, &a), 0);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 4, &b), 0);
	cr_assert(memcmp(a.ss_nonce, b.ss_nonce, SEAL_NONCE_LEN) != 0);
	cr_assert(memcmp(a.ss_ct, b.ss_ct, a.ss_len) != 0);
	keyring_free(&kr);
}

/* Nonces come SEAL_NONCES at a time: none is handed out twice. */
Test(seal, nonces_differ_across_refills)
{
	struct keyring		kr;
	struct store_sealed	ss[64];
	uint8_t			plain[] = "same";
	size_t			i, k;

	put_key(1);
	load_ok(&kr);
	for (i = 0; i < 64; i++)
		cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 4,
		    &ss[i]), 0);
	for (i = 0; i < 64; i++)
		for (k = i + 1; k < 64; k++)
			cr_assert(memcmp(ss[i].ss_nonce, ss[k].ss_nonce,
			    SEAL_NONCE_LEN) != 0, "nonce %zu = %zu", i, k);
	keyring_free(&kr);
}

/* A forked child must not seal with the parent's unused nonces. */
Test(seal, nonces_differ_across_fork)
{
	struct keyring		kr;
	struct store_sealed	a, b;
	uint8_t			plain[] = "same";
	int			fd[2], st;
	pid_t			pid;

	put_key(1);
	load_ok(&kr);
	/* The pool is filled, and one nonce of it used. */
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 4, &a), 0);
	cr_assert_eq(pipe(fd), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		if (seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 4, &b) != 0 ||
		    write(fd[1], b.ss_nonce, SEAL_NONCE_LEN) != SEAL_NONCE_LEN)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	memset(&b, 0, sizeof(b));
	cr_assert_eq(read(fd[0], b.ss_nonce, SEAL_NONCE_LEN), SEAL_NONCE_LEN);
	close(fd[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_eq(seal_chunk(&kr, ID_A, 0, 1, V, T0, plain, 4, &a), 0);
	cr_assert(memcmp(a.ss_nonce, b.ss_nonce, SEAL_NONCE_LEN) != 0);
	keyring_free(&kr);
}

Test(seal, fingerprint)
{
	struct keyring	kr;
	uint8_t		a1[FP_LEN], a2[FP_LEN], b[FP_LEN], c[FP_LEN];
	uint8_t		zero[FP_LEN] = { 0 };

	put_key(1);
	load_ok(&kr);
	cr_assert_eq(seal_fingerprint(&kr, (const uint8_t *)"alpha", 5, a1),
	    0);
	cr_assert_eq(seal_fingerprint(&kr, (const uint8_t *)"alpha", 5, a2),
	    0);
	cr_assert_eq(seal_fingerprint(&kr, (const uint8_t *)"alphb", 5, b),
	    0);
	cr_assert_arr_eq(a1, a2, FP_LEN);
	cr_assert(memcmp(a1, b, FP_LEN) != 0);
	cr_assert(memcmp(a1, zero, FP_LEN) != 0);
	keyring_free(&kr);

	/* Keyed: another newest key gives another fingerprint. */
	put_key(2);
	load_ok(&kr);
	cr_assert_eq(seal_fingerprint(&kr, (const uint8_t *)"alpha", 5, c),
	    0);
	cr_assert(memcmp(a1, c, FP_LEN) != 0);
	keyring_free(&kr);
}

static void
secret_case(const char *content, size_t clen, const char *want,
    size_t wantlen)
{
	struct secret	 s;
	const uint8_t	*b;
	char		 p[PATH_MAX];

	put_file("secret", content, clen, 0600);
	snprintf(p, sizeof(p), "%s/secret", tdir);
	cr_assert_eq(secret_load(&s, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.s_len, wantlen);
	b = secret_open(&s);
	cr_assert_arr_eq(b, want, wantlen);
	secret_close(&s);
	secret_free(&s);
	cr_assert_null(s.s_bytes);
}

Test(seal, secret_strips_one_newline)
{
	secret_case("s3cret\n", 7, "s3cret", 6);
	secret_case("s3cret", 6, "s3cret", 6);
	secret_case("ab\r\n", 4, "ab", 2);
	secret_case("x\n\n", 3, "x\n", 2);
	secret_case("\n", 1, "", 0);
}

Test(seal, secret_empty_is_allowed_with_warning, .init = setup_stderr)
{
	char	line[512];
	FILE	*f;
	int	warned = 0;

	secret_case("", 0, "", 0);
	f = cr_get_redirected_stderr();
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "secret is empty") != NULL)
			warned = 1;
	cr_assert(warned);
}

Test(seal, secret_size_limit)
{
	struct secret	 s;
	char		 buf[SECRET_MAX + 3], p[PATH_MAX];

	memset(buf, 'z', sizeof(buf));
	buf[SECRET_MAX] = '\r';
	buf[SECRET_MAX + 1] = '\n';
	secret_case(buf, SECRET_MAX + 2, buf, SECRET_MAX);

	put_file("secret", buf, SECRET_MAX + 1, 0600);
	snprintf(p, sizeof(p), "%s/secret", tdir);
	cr_assert_eq(secret_load(&s, p, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "longer than 1024 bytes"), "%s", err);
	cr_assert_null(strstr(err, "zz"));
}

Test(seal, secret_refuses_loose_mode)
{
	struct secret	 s;
	char		 p[PATH_MAX];

	put_file("secret", "topsecret\n", 10, 0644);
	snprintf(p, sizeof(p), "%s/secret", tdir);
	cr_assert_eq(secret_load(&s, p, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "mode 0644"), "%s", err);
	cr_assert_null(strstr(err, "topsecret"));
	cr_assert_null(s.s_bytes);
}

Test(seal, secret_refuses_symlink)
{
	struct secret	 s;
	char		 p[PATH_MAX], l[PATH_MAX];

	put_file("secret", "topsecret\n", 10, 0600);
	snprintf(p, sizeof(p), "%s/secret", tdir);
	snprintf(l, sizeof(l), "%s/link", tdir);
	cr_assert_eq(symlink(p, l), 0);
	cr_assert_eq(secret_load(&s, l, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "symbolic link"), "%s", err);
}

/* systemd credentials: "key_N" files among other credentials. */
Test(seal, keyring_load_credential_names)
{
	struct keyring	kr;
	uint8_t		k[KEY_LEN];

	memset(k, 0x51, sizeof(k));
	put_file("key_1", k, sizeof(k), 0400);
	put_file("key_7", k, sizeof(k), 0400);
	put_file("proxy-secret", "s3cret\n", 7, 0400);
	cr_assert_eq(keyring_load(&kr, tdir, "key_", err, sizeof(err)), 0,
	    "keyring_load: %s", err);
	cr_assert_eq(kr.kr_n, 2);
	cr_assert_eq(keyring_newest(&kr)->k_id, 7);
	keyring_free(&kr);
	put_file("key_x", k, sizeof(k), 0400);
	cr_assert_eq(keyring_load(&kr, tdir, "key_", err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "key_x"), "err: %s", err);
}

static void
token_keys_case(struct config *c, const char *cur, const char *prev,
    size_t n0, size_t n1)
{
	struct secret	tk[2];
	int		have[2];

	cr_assert_eq(keys_load_tokens(c, tk, have, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(have[0], n0 != 0);
	cr_assert_eq(have[1], n1 != 0);
	if (have[0]) {
		cr_assert_eq(tk[0].s_len, n0);
		cr_assert_eq(memcmp(secret_open(&tk[0]), cur, n0), 0);
		secret_free(&tk[0]);
	}
	if (have[1]) {
		cr_assert_eq(tk[1].s_len, n1);
		cr_assert_eq(memcmp(secret_open(&tk[1]), prev, n1), 0);
		secret_free(&tk[1]);
	}
}

/*
 * Token keys: from token_key_file and token_key_previous_file, or from
 * the credentials "token-key" and "token-key-previous", which win as a
 * pair (a "token-key" credential is not "token-key-previous").
 */
Test(seal, token_keys_from_files_and_credentials)
{
	static struct config	c;
	struct secret		tk[2];
	int			have[2];

	memset(&c, 0, sizeof(c));
	token_keys_case(&c, NULL, NULL, 0, 0);
	put_file("cur", "current-key\n", 12, 0600);
	put_file("prev", "previous-key\n", 13, 0600);
	snprintf(c.c_token_key, sizeof(c.c_token_key), "%s/cur", tdir);
	token_keys_case(&c, "current-key", NULL, 11, 0);
	snprintf(c.c_token_key_prev, sizeof(c.c_token_key_prev), "%s/prev",
	    tdir);
	token_keys_case(&c, "current-key", "previous-key", 11, 12);

	cr_assert_eq(setenv("CREDENTIALS_DIRECTORY", tdir, 1), 0);
	put_file("token-key", "cred-key\n", 9, 0400);
	token_keys_case(&c, "cred-key", NULL, 8, 0);
	put_file("token-key-previous", "cred-prev", 9, 0400);
	token_keys_case(&c, "cred-key", "cred-prev", 8, 9);
	cr_assert_eq(unsetenv("CREDENTIALS_DIRECTORY"), 0);

	/* One that does not load: nothing is kept, and no key is named. */
	put_file("loose", "loose-key\n", 10, 0644);
	snprintf(c.c_token_key_prev, sizeof(c.c_token_key_prev), "%s/loose",
	    tdir);
	cr_assert_eq(keys_load_tokens(&c, tk, have, err, sizeof(err)), -1);
	cr_assert_eq(have[0] + have[1], 0);
	cr_assert_null(tk[0].s_bytes);
	cr_assert_not_null(strstr(err, "token key"), "%s", err);
	cr_assert_null(strstr(err, "loose-key"), "%s", err);
}

/* Readable while in use; once locked, any read faults. */
Test(seal, keys_locked_when_idle)
{
	struct keyring	 kr;
	const uint8_t	*p;
	volatile uint8_t sink;
	pid_t		 pid;
	int		 st;

	put_key(1);
	load_ok(&kr);
	p = key_open(keyring_newest(&kr));
	sink = p[0];
	key_close(keyring_newest(&kr));
	sink = p[1];		/* still this turn: readable */
	keys_lock_all();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* The default action, not ASan's handler, under ASan. */
		(void)signal(SIGSEGV, SIG_DFL);
		sink = p[0];
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	    "a locked key page was readable (status 0x%x)", st);
	(void)sink;
	keyring_free(&kr);
}
