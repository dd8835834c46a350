/* SPDX-License-Identifier: ISC */
/*
 * Key material: the sealing key ring and the proxy shared secret.  Both
 * live in sodium_malloc pages that are no-access except while in use.
 */
#ifndef SEALMD_KEYS_H
#define SEALMD_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define KEY_LEN		32
#define KEYRING_MAX	64
#define SECRET_MAX	1024
#define SECRET_HMAC_LEN	32	/* HMAC-SHA256 */

struct key {
	uint32_t	 k_id;
	uint8_t		*k_bytes;	/* sodium_malloc, KEY_LEN */
};

struct keyring {
	size_t		 kr_n;
	struct key	 kr_keys[KEYRING_MAX];	/* ascending id */
};

struct secret {
	uint8_t		*s_bytes;	/* sodium_malloc */
	size_t		 s_len;
	uint8_t		*s_hmac;	/* secret_load: sodium_malloc, HMAC-
					   SHA256 state keyed with s_bytes */
};

int	keys_check_file(int, const char *, char *, size_t);
int	keyring_load(struct keyring *, const char *, const char *, char *,
	    size_t);
void	keyring_free(struct keyring *);
const struct key *keyring_newest(const struct keyring *);
const struct key *keyring_find(const struct keyring *, uint32_t);
const uint8_t *key_open(const struct key *);
void	key_close(const struct key *);
void	keys_lock_all(void);
int	secret_read(struct secret *, const char *, char *, size_t);
int	secret_load(struct secret *, const char *, char *, size_t);
int	keys_load_tokens(const struct config *, struct secret [2], int [2],
	    char *, size_t);
int	keys_load_all(const struct config *, struct keyring *, struct secret *,
	    int *, int *, char *, size_t);
int	keys_create(const char *, uint32_t, char *, size_t);
int	keys_remove(const char *, uint32_t, char *, size_t);
void	secret_free(struct secret *);
const uint8_t *secret_open(const struct secret *);
void	secret_hmac(const struct secret *, const uint8_t *, size_t,
	    uint8_t [SECRET_HMAC_LEN]);
void	secret_close(const struct secret *);

#endif
