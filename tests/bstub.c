/* SPDX-License-Identifier: ISC */
/*
 * The broker's stand-ins shared by tests/unit/bfix.c and
 * tests/fuzz/fuzz_chan.c (bstub.h).  Each harness supplies
 * bstub_unreached, its own way to fail, and its own supervise_kill and
 * supervise_down.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "broker/broker.h"
#include "broker/sandbox.h"
#include "tests/bstub.h"

void	supervise_start(struct broker *);
void	supervise_launcher(struct broker *);
void	supervise_ping(struct broker *);
void	supervise_limits(struct broker *);

/*
 * broker.c's event loop calls these; the harnesses never run it.  The
 * sandbox stays out: the tests need syscalls it would forbid.
 */
void
supervise_start(struct broker *b)
{
	(void)b;
	bstub_unreached("supervise_start");
}

void
supervise_launcher(struct broker *b)
{
	(void)b;
	bstub_unreached("supervise_launcher");
}

void
supervise_ping(struct broker *b)
{
	(void)b;
	bstub_unreached("supervise_ping");
}

void
supervise_limits(struct broker *b)
{
	(void)b;
	bstub_unreached("supervise_limits");
}

void
sandbox_broker(int net)
{
	(void)net;
	bstub_unreached("sandbox_broker");
}

/* The hex HMAC the neutron proxy sends, computed apart from ident.c. */
void
bstub_sign(const char *secret, const char *instance, char hex[SIG_MAX + 1])
{
	crypto_auth_hmacsha256_state	st;
	uint8_t				mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)instance,
	    strlen(instance));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, SIG_MAX + 1, mac, sizeof(mac));
}

/*
 * Room for max_conns guests, escrow mode, one client certificate subject
 * allowed; nothing that reads the clock (no rate or connection limits),
 * so that one input always takes one path; Argon2id as cheap as it goes,
 * since a registration may ask for verifier mode.
 */
void
bstub_conf(struct config *c, uint32_t max_conns, const char *subject)
{
	size_t	i;

	c->c_max_conns = max_conns;
	c->c_rate = 0;
	c->c_mode = PW_MODE_ESCROW;
	c->c_nallow_subject = 1;
	(void)snprintf(c->c_allow_subject[0], sizeof(c->c_allow_subject[0]),
	    "%s", subject);
	c->c_vops = crypto_pwhash_OPSLIMIT_MIN;
	c->c_vmem = crypto_pwhash_MEMLIMIT_MIN;
	for (i = 0; i < sizeof(c->c_conn) / sizeof(c->c_conn[0]); i++) {
		c->c_conn[i].cc_idle_ms = UINT32_MAX;
		c->c_conn[i].cc_life_ms = UINT32_MAX;
		c->c_conn[i].cc_requests = UINT32_MAX;
	}
}
