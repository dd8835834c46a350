/* SPDX-License-Identifier: ISC */
/*
 * RSA PKCS#1 v1.5 decryption for sealmdctl decrypt.  The key file goes to
 * OpenSSL's PEM reader whole; the value is strict base64 of exactly one
 * RSA block.  OpenSSL 3.0 reports a bad padding as an error (implicit
 * rejection came in 3.2), which is what an offline tool wants.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "ctl/rsa.h"

#define RSA_BLOCK_MAX	1024	/* 8192 bits; larger never fits Nova */

static int	rsa_nopass(char *, int, int, void *);

/* Never prompt: a key with a passphrase is refused, with a hint. */
static int
rsa_nopass(char *pass, int size, int rwflag, void *asked)
{
	(void)pass;
	(void)size;
	(void)rwflag;
	*(int *)asked = 1;
	return -1;
}

/*
 * Decrypt the base64 value b64 with the PEM private key in pem, appending
 * the plaintext to pt.  On failure *why says what went wrong.
 */
int
rsa_decrypt(const struct bbuf *pem, const struct buf *b64, struct bbuf *pt,
    const char **why)
{
	struct bbuf	 s;
	struct buf	 t = *b64;
	EVP_PKEY	*pk = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	BIO		*bio = NULL;
	uint8_t		 ct[RSA_BLOCK_MAX], *p;
	size_t		 n = buf_left(b64), ctlen, outlen, avail;
	int		 asked = 0, size, rv = -1;

	bbuf_init(&s, n + 1);
	*why = "not a PEM private key (PKCS#1 or PKCS#8)";
	if (pem->bb_len == 0)
		goto out;
	*why = "out of memory";
	if ((bio = BIO_new_mem_buf(pem->bb_data, (int)pem->bb_len)) == NULL)
		goto out;
	if ((pk = PEM_read_bio_PrivateKey(bio, NULL, rsa_nopass,
	    &asked)) == NULL) {
		*why = asked ? "the private key is protected by a passphrase;"
		    " decrypt a copy first (openssl pkey -in KEY -out COPY)" :
		    "not a PEM private key (PKCS#1 or PKCS#8)";
		goto out;
	}
	if (!EVP_PKEY_is_a(pk, "RSA") ||
	    (size = EVP_PKEY_get_size(pk)) <= 0 || size > RSA_BLOCK_MAX) {
		*why = "not an RSA key";
		goto out;
	}
	/* Line breaks are allowed: "openssl base64" without -A makes them. */
	*why = "the value is not base64 of one RSA block of this key's size";
	if (n == 0 || bbuf_reserve(&s, n + 1, &p, &avail) == -1 ||
	    avail < n + 1 || buf_get(&t, p, n) == -1)
		goto out;
	p[n] = '\0';
	if (sodium_base642bin(ct, (size_t)size, (const char *)p, n, "\r\n",
	    &ctlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    ctlen != (size_t)size)
		goto out;

	*why = "cannot decrypt: wrong key, or the value was altered";
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_decrypt(ctx, NULL, &outlen, ct, ctlen) <= 0 ||
	    bbuf_reserve(pt, outlen, &p, &avail) == -1 || avail < outlen ||
	    EVP_PKEY_decrypt(ctx, p, &outlen, ct, ctlen) <= 0)
		goto out;
	bbuf_commit(pt, outlen);
	rv = 0;
 out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);	/* clears the key material */
	BIO_free(bio);
	bbuf_free(&s);
	return rv;
}
