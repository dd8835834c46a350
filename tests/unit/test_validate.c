/* SPDX-License-Identifier: ISC */
/*
 * Registered addresses, IP[%IFNAME][@NET]: what is accepted, and the
 * reason given for what is not.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "privsep/validate.h"

static void
bad(const char *a, const char *why)
{
	const char	*got = addr_why(a);

	cr_assert_not_null(got, "accepted \"%s\"", a);
	cr_assert_not_null(strstr(got, why), "\"%s\": \"%s\" lacks \"%s\"",
	    a, got, why);
	cr_assert_not(valid_addr(a));
}

static void
good(const char *a)
{
	cr_assert_null(addr_why(a), "refused \"%s\": %s", a, addr_why(a));
	cr_assert(valid_addr(a));
}

Test(addr, plain_addresses_as_before)
{
	good("10.0.0.5");
	good("fd00::5");
	good("2001:db8::1");
	bad("10.0.0.05", "canonical");
	bad("FD00::5", "canonical");
	bad("fd00:0::5", "canonical");
	bad("example.org", "canonical");
	bad("", "canonical");
}

Test(addr, link_local_needs_its_interface)
{
	bad("fe80::5", "needs its interface");
	bad("febf::5", "needs its interface");	/* fe80::/10, all of it */
	bad("fe80::5@net", "needs its interface");
	good("fe80::5%eth1");
	good("fe80::a9fe:a9fe%tap1a2b3c4d-5e");
	good("fe80::5%eth1@prov-a");
	bad("fe80::5%", "interface after %");
	bad("fe80::5%eth/1", "interface after %");
	bad("fe80::5%abcdefghijklmnop", "interface after %");	/* 16 */
	good("fe80::5%abcdefghijklmno");			/* 15 */
	bad("fe80::5%eth1%eth2", "interface after %");
}

Test(addr, only_link_local_takes_an_interface)
{
	bad("10.0.0.5%eth0", "only a link-local");
	bad("fd00::5%eth0", "only a link-local");
	bad("fec0::5%eth0", "only a link-local");
}

Test(addr, network_names_a_section)
{
	char	a[ADDR_MAX + 8];

	good("10.0.0.5@guestnet");
	good("10.0.0.5@a.b_c-d");
	bad("10.0.0.5@", "network after @");
	bad("10.0.0.5@a b", "network after @");
	bad("10.0.0.5@a@b", "network after @");
	bad("10.0.0.5@a%b", "network after @");
	bad("@net", "canonical");
	/* The longest there is fits ADDR_MAX; one more character does not. */
	memset(a, 0, sizeof(a));
	memcpy(a, "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff%abcdefghijklmno@",
	    56);
	memset(a + 56, 'n', ADDR_NET_MAX);
	good(a);
	cr_assert_leq(strlen(a), ADDR_MAX);
	a[56 + ADDR_NET_MAX] = 'n';
	bad(a, "network after @");
	cr_assert_str_eq(addr_net("10.0.0.5@guestnet"), "guestnet");
	cr_assert_null(addr_net("10.0.0.5"));
}

Test(addr, interface_names)
{
	cr_assert(valid_ifname("eth0"));
	cr_assert(valid_ifname("br-ex.100"));
	cr_assert_not(valid_ifname(""));
	cr_assert_not(valid_ifname("veth0@if3"));
	cr_assert_not(valid_ifname("a:b"));
	cr_assert_not(valid_ifname("abcdefghijklmnop"));
}
