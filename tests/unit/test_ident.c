/* SPDX-License-Identifier: ISC */
/*
 * Guest identity (broker/ident.c), table-driven: the proxy's signature,
 * instance and tenant in Nova's order; direct identity from the peer
 * address alone, IP@NET and link-local %IF included; session tokens; the
 * rate limit's key; and would_read, which must take nothing.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "broker/ratelimit.h"
#include "broker/tokens.h"
#include "tests/unit/bfix.h"

#define ID_A	"6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b"	/* 10.0.0.5 */
#define ID_B	"0b5e2c3d-1f2a-4b3c-8d4e-5f6a7b8c9d0e"	/* 10.0.0.5@prov */
#define ID_C	"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"	/* fe80::5%eth1 */
#define ID_E	"2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a"	/* 10.0.0.6 */
#define ID_F	"3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b"	/* 10.0.0.7@prov */
#define ID_NONE	"4f5a6b7c-8d9e-4f0a-9b2c-3d4e5f6a7b8c"	/* not registered */

static void
setup(void)
{
	bfix_setup();
	bfix_register(ID_A, "proj-a", "10.0.0.5", NULL);
	bfix_register(ID_B, "proj-b", "10.0.0.5@" BFIX_NET, NULL);
	bfix_register(ID_C, "proj-c", "fe80::5%" BFIX_IF, NULL);
	bfix_register(ID_E, "proj-e", "10.0.0.6", NULL);
	bfix_register(ID_F, "proj-f", "10.0.0.7@" BFIX_NET, NULL);
}

TestSuite(ident, .init = setup, .fini = bfix_teardown);

/* ident_guest on conn, asking for a token; status, and the id on 200. */
static int
ident(enum bfix_conn conn, const struct msg_guest *g, char *id)
{
	struct store_inst	inst;
	int			r;

	memset(&inst, 0, sizeof(inst));
	r = ident_guest(&bfix_b, bfix_conn(conn), g, &inst, 1);
	if (id != NULL)
		(void)snprintf(id, ID_LEN + 1, "%s",
		    r == 200 ? inst.ri_id : "");
	store_read_end(bfix_b.b_store);
	return r;
}

Test(ident, proxy_table)
{
	static const struct {
		const char	*name, *instance, *tenant, *signed_for;
		uint32_t	 flags;
		int		 status;
		const char	*id;
	} rows[] = {
		{ "signed, its tenant", ID_A, "proj-a", ID_A, 0, 200, ID_A },
		{ "no signature", ID_A, "proj-a", NULL, 0, 403, NULL },
		{ "signature of another", ID_A, "proj-a", ID_B, 0, 403, NULL },
		{ "bad signature, no such instance", ID_NONE, "x", "", 0,
		    403, NULL },
		{ "signed, not registered", ID_NONE, "proj-a", ID_NONE, 0,
		    404, NULL },
		{ "signed, another tenant", ID_A, "proj-b", ID_A, 0, 404,
		    NULL },
		{ "signed, empty tenant", ID_A, "", ID_A, 0, 404, NULL },
		{ "signed, tenant too long", ID_A, "proj-a", ID_A,
		    GUEST_F_TENANT_LONG, 404, NULL },
		{ "signed, B", ID_B, "proj-b", ID_B, 0, 200, ID_B },
	};
	struct msg_guest	g;
	char			id[ID_LEN + 1];
	size_t			i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bfix_guest(&g, rows[i].instance, rows[i].tenant, 0);
		g.mg_flags = rows[i].flags;
		if (rows[i].signed_for != NULL && rows[i].signed_for[0] != '\0')
			bfix_sign(rows[i].signed_for, g.mg_sig);
		else if (rows[i].signed_for != NULL)
			memset(g.mg_sig, 'a', SIG_MAX);
		cr_assert_eq(ident(BFIX_C_PROXY, &g, id), rows[i].status,
		    "%s: %d, want %d", rows[i].name,
		    ident(BFIX_C_PROXY, &g, NULL), rows[i].status);
		cr_assert_str_eq(id, rows[i].id != NULL ? rows[i].id : "",
		    "%s: identified as %s", rows[i].name, id);
		cr_assert_eq(ident_would_read(&bfix_b, bfix_conn(BFIX_C_PROXY),
		    &g, 1), rows[i].status != 403, "%s: would_read",
		    rows[i].name);
	}
}

