#include <arpa/inet.h>

#include <string.h>

#include "chan.h"
#include "validate.h"

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

/* A literal address in the form inet_ntop writes it. */
int
valid_addr(const char *s)
{
	unsigned char	bin[16];
	char		canon[ADDR_MAX + 1];
	int		af;

	af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (strlen(s) > ADDR_MAX || inet_pton(af, s, bin) != 1)
		return 0;
	if (inet_ntop(af, bin, canon, sizeof(canon)) == NULL)
		return 0;
	return strcmp(canon, s) == 0;
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
