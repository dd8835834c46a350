/* SPDX-License-Identifier: ISC */
/*
 * Who is this guest?  Proxy mode: the neutron proxy's signed headers,
 * checked in Nova's order (nova-compat §4.1): signature first (403), then
 * the instance (404), then the tenant (404).  Direct mode: the peer
 * address accept() gave us, with its interface if it is link-local and
 * its listener's network if that has a name (listen_peer_addr).  The
 * expected signature never leaves this file.
 */
#include <string.h>

#include <sodium.h>

#include "broker.h"
#include "privsep/log.h"
#include "privsep/validate.h"
#include "ratelimit.h"
#include "tokens.h"

#define HMAC_HEX_LEN	(crypto_auth_hmacsha256_BYTES * 2)

/* Constant time: every byte of the candidate is compared, always. */
static int
ident_sig_ok(const struct secret *sec, const char *instance, const char *sig)
{
	unsigned char	mac[crypto_auth_hmacsha256_BYTES];
	char		hex[HMAC_HEX_LEN + 1];
	int		ok;

	if (strlen(sig) != HMAC_HEX_LEN)
		return 0;
	secret_hmac(sec, (const unsigned char *)instance, strlen(instance),
	    mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	ok = sodium_memcmp(hex, sig, HMAC_HEX_LEN) == 0;
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(hex, sizeof(hex));
	return ok;
}

/*
 * The rate for a listener's mode: what the configuration says, or by
 * default 10/s for direct listeners (any host on the segment can send)
 * and none behind the proxy (neutron already fronts it).
 */
static uint32_t
ident_rate(const struct broker *b, int ident)
{
	if (b->b_conf->c_rate != CONF_RATE_DEFAULT)
		return b->b_conf->c_rate;
	return ident == IDENT_DIRECT ? CONF_RATE_DIRECT : 0;
}

/* Whom a session token belongs to: the address, or the proven instance. */
const char *
ident_bind(const struct bconn *bc, const struct msg_guest *g)
{
	return bc->bc_ident == IDENT_DIRECT ? bc->bc_addr : g->mg_instance;
}

/*
 * session_tokens: a token that is sent must be live and this guest's;
 * "required" also refuses a request without one.
 */
static int
ident_token_ok(struct broker *b, const struct bconn *bc,
    const struct msg_guest *g)
{
	int	mode = b->b_listen[bc->bc_listener].l_guard.cg_tokens;

	if (mode == GUARD_TOKENS_OFF)
		return 1;
	if ((g->mg_flags & GUEST_F_TOKEN_BAD) == 0 && g->mg_token[0] == '\0')
		return mode != GUARD_TOKENS_REQUIRED;
	return (g->mg_flags & GUEST_F_TOKEN_BAD) == 0 &&
	    tokens_check(g->mg_token, bc->bc_ident, ident_bind(bc, g),
	    broker_wall_ms());
}

/*
 * Returns the HTTP status: 200 with *inst's row filled (not its addresses
 * or keys), or 401/403/404/429/503.
 * The rate limit keys a direct guest by its address before any lookup, a
 * proxied one by its instance once the signature proves it.  The session
 * token is checked once the identity it is bound to is known.
 */
/*
 * What comes before the lookup: 0 when it may go on, else the status.
 * take: the rate limit counts this request (else it is only asked).
 */
static int
ident_gate(struct broker *b, const struct bconn *bc,
    const struct msg_guest *g, int need_token, int take)
{
	uint32_t	 rate = ident_rate(b, bc->bc_ident);
	const char	*key = bc->bc_addr;

	if (bc->bc_ident != IDENT_DIRECT) {
		if (!b->b_have_secret ||
		    !ident_sig_ok(&b->b_secret, g->mg_instance, g->mg_sig))
			return 403;
		key = g->mg_instance;
	}
	if (!(take ? ratelimit_allow : ratelimit_would)(key, rate,
	    b->b_conf->c_burst, broker_now_ms()))
		return 429;
	if (need_token && !ident_token_ok(b, bc, g))
		return 401;
	return 0;
}

/*
 * Whether ident_guest would look the guest up: with a reader, a request
 * refused before that (signature, rate, token) reads nothing ahead.
 */
int
ident_would_read(struct broker *b, const struct bconn *bc,
    const struct msg_guest *g, int need_token)
{
	return ident_gate(b, bc, g, need_token, 0) == 0;
}

int
ident_guest(struct broker *b, const struct bconn *bc,
    const struct msg_guest *g, struct store_inst *inst, int need_token)
{
	int	r;

	if ((r = ident_gate(b, bc, g, need_token, 1)) != 0)
		return r;
	if (bc->bc_ident == IDENT_DIRECT)
		r = store_instance_head(b->b_store, bc->bc_addr, 1, inst);
	else {
		r = store_instance_head(b->b_store, g->mg_instance, 0, inst);
		if (r == STORE_OK && ((g->mg_flags & GUEST_F_TENANT_LONG) ||
		    strcmp(inst->ri_project, g->mg_tenant) != 0))
			return 404;
	}
	if (r == STORE_NOTFOUND)
		return 404;
	if (r != STORE_OK)
		return 503;
	return 200;
}

/*
 * Every IP@NET of a registration names a direct listener's network: one
 * that names none could never match, and is most likely a typo.
 */
int
ident_nets_ok(const struct broker *b, const struct store_inst *mi)
{
	const char	*net;
	size_t		 i, j;
	int		 found;

	for (i = 0; i < mi->ri_naddr; i++) {
		if ((net = addr_net(mi->ri_addr[i])) == NULL)
			continue;
		for (j = 0, found = 0; j < b->b_nlisten && !found; j++)
			found = b->b_listen[j].l_role == ROLE_GUEST &&
			    b->b_listen[j].l_ident == IDENT_DIRECT &&
			    strcmp(b->b_listen[j].l_net, net) == 0;
		if (!found)
			return 0;
	}
	return 1;
}