/* The signature is checked first: any change to it is a 403. */
Test(ident, proxy_signature_exact)
{
	struct msg_guest	g;
	size_t			i;

	bfix_guest(&g, ID_A, "proj-a", 1);
	cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 200);
	for (i = 0; i < strlen(g.mg_sig); i += 7) {
		g.mg_sig[i] ^= 1;
		cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 403,
		    "signature changed at %zu", i);
		g.mg_sig[i] ^= 1;
	}
	g.mg_sig[strlen(g.mg_sig) - 1] = '\0';
	cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 403, "cut signature");
	/* No proxy secret configured: nobody is proven. */
	bfix_guest(&g, ID_A, "proj-a", 1);
	bfix_b.b_have_secret = 0;
	cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 403);
}

/*
 * The keyed HMAC state secret_load computes matches HMAC-SHA256 of the
 * secret itself, for every length: empty, one block, past a block (HMAC
 * hashes such a key first) and SECRET_MAX; and a secret loaded anew
 * replaces the state, so the old secret's signatures stop working.
 */
Test(ident, proxy_secret_lengths)
{
	static const size_t	lens[] = { 0, 1, 17, 63, 64, 65, 200,
				    SECRET_MAX };
	uint8_t			sec[SECRET_MAX];
	uint8_t			mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char			path[512], err[256], old[SIG_MAX + 1];
	struct msg_guest	g;
	size_t			i, k;

	(void)snprintf(path, sizeof(path), "%s/proxy_secret_n", bfix_dir);
	bfix_guest(&g, ID_A, "proj-a", 1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (k = 0; k < lens[i]; k++)
			sec[k] = (uint8_t)('!' + (i * 31 + k * 7) % 90);
		bfix_write(path, sec, lens[i]);
		secret_free(&bfix_b.b_secret);
		cr_assert_eq(secret_load(&bfix_b.b_secret, path, err,
		    sizeof(err)), 0, "%s", err);
		cr_assert_eq(bfix_b.b_secret.s_len, lens[i]);
		memcpy(old, g.mg_sig, sizeof(old));
		crypto_auth_hmacsha256_init(&st, sec, lens[i]);
		crypto_auth_hmacsha256_update(&st, (const uint8_t *)ID_A,
		    strlen(ID_A));
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2hex(g.mg_sig, sizeof(g.mg_sig), mac, sizeof(mac));
		cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 200,
		    "secret of %zu bytes", lens[i]);
		memcpy(g.mg_sig, old, sizeof(old));
		cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 403,
		    "secret of %zu bytes: the old one still signs", lens[i]);
		sodium_bin2hex(g.mg_sig, sizeof(g.mg_sig), mac, sizeof(mac));
	}
}

/*
 * Direct: who the guest is comes from the peer address and its
 * listener's network; what the headers claim changes nothing.
 */
Test(ident, direct_table)
{
	static const struct {
		const char	*name;
		enum bfix_conn	 conn;
		const char	*addr;
		int		 status;
		const char	*id;
	} rows[] = {
		{ "bare address", BFIX_C_DIRECT, "10.0.0.5", 200, ID_A },
		{ "IP@NET before the bare IP", BFIX_C_DIRECT_NET,
		    "10.0.0.5@" BFIX_NET, 200, ID_B },
		{ "IP@NET falls back to the bare IP", BFIX_C_DIRECT_NET,
		    "10.0.0.6@" BFIX_NET, 200, ID_E },
		{ "IP@NET row, no network on the listener", BFIX_C_DIRECT,
		    "10.0.0.7", 404, NULL },
		{ "IP@NET row, another network", BFIX_C_DIRECT_NET,
		    "10.0.0.7@other", 404, NULL },
		{ "IP@NET row, its network", BFIX_C_DIRECT_NET,
		    "10.0.0.7@" BFIX_NET, 200, ID_F },
		{ "link-local, its interface", BFIX_C_DIRECT,
		    "fe80::5%" BFIX_IF, 200, ID_C },
		{ "link-local, another interface", BFIX_C_DIRECT,
		    "fe80::5%eth2", 404, NULL },
		{ "link-local, no interface", BFIX_C_DIRECT, "fe80::5", 404,
		    NULL },
		{ "unregistered", BFIX_C_DIRECT, "10.9.9.9", 404, NULL },
	};
	struct msg_guest	g, claim;
	char			id[ID_LEN + 1];
	size_t			i;

	memset(&g, 0, sizeof(g));
	/* A claim of B, properly signed: it must be ignored. */
	bfix_guest(&claim, ID_B, "proj-b", 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		(void)snprintf(bfix_conn(rows[i].conn)->bc_addr,
		    sizeof(bfix_conn(rows[i].conn)->bc_addr), "%s",
		    rows[i].addr);
		cr_assert_eq(ident(rows[i].conn, &g, id), rows[i].status,
		    "%s", rows[i].name);
		cr_assert_str_eq(id, rows[i].id != NULL ? rows[i].id : "",
		    "%s: identified as %s", rows[i].name, id);
		cr_assert_eq(ident(rows[i].conn, &claim, id), rows[i].status,
		    "%s, claiming B", rows[i].name);
		cr_assert_str_eq(id, rows[i].id != NULL ? rows[i].id : "",
		    "%s: the claim of B made it %s", rows[i].name, id);
		cr_assert(ident_would_read(&bfix_b, bfix_conn(rows[i].conn),
		    &g, 1), "%s: would_read", rows[i].name);
	}
}

