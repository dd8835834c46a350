/* SPDX-License-Identifier: ISC */
/*
 * TLS private keys, held by the broker only.  The worker speaks TLS with
 * certificates alone and asks for each signature on the sign channel.
 */
#ifndef SEALMD_TLSKEY_H
#define SEALMD_TLSKEY_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "privsep/chan.h"

#define TLS_TOKENS_MAX	64
#define TLS_HASH_LEN	32	/* SHA-256 of an owner token */
#define TLS_OLD_KEYS	3	/* reloads a handshake in flight survives */

struct tlskey {
	uint8_t		 tk_id[TLS_KEYID_LEN];	/* SHA-256 of the SPKI DER */
	uint8_t		*tk_der;	/* sodium_malloc: SEC1 DER, no-access */
	size_t		 tk_len;
};

struct tlsctx {
	uint8_t		*tc_chain;	/* PEM, as the worker gets it */
	size_t		 tc_chainlen;
	uint8_t		*tc_ca;		/* client CAs (owner), or NULL */
	size_t		 tc_calen;
	struct tlskey	 tc_key;
	/* tc_old[i]: the key from i + 1 reloads ago, for older handshakes */
	struct tlskey	 tc_old[TLS_OLD_KEYS];
	uint32_t	 tc_gen;	/* reloads so far */
};

struct tlsstate {
	size_t		 ts_n;
	struct tlsctx	 ts_ctx[TLS_CTX_MAX];	/* c_tls order */
	size_t		 ts_ntokens;
	uint8_t		 ts_tokens[TLS_TOKENS_MAX][TLS_HASH_LEN];
	struct chan	 ts_chan;	/* the sign channel; c_fd -1: none */
};

struct broker;
struct bconn;

/* tlskey.c */
int	tlskey_load(const struct config *, struct tlsstate *, char *, size_t);
void	tlskey_free(struct tlsstate *);
void	tlskey_commit(struct broker *, struct config *, struct tlsstate *);
void	tlskey_send_certs(struct broker *);
void	tlskey_chan_set(struct broker *, int);
void	tlskey_chan_close(struct broker *);
int	tlskey_pollfd(struct broker *, struct pollfd *);
void	tlskey_read(struct broker *, const struct pollfd *);
void	tlskey_conn_new(struct broker *, struct bconn *, int);

/* tlsauth.c */
int	tlsauth_load_tokens(const char *, struct tlsstate *, char *, size_t);
int	tlsauth_check(struct broker *, struct bconn *,
	    const struct msg_owner_auth *, unsigned int *, char *, size_t);

#endif
