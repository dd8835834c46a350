/* SPDX-License-Identifier: ISC */
/*
 * OpenSSH ssh-ed25519 keys: the public key line ("ssh-ed25519 BASE64
 * [COMMENT]") and the unencrypted "openssh-key-v1" private key file
 * (PROTOCOL.key in OpenSSH).  Only what sealed boxes need; every byte is
 * read through struct buf cursors.
 */
#ifndef SEALMD_SSHKEY_H
#define SEALMD_SSHKEY_H

#include <stdint.h>

#include "client/sealbox.h"
#include "privsep/buf.h"

#define SSHKEY_FILE_MAX		(64 * 1024)

enum sshkey_err {
	SSHKEY_OK = 0,
	SSHKEY_EFORMAT,		/* not a well-formed OpenSSH key */
	SSHKEY_ETYPE,		/* well-formed, but not ssh-ed25519 */
	SSHKEY_EENCRYPTED	/* a private key with a passphrase */
};

struct sshkey_ed25519 {
	uint8_t	ek_pub[SEALBOX_ED25519_PUB];
	uint8_t	ek_priv[SEALBOX_ED25519_PRIV];	/* seed || public key */
};

int		 sshkey_pub_parse(const struct buf *,
		    uint8_t [SEALBOX_ED25519_PUB]);
int		 sshkey_is_private(const struct buf *);
int		 sshkey_priv_parse(const struct buf *,
		    struct sshkey_ed25519 *);
const char	*sshkey_strerror(int);
int		 sshkey_read_file(const char *, struct bbuf *);
int		 sshkey_pub_file(const char *, uint8_t [SEALBOX_ED25519_PUB]);

#endif