/* A token binds the address (direct) or the proven instance (proxy). */
Test(ident, binding)
{
	struct msg_guest	g;

	bfix_guest(&g, ID_B, "proj-b", 1);
	cr_assert_str_eq(ident_bind(bfix_conn(BFIX_C_DIRECT), &g),
	    "10.0.0.5");
	cr_assert_str_eq(ident_bind(bfix_conn(BFIX_C_DIRECT_NET), &g),
	    "10.0.0.5@" BFIX_NET);
	cr_assert_str_eq(ident_bind(bfix_conn(BFIX_C_PROXY), &g), ID_B);
}

static void
token_for(int class, const char *bind, char tok[TOKEN_LEN + 1])
{
	cr_assert_eq(tokens_issue(class, bind, 60, broker_wall_ms(), tok,
	    TOKEN_LEN + 1), 0);
}

Test(ident, tokens_table)
{
	enum { NONE, BAD_FLAG, GOOD, OTHER, CLASS };
	static const struct {
		const char	*name;
		enum bfix_conn	 conn;
		int		 token, need, status;
	} rows[] = {
		/* Required (proxy). */
		{ "required, none", BFIX_C_PROXY_TOKENS, NONE, 1, 401 },
		{ "required, its own", BFIX_C_PROXY_TOKENS, GOOD, 1, 200 },
		{ "required, another's", BFIX_C_PROXY_TOKENS, OTHER, 1, 401 },
		{ "required, its own from a direct listener",
		    BFIX_C_PROXY_TOKENS, CLASS, 1, 401 },
		{ "required, malformed", BFIX_C_PROXY_TOKENS, BAD_FLAG, 1,
		    401 },
		{ "required, not asked for", BFIX_C_PROXY_TOKENS, NONE, 0,
		    200 },
		/* Optional (direct): none is fine, a wrong one is not. */
		{ "optional, none", BFIX_C_DIRECT, NONE, 1, 200 },
		{ "optional, its own", BFIX_C_DIRECT, GOOD, 1, 200 },
		{ "optional, another's", BFIX_C_DIRECT, OTHER, 1, 401 },
		{ "optional, its own from a proxy listener", BFIX_C_DIRECT,
		    CLASS, 1, 401 },
		{ "optional, malformed", BFIX_C_DIRECT, BAD_FLAG, 1, 401 },
		/* Off: not looked at. */
		{ "off, another's", BFIX_C_PROXY, OTHER, 1, 200 },
	};
	struct store_inst	inst;
	struct msg_guest	g;
	char			mine[TOKEN_LEN + 1], other[TOKEN_LEN + 1];
	char			cross[TOKEN_LEN + 1];
	const struct bconn	*bc;
	size_t			i;
	int			r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bc = bfix_conn(rows[i].conn);
		if (bc->bc_ident == IDENT_DIRECT)
			memset(&g, 0, sizeof(g));
		else
			bfix_guest(&g, ID_A, "proj-a", 1);
		token_for(bc->bc_ident, ident_bind(bc, &g), mine);
		/* Bound to B: the other instance, or another address. */
		token_for(bc->bc_ident, bc->bc_ident == IDENT_DIRECT ?
		    "10.0.0.6" : ID_B, other);
		/* The same string, from the other kind of listener. */
		token_for(bc->bc_ident == IDENT_DIRECT ? IDENT_PROXY :
		    IDENT_DIRECT, ident_bind(bc, &g), cross);
		if (rows[i].token == GOOD)
			memcpy(g.mg_token, mine, sizeof(g.mg_token));
		else if (rows[i].token == OTHER)
			memcpy(g.mg_token, other, sizeof(g.mg_token));
		else if (rows[i].token == CLASS)
			memcpy(g.mg_token, cross, sizeof(g.mg_token));
		else if (rows[i].token == BAD_FLAG)
			g.mg_flags |= GUEST_F_TOKEN_BAD;
		memset(&inst, 0, sizeof(inst));
		r = ident_guest(&bfix_b, bc, &g, &inst, rows[i].need);
		store_read_end(bfix_b.b_store);
		cr_assert_eq(r, rows[i].status, "%s: %d", rows[i].name, r);
		cr_assert_eq(ident_would_read(&bfix_b, bc, &g, rows[i].need),
		    rows[i].status == 200, "%s: would_read", rows[i].name);
	}
}

