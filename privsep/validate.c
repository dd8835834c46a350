/* SPDX-License-Identifier: ISC */
/*
 * Field validators (validate.h), linked into the broker and the worker:
 * instance and project ids, host names, addresses with their interface
 * and network.  The worker uses them to answer 400 early; the broker
 * checks every field again, trusting none.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "chan.h"
#include "validate.h"

#define ADDR_IF_SET	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_.-"

static int
is_lhex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Canonical lowercase 8-4-4-4-12; callers lowercase user input first. */
int
valid_uuid(const char *s)
{
	size_t	i;

	if (strlen(s) != ID_LEN)
		return 0;
	for (i = 0; i < ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!is_lhex(s[i]))
			return 0;
	}
	return 1;
}

static int
valid_charset(const char *s, size_t max, const char *extra)
{
	size_t	n = strlen(s), i;
	char	c;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(extra, c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

int
valid_project(const char *s)
{
	return valid_charset(s, PROJECT_MAX, "_-");
}

/* Empty is allowed: the hostname is optional. */
int
valid_hostname(const char *s)
{
	return s[0] == '\0' || valid_charset(s, HOSTNAME_MAX, ".-");
}

/*
 * IP[%IFNAME][@NET]: IP a literal address in the form inet_ntop writes
 * it; IFNAME the interface of a link-local IPv6 address, which needs one
 * (the same fe80:: address may be on every link); NET the name of the
 * [guest NET] section whose listeners the address is matched on.  NULL
 * when s is one, else what is wrong with it.
 */
const char *
addr_why(const char *s)
{
	struct in6_addr	 a6;
	unsigned char	 bin[16];
	char		 ip[ADDR_IP_MAX + 1], canon[ADDR_IP_MAX + 1];
	const char	*net, *ifn;
	size_t		 iplen, iflen = 0;
	int		 af;

	if ((net = strchr(s, '@')) != NULL && !valid_net(net + 1))
		return "the network after @ must be 1 to 32 characters of "
		    "[A-Za-z0-9_.-], the NAME of a [guest NAME] section";
	iplen = net != NULL ? (size_t)(net - s) : strlen(s);
	if ((ifn = memchr(s, '%', iplen)) != NULL) {
		iflen = iplen - (size_t)(ifn - s) - 1;
		iplen = (size_t)(ifn - s);
	}
	af = memchr(s, ':', iplen) != NULL ? AF_INET6 : AF_INET;
	if (iplen > ADDR_IP_MAX)
		return "not a literal IPv4 or IPv6 address in canonical form";
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (inet_pton(af, ip, bin) != 1 ||
	    inet_ntop(af, bin, canon, sizeof(canon)) == NULL ||
	    strcmp(canon, ip) != 0)
		return "not a literal IPv4 or IPv6 address in canonical form";
	memcpy(&a6, bin, sizeof(a6));
	if (af == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a6)) {
		if (ifn == NULL)
			return "a link-local address needs its interface, "
			    "as in fe80::5%eth1";
	} else if (ifn != NULL)
		return "only a link-local IPv6 address takes an interface";
	if (ifn != NULL && (iflen == 0 || iflen > ADDR_IF_MAX ||
	    strspn(ifn + 1, ADDR_IF_SET) != iflen))
		return "the interface after % must be 1 to 15 characters of "
		    "[A-Za-z0-9_.-]";
	return NULL;
}

/* A network's name: the NAME of its [guest NAME] section. */
int
valid_net(const char *s)
{
	return valid_charset(s, ADDR_NET_MAX, "_.-");
}

/* An interface name as an address may carry it. */
int
valid_ifname(const char *s)
{
	size_t	n = strlen(s);

	return n > 0 && n <= ADDR_IF_MAX && strspn(s, ADDR_IF_SET) == n;
}

int
valid_addr(const char *s)
{
	return addr_why(s) == NULL;
}

/* The NET of a valid IP[%IFNAME]@NET, or NULL. */
const char *
addr_net(const char *s)
{
	const char	*net = strchr(s, '@');

	return net != NULL ? net + 1 : NULL;
}

int
valid_key_name(const char *s)
{
	return valid_charset(s, KEYNAME_MAX, "_.@-");
}

/* "TYPE BASE64[ COMMENT]", printable ASCII. */
int
valid_key_data(const char *s)
{
	size_t	n = strlen(s), i;

	if (n < 3 || n > KEYDATA_MAX || strchr(s, ' ') == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
valid_instance(const struct msg_instance *mi)
{
	size_t	i, j;

	if (!chan_str_ok(mi->mn_id, sizeof(mi->mn_id)) ||
	    !chan_str_ok(mi->mn_project, sizeof(mi->mn_project)) ||
	    !chan_str_ok(mi->mn_hostname, sizeof(mi->mn_hostname)) ||
	    !valid_uuid(mi->mn_id) || !valid_project(mi->mn_project) ||
	    !valid_hostname(mi->mn_hostname) ||
	    mi->mn_naddr > INST_ADDRS_MAX || mi->mn_nkeys > INST_KEYS_MAX ||
	    mi->mn_pw_ttl < -1 || mi->mn_pw_ttl > PW_TTL_MAX ||
	    mi->mn_one_time < -1 || mi->mn_one_time > 1 ||
	    mi->mn_mode < PW_MODE_DEFAULT || mi->mn_mode > PW_MODE_VERIFIER)
		return 0;
	for (i = 0; i < mi->mn_naddr; i++) {
		if (!chan_str_ok(mi->mn_addr[i], sizeof(mi->mn_addr[i])) ||
		    !valid_addr(mi->mn_addr[i]))
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(mi->mn_addr[i], mi->mn_addr[j]) == 0)
				return 0;
	}
	for (i = 0; i < mi->mn_nkeys; i++) {
		if (!chan_str_ok(mi->mn_keys[i].mk_name,
		    sizeof(mi->mn_keys[i].mk_name)) ||
		    !chan_str_ok(mi->mn_keys[i].mk_data,
		    sizeof(mi->mn_keys[i].mk_data)) ||
		    !valid_key_name(mi->mn_keys[i].mk_name) ||
		    !valid_key_data(mi->mn_keys[i].mk_data))
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(mi->mn_keys[i].mk_name,
			    mi->mn_keys[j].mk_name) == 0)
				return 0;
	}
	return 1;
}
