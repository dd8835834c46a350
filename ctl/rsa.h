/* SPDX-License-Identifier: ISC */
/*
 * RSA PKCS#1 v1.5 decryption of a base64 value, as cloudbase-init
 * encrypts and novaclient decrypts (docs/nova-compat.md §8), with a
 * PEM private key (PKCS#1 or PKCS#8) through OpenSSL.
 */
#ifndef SEALMD_RSA_H
#define SEALMD_RSA_H

#include "privsep/buf.h"

int	rsa_decrypt(const struct bbuf *, const struct buf *, struct bbuf *,
	    const char **);

#endif