/* The signature is judged before the token: a forger learns nothing. */
Test(ident, signature_before_token)
{
	struct msg_guest	g;

	bfix_guest(&g, ID_A, "proj-a", 0);
	cr_assert_eq(ident(BFIX_C_PROXY_TOKENS, &g, NULL), 403);
}

/*
 * The rate limit keys a direct guest by its address, a proxied one by
 * the instance its signature proves; would_read only asks.
 */
Test(ident, rate_limit_keys)
{
	struct msg_guest	g, forged;
	int			i;

	bfix_conf.c_rate = 1;
	bfix_conf.c_burst = 1;
	bfix_guest(&g, ID_A, "proj-a", 1);
	bfix_guest(&forged, ID_A, "proj-a", 0);
	/* Forgeries cost the instance nothing. */
	for (i = 0; i < 3; i++)
		cr_assert_eq(ident(BFIX_C_PROXY, &forged, NULL), 403);
	for (i = 0; i < 3; i++)
		cr_assert(ident_would_read(&bfix_b, bfix_conn(BFIX_C_PROXY),
		    &g, 1), "would_read took the budget");
	cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 200);
	cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 429);
	cr_assert_not(ident_would_read(&bfix_b, bfix_conn(BFIX_C_PROXY), &g,
	    1));
	/* Another instance through the same proxy has its own. */
	bfix_guest(&g, ID_B, "proj-b", 1);
	cr_assert_eq(ident(BFIX_C_PROXY, &g, NULL), 200);

	/* Direct: the address, registered or not, before any lookup. */
	memset(&g, 0, sizeof(g));
	cr_assert_eq(ident(BFIX_C_DIRECT, &g, NULL), 200);
	cr_assert_eq(ident(BFIX_C_DIRECT, &g, NULL), 429);
	(void)snprintf(bfix_conn(BFIX_C_DIRECT)->bc_addr, ADDR_MAX + 1,
	    "10.9.9.9");
	cr_assert_eq(ident(BFIX_C_DIRECT, &g, NULL), 404);
	cr_assert_eq(ident(BFIX_C_DIRECT, &g, NULL), 429);
	/* The same IP on a named network is another source. */
	cr_assert_eq(ident(BFIX_C_DIRECT_NET, &g, NULL), 200);
}

Test(ident, nets_ok)
{
	static const struct {
		const char	*addr;
		int		 ok;
	} rows[] = {
		{ "10.0.0.9", 1 },
		{ "10.0.0.9@" BFIX_NET, 1 },
		{ "fe80::9%" BFIX_IF "@" BFIX_NET, 1 },
		{ "10.0.0.9@nope", 0 },
	};
	struct store_inst	mi;
	size_t			i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&mi, 0, sizeof(mi));
		(void)snprintf(mi.ri_addr[0], sizeof(mi.ri_addr[0]),
		    "10.1.1.1");
		(void)snprintf(mi.ri_addr[1], sizeof(mi.ri_addr[1]), "%s",
		    rows[i].addr);
		mi.ri_naddr = 2;
		cr_assert_eq(ident_nets_ok(&bfix_b, &mi), rows[i].ok, "%s",
		    rows[i].addr);
	}
	/* A network named only by a proxy or owner listener is none. */
	bfix_b.b_listen[BFIX_L_DIRECT_NET].l_ident = IDENT_PROXY;
	(void)snprintf(mi.ri_addr[1], sizeof(mi.ri_addr[1]), "10.0.0.9@"
	    BFIX_NET);
	cr_assert_not(ident_nets_ok(&bfix_b, &mi));
}
