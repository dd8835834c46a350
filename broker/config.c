/* SPDX-License-Identifier: ISC */
/*
 * sealmd.conf.  libinih splits the file into section, name and value; this
 * file holds every value to the contract in config.h.  Anything unknown,
 * malformed, repeated or missing is an error that names FILE:LINE.
 *
 * inih's handler is told neither the line number nor when a section
 * starts, so the file reaches inih through conf_reader, which counts lines
 * and opens each section itself.  That is also what makes an empty or
 * misspelt section an error, reported on its own header line.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "privsep/buf.h"
#include "privsep/validate.h"

/* Long enough for a public_key line of KEYDATA_MAX bytes. */
#define CONF_LINE_MAX		(KEYDATA_MAX + 512)
#define CONF_SECTION_MAX	48	/* inih silently cuts at 49 */
#define CONF_GUEST_NAME_MAX	ADDR_NET_MAX	/* an address's @NET */
#define CONF_NAME_MAX		63	/* user and group names */
#define CONF_INSTANCES_FIRST	16
/* Connection ids keep 16 bits of slot, with 32 owner slots. */
#define CONF_CONNS_MAX		65000
#define CONF_TIMEOUT_MIN	100
#define CONF_TIMEOUT_MAX	3600000

#define CONF_ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"abcdefghijklmnopqrstuvwxyz0123456789"
#define CONF_NAME_SET	CONF_ALNUM "_.-"
#define CONF_TOKEN_SET	CONF_ALNUM "!#$%&'*+-.^_`|~"
#define CONF_KEYTYPE_SET CONF_ALNUM "@._-"
#define CONF_BASE64_SET	CONF_ALNUM "+/="

enum conf_sec {
	SEC_NONE,
	SEC_SEALMD,
	SEC_LIMITS,
	SEC_GUEST,
	SEC_OWNER,
	SEC_STORE,
	SEC_INSTANCE,
	SEC_COUNT
};

struct conf_parse;

struct conf_key {
	enum conf_sec	  k_sec;
	const char	 *k_name;
	int		  k_multi;	/* may be given more than once */
	int		(*k_set)(struct conf_parse *, const struct conf_key *,
			    const char *);
	size_t		  k_off;	/* the field in struct config */
	size_t		  k_size;
	uint32_t	  k_min;
	uint32_t	  k_max;
};

static int	conf_err(struct conf_parse *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	conf_set_path(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_name(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_u32(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_listen(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_guard(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_bool(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_mode(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_identity(struct conf_parse *,
		    const struct conf_key *, const char *);
static int	conf_set_secret(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_socket(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_uid(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_group(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_conninfo(struct conf_parse *,
		    const struct conf_key *, const char *);
static int	conf_set_backend(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_project(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_address(struct conf_parse *,
		    const struct conf_key *, const char *);
static int	conf_set_hostname(struct conf_parse *,
		    const struct conf_key *, const char *);
static int	conf_set_pubkey(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_tls(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_tlsfile(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_owner_listen(struct conf_parse *,
		    const struct conf_key *, const char *);
static int	conf_set_subject(struct conf_parse *, const struct conf_key *,
		    const char *);
static int	conf_set_device(struct conf_parse *, const struct conf_key *,
		    const char *);

#define F(f)	offsetof(struct config, f), sizeof(((struct config *)NULL)->f)
#define NOF	0, 0

static const struct conf_key conf_keys[] = {
	{ SEC_SEALMD, "state_dir", 0, conf_set_path, F(c_state_dir), 0, 0 },
	{ SEC_SEALMD, "key_dir", 0, conf_set_path, F(c_key_dir), 0, 0 },
	{ SEC_SEALMD, "token_key_file", 0, conf_set_path, F(c_token_key),
	    0, 0 },
	{ SEC_SEALMD, "token_key_previous_file", 0, conf_set_path,
	    F(c_token_key_prev), 0, 0 },
	{ SEC_SEALMD, "worker_user", 0, conf_set_name, F(c_worker_user),
	    0, 0 },
	{ SEC_SEALMD, "chroot", 0, conf_set_path, F(c_chroot), 0, 0 },
	{ SEC_SEALMD, "worker_path", 0, conf_set_path, F(c_worker_path),
	    0, 0 },
	{ SEC_LIMITS, "max_conns", 0, conf_set_u32, F(c_max_conns),
	    1, CONF_CONNS_MAX },
	{ SEC_LIMITS, "header_timeout_ms", 0, conf_set_u32,
	    F(c_header_timeout_ms), CONF_TIMEOUT_MIN, CONF_TIMEOUT_MAX },
	{ SEC_LIMITS, "body_timeout_ms", 0, conf_set_u32,
	    F(c_body_timeout_ms), CONF_TIMEOUT_MIN, CONF_TIMEOUT_MAX },
	{ SEC_LIMITS, "idle_timeout_ms", 0, conf_set_u32,
	    F(c_idle_timeout_ms), CONF_TIMEOUT_MIN, CONF_TIMEOUT_MAX },
	{ SEC_LIMITS, "rate", 0, conf_set_u32, F(c_rate), 0, CONF_RATE_MAX },
	{ SEC_LIMITS, "burst", 0, conf_set_u32, F(c_burst), 1, CONF_RATE_MAX },
	{ SEC_LIMITS, "owner_conn_idle_ms", 0, conf_set_u32,
	    F(c_conn[ROLE_OWNER].cc_idle_ms), CONF_TIMEOUT_MIN,
	    CONF_TIMEOUT_MAX },
	{ SEC_LIMITS, "owner_conn_lifetime_ms", 0, conf_set_u32,
	    F(c_conn[ROLE_OWNER].cc_life_ms), CONF_LIFE_MIN_MS,
	    CONF_LIFE_MAX_MS },
	{ SEC_LIMITS, "owner_conn_requests", 0, conf_set_u32,
	    F(c_conn[ROLE_OWNER].cc_requests), 1, CONF_REQUESTS_MAX },
	{ SEC_LIMITS, "guest_conn_idle_ms", 0, conf_set_u32,
	    F(c_conn[ROLE_GUEST].cc_idle_ms), CONF_TIMEOUT_MIN,
	    CONF_TIMEOUT_MAX },
	{ SEC_LIMITS, "guest_conn_lifetime_ms", 0, conf_set_u32,
	    F(c_conn[ROLE_GUEST].cc_life_ms), CONF_LIFE_MIN_MS,
	    CONF_LIFE_MAX_MS },
	{ SEC_LIMITS, "guest_conn_requests", 0, conf_set_u32,
	    F(c_conn[ROLE_GUEST].cc_requests), 1, CONF_REQUESTS_MAX },
	{ SEC_GUEST, "listen", 1, conf_set_listen, NOF, 0, 0 },
	{ SEC_GUEST, "identity", 0, conf_set_identity, NOF, 0, 0 },
	{ SEC_GUEST, "interface", 0, conf_set_device, NOF, 0, 0 },
	{ SEC_GUEST, "proxy_secret_file", 0, conf_set_secret, NOF, 0, 0 },
	{ SEC_GUEST, "tls", 0, conf_set_tls, NOF, 0, 0 },
	{ SEC_GUEST, "tls_cert", 0, conf_set_tlsfile, NOF, 0, 0 },
	{ SEC_GUEST, "tls_key", 0, conf_set_tlsfile, NOF, 0, 0 },
	{ SEC_GUEST, "require_header", 0, conf_set_guard, NOF, 0, 0 },
	{ SEC_GUEST, "session_tokens", 0, conf_set_guard, NOF, 0, 0 },
	{ SEC_GUEST, "hop_limit", 0, conf_set_guard, NOF, 0, GUARD_HOPS_MAX },
	{ SEC_GUEST, "post_window", 0, conf_set_guard, NOF, 0,
	    GUARD_WINDOW_MAX },
	{ SEC_OWNER, "socket", 0, conf_set_socket, F(c_owner_socket), 0, 0 },
	{ SEC_OWNER, "allow_uid", 1, conf_set_uid, NOF, 0, 0 },
	{ SEC_OWNER, "allow_group", 1, conf_set_group, NOF, 0, 0 },
	{ SEC_OWNER, "listen_tls", 0, conf_set_owner_listen, NOF, 0, 0 },
	{ SEC_OWNER, "tls_cert", 0, conf_set_tlsfile, NOF, 0, 0 },
	{ SEC_OWNER, "tls_key", 0, conf_set_tlsfile, NOF, 0, 0 },
	{ SEC_OWNER, "tls_client_ca", 0, conf_set_tlsfile, NOF, 0, 0 },
	{ SEC_OWNER, "allow_subject", 1, conf_set_subject, NOF, 0, 0 },
	{ SEC_OWNER, "token_hashes_file", 0, conf_set_path, F(c_token_file),
	    0, 0 },
	{ SEC_STORE, "backend", 0, conf_set_backend, NOF, 0, 0 },
	{ SEC_STORE, "path", 0, conf_set_path, F(c_store_path), 0, 0 },
	{ SEC_STORE, "conninfo", 0, conf_set_conninfo, F(c_store_conninfo), 0,
	    0 },
	{ SEC_STORE, "password_ttl", 0, conf_set_u32, F(c_pw_ttl), 0,
	    PW_TTL_MAX },
	{ SEC_STORE, "one_time_read", 0, conf_set_bool, F(c_one_time), 0, 0 },
	{ SEC_STORE, "mode", 0, conf_set_mode, NOF, 0, 0 },
	{ SEC_STORE, "verifier_ops", 0, conf_set_u32, F(c_vops), 1, 100 },
	{ SEC_STORE, "verifier_mem", 0, conf_set_u32, F(c_vmem), 8192,
	    UINT32_MAX },
	{ SEC_INSTANCE, "project", 0, conf_set_project, NOF, 0, 0 },
	{ SEC_INSTANCE, "address", 1, conf_set_address, NOF, 0, 0 },
	{ SEC_INSTANCE, "hostname", 0, conf_set_hostname, NOF, 0, 0 },
	{ SEC_INSTANCE, "public_key", 1, conf_set_pubkey, NOF, 0, 0 },
};
#define CONF_NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

/* Sections that may appear once, with no argument. */
static const struct {
	const char	*name;
	enum conf_sec	 sec;
} conf_plain[] = {
	{ "sealmd", SEC_SEALMD },
	{ "limits", SEC_LIMITS },
	{ "owner", SEC_OWNER },
	{ "store", SEC_STORE },
};

struct conf_parse {
	struct config	*p_conf;
	const char	*p_path;
	char		*p_err;
	size_t		 p_errlen;
	int		 p_failed;

	FILE		*p_fp;
	char		*p_line;	/* getline's buffer */
	size_t		 p_linesz;
	int		 p_lineno;

	enum conf_sec	 p_sec;		/* the open section */
	char		 p_secname[CONF_SECTION_MAX + 1];
	int		 p_secline;
	uint8_t		 p_seen[CONF_NKEYS];	/* keys given in it */
	int		 p_plain_line[SEC_COUNT];

	char		 p_guest[CONF_LISTEN_MAX][CONF_SECTION_MAX + 1];
	size_t		 p_nguest;
	size_t		 p_listen_first;	/* this section's listeners */
	int		 p_ident;		/* 0 until given */
	struct conf_guard p_guard;		/* this section's guards */
	int		 p_hops_given;
	char		 p_device[ADDR_IF_MAX + 1];	/* this section's */
	int		 p_proxy_line;	/* first proxy section with listeners */
	int		 p_tls;		/* this section's tls: 0 unset, 1, -1 */
	char		 p_tls_cert[PATH_MAX];
	char		 p_tls_key[PATH_MAX];
	char		 p_tls_ca[PATH_MAX];
	int		 p_secret_line;
	size_t		 p_instcap;
};

static int
conf_err(struct conf_parse *p, int line, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	/* The first error is the one worth reading. */
	if (p->p_failed++ || p->p_errlen == 0)
		return -1;
	if (line > 0)
		n = snprintf(p->p_err, p->p_errlen, "%s:%d: ", p->p_path, line);
	else
		n = snprintf(p->p_err, p->p_errlen, "%s: ", p->p_path);
	if (n < 0 || (size_t)n >= p->p_errlen)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(p->p_err + n, p->p_errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Text from the file, made safe to quote in an error message. */
static const char *
conf_vis(const char *s, char *dst, size_t dstsz)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[i] = '\0';
	if (s[i] != '\0' && dstsz > 4)
		memcpy(dst + dstsz - 4, "...", 4);
	return dst;
}

/* True when s is 1 to max bytes, all from set. */
static int
conf_chars_ok(const char *s, size_t max, const char *set)
{
	size_t	n = strlen(s);

	return n > 0 && n <= max && strspn(s, set) == n;
}

static int
conf_name_ok(const char *s)
{
	return conf_chars_ok(s, CONF_NAME_MAX, CONF_NAME_SET) && s[0] != '-';
}

static int
conf_uuid_ok(const char *s)
{
	size_t	i;

	if (strlen(s) != ID_LEN)
		return 0;
	for (i = 0; i < ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	}
	return 1;
}

static int
conf_copy(struct conf_parse *p, const struct conf_key *k, char *dst,
    size_t dstsz, const char *v)
{
	size_t	n = strlen(v);

	if (n >= dstsz)
		return conf_err(p, p->p_lineno, "%s: longer than %zu bytes",
		    k->k_name, dstsz - 1);
	memcpy(dst, v, n + 1);
	return 0;
}

static struct msg_instance *
conf_inst(struct conf_parse *p)
{
	return &p->p_conf->c_instances[p->p_conf->c_ninstances - 1];
}

static int
conf_set_path(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	if (v[0] != '/')
		return conf_err(p, p->p_lineno, "%s: not an absolute path",
		    k->k_name);
	return conf_copy(p, k, (char *)p->p_conf + k->k_off, k->k_size, v);
}

static int
conf_set_name(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	if (!conf_name_ok(v))
		return conf_err(p, p->p_lineno, "%s: not a valid user name",
		    k->k_name);
	return conf_copy(p, k, (char *)p->p_conf + k->k_off, k->k_size, v);
}

static int
conf_set_u32(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	struct buf	b;
	uint64_t	n;
	uint32_t	n32;

	buf_init(&b, v, strlen(v));
	if (buf_to_u64(&b, k->k_max, &n) == -1 || n < k->k_min)
		return conf_err(p, p->p_lineno,
		    "%s: not a number from %u to %u", k->k_name, k->k_min,
		    k->k_max);
	n32 = (uint32_t)n;
	memcpy((char *)p->p_conf + k->k_off, &n32, sizeof(n32));
	return 0;
}

/*
 * HOST:PORT, HOST a literal address, IPv6 in brackets; port 0 is allowed.
 * A link-local IPv6 address must name its interface ([fe80::1%eth0]):
 * the kernel cannot bind it otherwise.
 */
static int
conf_hostport(struct conf_parse *p, const struct conf_key *k, const char *v,
    struct conf_listen *l)
{
	struct in6_addr		 addr;
	struct buf		 b;
	char			 host[ADDR_IP_MAX + ADDR_IF_MAX + 2];
	const char		*h, *e;
	char			*ifn;
	uint64_t		 port;
	int			 af;

	if (v[0] == '[') {
		af = AF_INET6;
		h = v + 1;
		if ((e = strchr(h, ']')) == NULL || e[1] != ':')
			return conf_err(p, p->p_lineno,
			    "%s: not [IPV6]:PORT", k->k_name);
	} else {
		af = AF_INET;
		h = v;
		if ((e = strchr(h, ':')) == NULL || strchr(e + 1, ':') != NULL)
			return conf_err(p, p->p_lineno, "%s: not IPV4:PORT "
			    "or [IPV6]:PORT", k->k_name);
	}
	if ((size_t)(e - h) >= sizeof(host))
		return conf_err(p, p->p_lineno,
		    "%s: not a literal IP address", k->k_name);
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = '\0';
	if (af == AF_INET6 && (ifn = strchr(host, '%')) != NULL)
		*ifn++ = '\0';
	else
		ifn = NULL;
	if (inet_pton(af, host, &addr) != 1)
		return conf_err(p, p->p_lineno,
		    "%s: not a literal IP address", k->k_name);
	if (af == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&addr) && ifn == NULL)
		return conf_err(p, p->p_lineno, "%s: a link-local address "
		    "needs its interface, as in [%s%%eth0]:PORT", k->k_name,
		    host);
	if (ifn != NULL && (!IN6_IS_ADDR_LINKLOCAL(&addr) ||
	    !valid_ifname(ifn)))
		return conf_err(p, p->p_lineno, "%s: only a link-local "
		    "address takes an interface, of 1 to %d characters of "
		    "[A-Za-z0-9_.-]", k->k_name, ADDR_IF_MAX);
	e += af == AF_INET6 ? 2 : 1;
	buf_init(&b, e, strlen(e));
	if (buf_to_u64(&b, 65535, &port) == -1)
		return conf_err(p, p->p_lineno,
		    "%s: port is not a number from 0 to 65535", k->k_name);

	memset(l, 0, sizeof(*l));
	(void)inet_ntop(af, &addr, l->cl_host, sizeof(l->cl_host));
	if (ifn != NULL)
		(void)snprintf(l->cl_host + strlen(l->cl_host),
		    sizeof(l->cl_host) - strlen(l->cl_host), "%%%s", ifn);
	(void)snprintf(l->cl_port, sizeof(l->cl_port), "%u",
	    (unsigned int)port);
	(void)snprintf(l->cl_section, sizeof(l->cl_section), "%s",
	    p->p_secname);
	return 0;
}

static int
conf_set_listen(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	struct config	*c = p->p_conf;

	if (c->c_nlisten >= CONF_LISTEN_MAX)
		return conf_err(p, p->p_lineno, "%s: more than %d listeners",
		    k->k_name, CONF_LISTEN_MAX);
	if (conf_hostport(p, k, v, &c->c_listen[c->c_nlisten]) == -1)
		return -1;
	c->c_nlisten++;
	return 0;
}

/* The owner API over TCP: always TLS, never anonymous. */
static int
conf_set_owner_listen(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct config	*c = p->p_conf;

	if (conf_hostport(p, k, v, &c->c_owner_tcp) == -1)
		return -1;
	c->c_owner_listen = 1;
	return 0;
}

static int
conf_set_tls(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	if (strcmp(v, "yes") == 0)
		p->p_tls = 1;
	else if (strcmp(v, "no") == 0)
		p->p_tls = -1;
	else
		return conf_err(p, p->p_lineno, "%s: not yes or no",
		    k->k_name);
	return 0;
}

/* An absolute path, or the name of a systemd credential. */
static int
conf_set_tlsfile(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	char	*dst;

	if (v[0] != '/' && (!conf_chars_ok(v, CONF_NAME_MAX, CONF_NAME_SET) ||
	    v[0] == '.'))
		return conf_err(p, p->p_lineno, "%s: not an absolute path or "
		    "a credential name", k->k_name);
	if (strcmp(k->k_name, "tls_cert") == 0)
		dst = p->p_tls_cert;
	else if (strcmp(k->k_name, "tls_key") == 0)
		dst = p->p_tls_key;
	else
		dst = p->p_tls_ca;
	return conf_copy(p, k, dst, PATH_MAX, v);
}

/*
 * A subject as the worker writes a certificate's (worker/tls.c): each
 * attribute "/KEY=VALUE" ('+' before the next of a multi-valued RDN),
 * the key letters, digits and dots, the value UTF-8 with \, /, + and =
 * escaped by a backslash.  Written so, a subject has one reading, and
 * the broker compares the two strings.  NULL, or what is wrong.
 */
static const char *
conf_subject_bad(const char *v)
{
	size_t	i = 0, key;

	if (v[0] != '/')
		return "not a subject in the form /CN=name";
	while (v[i] != '\0') {
		if (v[i] == '/' || v[i] == '+') {
			key = ++i;
			while (isalnum((unsigned char)v[i]) || v[i] == '.')
				i++;
			if (i == key || v[i] != '=')
				return "an attribute is not KEY=VALUE";
			i++;
		} else if (v[i] == '\\') {
			if (v[i + 1] != '\\' && v[i + 1] != '/' &&
			    v[i + 1] != '+' && v[i + 1] != '=')
				return "only \\\\, \\/, \\+ and \\= are "
				    "escapes";
			i += 2;
		} else if (v[i] == '=')
			return "an '=' in a value must be written \\=";
		else if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return "a control character";
		else
			i++;
	}
	return NULL;
}

static int
conf_set_subject(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct config	*c = p->p_conf;
	const char	*why;

	if (c->c_nallow_subject >= CONF_ALLOW_MAX)
		return conf_err(p, p->p_lineno, "%s: more than %d",
		    k->k_name, CONF_ALLOW_MAX);
	if ((why = conf_subject_bad(v)) != NULL)
		return conf_err(p, p->p_lineno, "%s: %s", k->k_name, why);
	if (conf_copy(p, k, c->c_allow_subject[c->c_nallow_subject],
	    sizeof(c->c_allow_subject[0]), v) == -1)
		return -1;
	c->c_nallow_subject++;
	return 0;
}

static int
conf_set_identity(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	if (strcmp(v, "proxy") == 0)
		p->p_ident = IDENT_PROXY;
	else if (strcmp(v, "direct") == 0)
		p->p_ident = IDENT_DIRECT;
	else
		return conf_err(p, p->p_lineno, "%s: not proxy or direct",
		    k->k_name);
	return 0;
}

/*
 * interface = NAME: the section's listeners take connections that come in
 * on that interface only (SO_BINDTODEVICE), so that two networks may
 * share one address, 169.254.169.254 say, each on its own listener.
 */
static int
conf_set_device(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	if (!valid_ifname(v))
		return conf_err(p, p->p_lineno, "%s: not an interface name, 1 "
		    "to %d characters of [A-Za-z0-9_.-]", k->k_name,
		    ADDR_IF_MAX);
	(void)snprintf(p->p_device, sizeof(p->p_device), "%s", v);
	return 0;
}

/*
 * The guards of a guest section: require_header = NAME: VALUE,
 * session_tokens = off|optional|required, hop_limit = N (0 leaves the
 * kernel's default), post_window = SECONDS (0: no window).
 */
static int
conf_set_guard(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	struct conf_guard	*g = &p->p_guard;
	const char		*colon;
	struct buf		 b;
	uint64_t		 n;
	size_t			 nlen;

	if (strcmp(k->k_name, "require_header") == 0) {
		if ((colon = strchr(v, ':')) == NULL)
			return conf_err(p, p->p_lineno, "%s: not NAME: VALUE",
			    k->k_name);
		nlen = (size_t)(colon - v);
		do
			colon++;
		while (*colon == ' ' || *colon == '\t');
		if (nlen == 0 || nlen > GUARD_HEADER_NAME_MAX ||
		    strlen(colon) == 0 ||
		    strlen(colon) > GUARD_HEADER_VALUE_MAX)
			return conf_err(p, p->p_lineno, "%s: NAME of 1 to %d "
			    "and VALUE of 1 to %d characters", k->k_name,
			    GUARD_HEADER_NAME_MAX, GUARD_HEADER_VALUE_MAX);
		memcpy(g->cg_header, v, nlen);
		g->cg_header[nlen] = '\0';
		if (!conf_chars_ok(g->cg_header, GUARD_HEADER_NAME_MAX,
		    CONF_TOKEN_SET))
			return conf_err(p, p->p_lineno, "%s: the name is not "
			    "an HTTP token", k->k_name);
		(void)snprintf(g->cg_value, sizeof(g->cg_value), "%s", colon);
		return 0;
	}
	if (strcmp(k->k_name, "session_tokens") == 0) {
		if (strcmp(v, "off") == 0)
			g->cg_tokens = GUARD_TOKENS_OFF;
		else if (strcmp(v, "optional") == 0)
			g->cg_tokens = GUARD_TOKENS_OPTIONAL;
		else if (strcmp(v, "required") == 0)
			g->cg_tokens = GUARD_TOKENS_REQUIRED;
		else
			return conf_err(p, p->p_lineno, "%s: not off, "
			    "optional or required", k->k_name);
		return 0;
	}
	buf_init(&b, v, strlen(v));
	if (buf_to_u64(&b, k->k_max, &n) == -1)
		return conf_err(p, p->p_lineno, "%s: not a number from 0 to "
		    "%u", k->k_name, k->k_max);
	if (strcmp(k->k_name, "hop_limit") == 0) {
		g->cg_hops = (int)n;
		p->p_hops_given = 1;
	} else
		g->cg_post_window = (uint32_t)n;
	return 0;
}

/* escrow keeps the value (Nova); verifier only an Argon2id verifier. */
static int
conf_set_mode(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	if (strcmp(v, "escrow") == 0)
		p->p_conf->c_mode = PW_MODE_ESCROW;
	else if (strcmp(v, "verifier") == 0)
		p->p_conf->c_mode = PW_MODE_VERIFIER;
	else
		return conf_err(p, p->p_lineno, "%s: not escrow or verifier",
		    k->k_name);
	return 0;
}

static int
conf_set_bool(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	uint32_t	b;

	if (strcmp(v, "yes") == 0)
		b = 1;
	else if (strcmp(v, "no") == 0)
		b = 0;
	else
		return conf_err(p, p->p_lineno, "%s: not yes or no", k->k_name);
	memcpy((char *)p->p_conf + k->k_off, &b, sizeof(b));
	return 0;
}

/* One secret for every proxy listener, so any guest section may name it. */
static int
conf_set_secret(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	char	*dst = p->p_conf->c_proxy_secret_file;

	if (v[0] != '/')
		return conf_err(p, p->p_lineno, "%s: not an absolute path",
		    k->k_name);
	if (dst[0] != '\0' && strcmp(dst, v) != 0)
		return conf_err(p, p->p_lineno,
		    "%s: differs from the one at line %d", k->k_name,
		    p->p_secret_line);
	p->p_secret_line = p->p_lineno;
	return conf_copy(p, k, dst, sizeof(p->p_conf->c_proxy_secret_file),
	    v);
}

static int
conf_set_socket(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct sockaddr_un	sun;

	if (strlen(v) >= sizeof(sun.sun_path))
		return conf_err(p, p->p_lineno,
		    "%s: longer than a unix socket path may be", k->k_name);
	return conf_set_path(p, k, v);
}

static int
conf_set_uid(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	struct config	*c = p->p_conf;
	struct buf	 b;
	uint64_t	 uid;

	if (c->c_nallow_uid >= CONF_ALLOW_MAX)
		return conf_err(p, p->p_lineno, "%s: more than %d",
		    k->k_name, CONF_ALLOW_MAX);
	buf_init(&b, v, strlen(v));
	/* (uid_t)-1 is "no uid" to the kernel. */
	if (buf_to_u64(&b, UINT32_MAX - 1, &uid) == -1)
		return conf_err(p, p->p_lineno, "%s: not a numeric uid",
		    k->k_name);
	c->c_allow_uid[c->c_nallow_uid++] = (uid_t)uid;
	return 0;
}

static int
conf_set_group(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct config	*c = p->p_conf;

	if (c->c_nallow_group >= CONF_ALLOW_MAX)
		return conf_err(p, p->p_lineno, "%s: more than %d",
		    k->k_name, CONF_ALLOW_MAX);
	if (!conf_name_ok(v))
		return conf_err(p, p->p_lineno, "%s: not a valid group name",
		    k->k_name);
	if (conf_copy(p, k, c->c_allow_group[c->c_nallow_group],
	    sizeof(c->c_allow_group[0]), v) == -1)
		return -1;
	c->c_nallow_group++;
	return 0;
}

static int
conf_set_backend(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	if (strcmp(v, "sqlite") == 0)
		p->p_conf->c_store_engine = STORE_SQLITE;
	else if (strcmp(v, "postgresql") == 0)
		p->p_conf->c_store_engine = STORE_POSTGRESQL;
	else
		return conf_err(p, p->p_lineno, "%s: unknown, want sqlite or "
		    "postgresql", k->k_name);
	return 0;
}

/*
 * libpq's syntax, checked here so that a typo fails at load.  Its own
 * message is not repeated: it may quote the string.  A password in the
 * config would be readable by whoever reads the config: refuse it.
 */
static int
conf_set_conninfo(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	PQconninfoOption	*opts, *o;
	char			*err = NULL;
	int			 haspw = 0;

	if ((opts = PQconninfoParse(v, &err)) == NULL) {
		PQfreemem(err);
		return conf_err(p, p->p_lineno, "%s: not a libpq connection "
		    "string", k->k_name);
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL)
			haspw = 1;
	PQconninfoFree(opts);
	if (haspw)
		return conf_err(p, p->p_lineno, "%s: holds a password; put it "
		    "in a passfile (passfile=...) instead", k->k_name);
	return conf_copy(p, k, (char *)p->p_conf + k->k_off, k->k_size, v);
}

static int
conf_set_project(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct msg_instance	*in = conf_inst(p);

	if (!conf_chars_ok(v, PROJECT_MAX, CONF_ALNUM "_-"))
		return conf_err(p, p->p_lineno, "%s: not 1 to %d of "
		    "[A-Za-z0-9_-]", k->k_name, PROJECT_MAX);
	return conf_copy(p, k, in->mn_project, sizeof(in->mn_project), v);
}

/*
 * IP[%IFNAME][@NET], stored as accept() reports peers: IPv4-mapped IPv6
 * becomes IPv4, and the IP is written as inet_ntop writes it.  That NET
 * names a direct guest section is checked once every section is read.
 */
static int
conf_set_address(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct msg_instance	*in = conf_inst(p);
	struct in6_addr		 a6;
	struct in_addr		 a4;
	char			 ip[ADDR_IP_MAX + 1], s[ADDR_MAX + 1];
	const char		*why;
	size_t			 iplen = strcspn(v, "%@");
	uint32_t		 i;

	if (in->mn_naddr >= INST_ADDRS_MAX)
		return conf_err(p, p->p_lineno, "%s: more than %d",
		    k->k_name, INST_ADDRS_MAX);
	if (iplen > ADDR_IP_MAX || strlen(v) - iplen > ADDR_MAX - ADDR_IP_MAX)
		return conf_err(p, p->p_lineno,
		    "%s: not a literal IP address", k->k_name);
	memcpy(ip, v, iplen);
	ip[iplen] = '\0';
	if (inet_pton(AF_INET, ip, &a4) == 1)
		(void)inet_ntop(AF_INET, &a4, s, sizeof(s));
	else if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			(void)inet_ntop(AF_INET, &a4, s, sizeof(s));
		} else
			(void)inet_ntop(AF_INET6, &a6, s, sizeof(s));
	} else
		return conf_err(p, p->p_lineno,
		    "%s: not a literal IP address", k->k_name);
	(void)snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s", v + iplen);
	if ((why = addr_why(s)) != NULL)
		return conf_err(p, p->p_lineno, "%s: %s", k->k_name, why);
	for (i = 0; i < in->mn_naddr; i++)
		if (strcmp(in->mn_addr[i], s) == 0)
			return conf_err(p, p->p_lineno, "%s: given twice",
			    k->k_name);
	memcpy(in->mn_addr[in->mn_naddr++], s, sizeof(s));
	return 0;
}

static int
conf_set_hostname(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct msg_instance	*in = conf_inst(p);

	if (!conf_chars_ok(v, HOSTNAME_MAX, CONF_ALNUM ".-"))
		return conf_err(p, p->p_lineno, "%s: not 1 to %d of "
		    "[A-Za-z0-9.-]", k->k_name, HOSTNAME_MAX);
	return conf_copy(p, k, in->mn_hostname, sizeof(in->mn_hostname), v);
}

/* "TYPE BASE64 [comment]", printable ASCII. */
static int
conf_pubkey_ok(const char *s)
{
	size_t	i, n;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return 0;
	n = strspn(s, CONF_KEYTYPE_SET);
	if (n == 0 || s[n] != ' ')
		return 0;
	s += n + 1;
	n = strspn(s, CONF_BASE64_SET);
	return n > 0 && (s[n] == '\0' || s[n] == ' ');
}

/*
 * Nova serves one keypair by its name; a seed has no name to give, so the
 * first key is "default" and any further ones "key-1", "key-2", ...
 */
static int
conf_set_pubkey(struct conf_parse *p, const struct conf_key *k,
    const char *v)
{
	struct msg_instance	*in = conf_inst(p);
	struct msg_key		*mk;

	if (in->mn_nkeys >= INST_KEYS_MAX)
		return conf_err(p, p->p_lineno, "%s: more than %d",
		    k->k_name, INST_KEYS_MAX);
	if (!conf_pubkey_ok(v))
		return conf_err(p, p->p_lineno,
		    "%s: not \"TYPE BASE64 [comment]\"", k->k_name);
	mk = &in->mn_keys[in->mn_nkeys];
	if (conf_copy(p, k, mk->mk_data, sizeof(mk->mk_data), v) == -1)
		return -1;
	if (in->mn_nkeys == 0)
		(void)snprintf(mk->mk_name, sizeof(mk->mk_name), "default");
	else
		(void)snprintf(mk->mk_name, sizeof(mk->mk_name), "key-%u",
		    in->mn_nkeys);
	in->mn_nkeys++;
	return 0;
}

/*
 * gcc 12's analyzer loses track of the grown array once it is stored in
 * the configuration and reports a leak that cannot happen: config_free
 * owns c_instances.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int
conf_instance_begin(struct conf_parse *p, const char *id)
{
	struct config		*c = p->p_conf;
	struct msg_instance	*n, *grown;
	char			 lid[ID_LEN + 1], vis[48];
	size_t			 i, cap;

	if (!conf_uuid_ok(id))
		return conf_err(p, p->p_lineno,
		    "[instance %s]: not a canonical UUID",
		    conf_vis(id, vis, sizeof(vis)));
	for (i = 0; i <= ID_LEN; i++)
		lid[i] = (id[i] >= 'A' && id[i] <= 'F') ? id[i] - 'A' + 'a' :
		    id[i];
	for (i = 0; i < c->c_ninstances; i++)
		if (strcmp(c->c_instances[i].mn_id, lid) == 0)
			return conf_err(p, p->p_lineno,
			    "[instance %s] given twice", lid);
	if (c->c_ninstances >= CONF_INSTANCES_MAX)
		return conf_err(p, p->p_lineno, "more than %d instances",
		    CONF_INSTANCES_MAX);
	if (c->c_ninstances == p->p_instcap) {
		cap = p->p_instcap ? p->p_instcap * 2 : CONF_INSTANCES_FIRST;
		if (cap > CONF_INSTANCES_MAX)
			cap = CONF_INSTANCES_MAX;
		if ((grown = reallocarray(c->c_instances, cap,
		    sizeof(*grown))) == NULL)
			return conf_err(p, p->p_lineno, "%s", strerror(errno));
		c->c_instances = grown;
		p->p_instcap = cap;
	}
	n = &c->c_instances[c->c_ninstances++];
	memset(n, 0, sizeof(*n));
	memcpy(n->mn_id, lid, sizeof(n->mn_id));
	return 0;
}
#pragma GCC diagnostic pop

/* Open the section called name, on the current line. */
static int
conf_section_begin(struct conf_parse *p, const char *name)
{
	char	vis[64];
	size_t	i;

	memset(p->p_seen, 0, sizeof(p->p_seen));
	p->p_secline = p->p_lineno;
	p->p_tls = 0;
	p->p_tls_cert[0] = p->p_tls_key[0] = p->p_tls_ca[0] = '\0';
	if (strlen(name) > CONF_SECTION_MAX)
		goto unknown;
	(void)snprintf(p->p_secname, sizeof(p->p_secname), "%s", name);

	for (i = 0; i < sizeof(conf_plain) / sizeof(conf_plain[0]); i++) {
		if (strcmp(name, conf_plain[i].name) != 0)
			continue;
		p->p_sec = conf_plain[i].sec;
		if (p->p_plain_line[p->p_sec] != 0)
			return conf_err(p, p->p_lineno,
			    "[%s] given twice, first at line %d", name,
			    p->p_plain_line[p->p_sec]);
		p->p_plain_line[p->p_sec] = p->p_lineno;
		return 0;
	}
	if (strcmp(name, "guest") == 0 || (strncmp(name, "guest ", 6) == 0 &&
	    conf_chars_ok(name + 6, CONF_GUEST_NAME_MAX, CONF_NAME_SET))) {
		p->p_sec = SEC_GUEST;
		for (i = 0; i < p->p_nguest; i++)
			if (strcmp(p->p_guest[i], name) == 0)
				return conf_err(p, p->p_lineno,
				    "[%s] given twice", name);
		if (p->p_nguest >= CONF_LISTEN_MAX)
			return conf_err(p, p->p_lineno,
			    "more than %d guest sections", CONF_LISTEN_MAX);
		memcpy(p->p_guest[p->p_nguest++], p->p_secname,
		    sizeof(p->p_secname));
		p->p_listen_first = p->p_conf->c_nlisten;
		p->p_ident = 0;
		memset(&p->p_guard, 0, sizeof(p->p_guard));
		p->p_hops_given = 0;
		p->p_device[0] = '\0';
		return 0;
	}
	if (strncmp(name, "instance ", 9) == 0) {
		p->p_sec = SEC_INSTANCE;
		return conf_instance_begin(p, name + 9);
	}
unknown:
	return conf_err(p, p->p_lineno, "unknown section [%s]",
	    conf_vis(name, vis, sizeof(vis)));
}

/* A section's certificate and key become c_tls entry c_ntls, 1-based. */
static int
conf_tls_add(struct conf_parse *p, int ident, int owner)
{
	struct config	*c = p->p_conf;
	struct conf_tls	*t;

	if (p->p_tls_cert[0] == '\0' || p->p_tls_key[0] == '\0')
		return conf_err(p, p->p_secline, "[%s]: TLS needs tls_cert "
		    "and tls_key", p->p_secname);
	if (c->c_ntls >= TLS_CTX_MAX)
		return conf_err(p, p->p_secline, "[%s]: more than %d TLS "
		    "certificates", p->p_secname, TLS_CTX_MAX);
	t = &c->c_tls[c->c_ntls++];
	memset(t, 0, sizeof(*t));
	memcpy(t->ct_cert, p->p_tls_cert, sizeof(t->ct_cert));
	memcpy(t->ct_key, p->p_tls_key, sizeof(t->ct_key));
	memcpy(t->ct_ca, p->p_tls_ca, sizeof(t->ct_ca));
	t->ct_ident = ident;
	t->ct_owner = owner;
	(void)snprintf(t->ct_section, sizeof(t->ct_section), "%s",
	    p->p_secname);
	return 0;
}

static int
conf_guest_tls_end(struct conf_parse *p, int ident)
{
	struct config	*c = p->p_conf;
	size_t		 i;

	if (p->p_tls != 1) {
		if (p->p_tls_cert[0] != '\0' || p->p_tls_key[0] != '\0')
			return conf_err(p, p->p_secline, "[%s]: tls_cert and "
			    "tls_key need tls = yes", p->p_secname);
		return 0;
	}
	if (conf_tls_add(p, ident, 0) == -1)
		return -1;
	for (i = p->p_listen_first; i < c->c_nlisten; i++)
		c->c_listen[i].cl_tls = (int)c->c_ntls;
	return 0;
}

/*
 * The owner API over TLS needs a certificate and a way to authenticate
 * every caller: client certificates from tls_client_ca whose subject is an
 * allow_subject, or tokens whose hashes are in token_hashes_file.
 */
static int
conf_owner_end(struct conf_parse *p)
{
	struct config	*c = p->p_conf;
	int		 any;

	any = c->c_owner_listen || p->p_tls_cert[0] != '\0' ||
	    p->p_tls_key[0] != '\0' || p->p_tls_ca[0] != '\0' ||
	    c->c_nallow_subject > 0 || c->c_token_file[0] != '\0';
	if (!any)
		return 0;
	if ((p->p_tls_ca[0] != '\0') != (c->c_nallow_subject > 0))
		return conf_err(p, p->p_secline, "[owner]: tls_client_ca and "
		    "allow_subject go together");
	if (p->p_tls_ca[0] == '\0' && c->c_token_file[0] == '\0')
		return conf_err(p, p->p_secline, "[owner]: the TLS listener "
		    "needs tls_client_ca with allow_subject, or "
		    "token_hashes_file: no anonymous access");
	if (conf_tls_add(p, 0, 1) == -1)
		return -1;
	c->c_owner_tls = (int)c->c_ntls;
	return 0;
}

/* What a section can only be checked for once all of it has been read. */
static int
conf_section_end(struct conf_parse *p)
{
	struct config	*c = p->p_conf;
	size_t		 i;
	int		 ident;

	switch (p->p_sec) {
	case SEC_GUEST:
		/* identity may follow the listen lines it applies to. */
		ident = p->p_ident ? p->p_ident : IDENT_PROXY;
		if (ident == IDENT_PROXY &&
		    p->p_guard.cg_tokens == GUARD_TOKENS_REQUIRED)
			return conf_err(p, p->p_secline, "[%s]: "
			    "session_tokens = required needs identity direct: "
			    "the neutron metadata proxy never forwards "
			    "X-Metadata-Token, so every guest request would "
			    "be refused (401)", p->p_secname);
		/* Direct answers go no further than the guest's segment. */
		if (!p->p_hops_given && ident == IDENT_DIRECT)
			p->p_guard.cg_hops = 1;
		for (i = p->p_listen_first; i < c->c_nlisten; i++) {
			c->c_listen[i].cl_ident = ident;
			c->c_listen[i].cl_guard = p->p_guard;
			memcpy(c->c_listen[i].cl_device, p->p_device,
			    sizeof(p->p_device));
		}
		if (ident == IDENT_PROXY && c->c_nlisten > p->p_listen_first &&
		    p->p_proxy_line == 0)
			p->p_proxy_line = p->p_secline;
		if (conf_guest_tls_end(p, ident) == -1)
			return -1;
		break;
	case SEC_OWNER:
		if (conf_owner_end(p) == -1)
			return -1;
		break;
	case SEC_INSTANCE:
		if (conf_inst(p)->mn_project[0] == '\0')
			return conf_err(p, p->p_secline,
			    "[%s]: project is required", p->p_secname);
		break;
	default:
		break;
	}
	p->p_sec = SEC_NONE;
	return 0;
}

/*
 * Called by inih before it looks at a line.  A "[name]" line is parsed as
 * inih will parse it (first ']' ends the name), but trailing text after
 * the ']', which inih would drop, is an error.
 */
static int
conf_header(struct conf_parse *p)
{
	char	*s = p->p_line, *e, *t;

	if (p->p_lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	s += strspn(s, " \t\n\v\f\r");
	if (*s != '[')
		return 0;
	if ((e = strchr(++s, ']')) == NULL)
		return conf_err(p, p->p_lineno, "section header without ']'");
	for (t = e + 1; *t != '\0'; t++)
		if (strchr(" \t\n\v\f\r", *t) == NULL)
			return conf_err(p, p->p_lineno,
			    "text after the section header");
	*e = '\0';
	if (conf_section_end(p) == -1 || conf_section_begin(p, s) == -1)
		return -1;
	*e = ']';
	return 0;
}

/* inih's fgets: counts lines, refuses long lines and NUL bytes. */
static char *
conf_reader(char *str, int num, void *arg)
{
	struct conf_parse	*p = arg;
	ssize_t			 n;

	if (p->p_failed)
		return NULL;
	if ((n = getline(&p->p_line, &p->p_linesz, p->p_fp)) == -1) {
		if (ferror(p->p_fp))
			(void)conf_err(p, 0, "%s", strerror(errno));
		return NULL;
	}
	p->p_lineno++;
	if (n >= num) {
		(void)conf_err(p, p->p_lineno, "line longer than %d bytes",
		    num - 1);
		return NULL;
	}
	if (strlen(p->p_line) != (size_t)n) {
		(void)conf_err(p, p->p_lineno, "NUL byte in line");
		return NULL;
	}
	if (conf_header(p) == -1)
		return NULL;
	memcpy(str, p->p_line, (size_t)n + 1);
	return str;
}

static int
conf_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct conf_parse	*p = arg;
	const struct conf_key	*k;
	char			 vis[48];
	size_t			 i;

	(void)section;	/* conf_header tracks sections */
	if (p->p_failed)
		return 0;
	if (p->p_sec == SEC_NONE) {
		(void)conf_err(p, p->p_lineno, "%s: outside any section",
		    conf_vis(name, vis, sizeof(vis)));
		return 0;
	}
	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].k_sec == p->p_sec &&
		    strcmp(conf_keys[i].k_name, name) == 0)
			break;
	if (i == CONF_NKEYS) {
		(void)conf_err(p, p->p_lineno, "unknown key %s in [%s]",
		    conf_vis(name, vis, sizeof(vis)), p->p_secname);
		return 0;
	}
	k = &conf_keys[i];
	if (p->p_seen[i] && !k->k_multi) {
		(void)conf_err(p, p->p_lineno, "%s: given twice in [%s]",
		    k->k_name, p->p_secname);
		return 0;
	}
	p->p_seen[i] = 1;
	return k->k_set(p, k, value) == 0;
}

static int
conf_join(struct conf_parse *p, char *dst, size_t dstsz, const char *dir,
    const char *file)
{
	if ((size_t)snprintf(dst, dstsz, "%s/%s", dir, file) >= dstsz)
		return conf_err(p, 0, "state_dir too long to hold %s", file);
	return 0;
}

/* The direct guest section called "guest NET" has a listener. */
static int
conf_net_direct(const struct config *c, const char *net)
{
	size_t	i;

	for (i = 0; i < c->c_nlisten; i++)
		if (c->c_listen[i].cl_ident == IDENT_DIRECT &&
		    strncmp(c->c_listen[i].cl_section, "guest ", 6) == 0 &&
		    strcmp(c->c_listen[i].cl_section + 6, net) == 0)
			return 1;
	return 0;
}

/* Checks across sections, then defaults that derive from other keys. */
/*
 * The broker's idle limit must outlast what the worker itself allows
 * between an answer and the next operation (the answer's write, a
 * keep-alive wait, a head, a body): else a legitimate connection could
 * be cut.  Unset, it is that plus CONF_IDLE_SLACK_MS.
 */
static int
conf_conn_idle(struct conf_parse *p, int role, const char *name)
{
	struct config	*c = p->p_conf;
	uint64_t	 need;

	need = (uint64_t)c->c_header_timeout_ms + c->c_body_timeout_ms +
	    2 * (uint64_t)c->c_idle_timeout_ms;
	if (c->c_conn[role].cc_idle_ms == 0) {
		c->c_conn[role].cc_idle_ms = (uint32_t)(need +
		    CONF_IDLE_SLACK_MS);
		return 0;
	}
	if (c->c_conn[role].cc_idle_ms < need)
		return conf_err(p, p->p_plain_line[SEC_LIMITS], "%s %u is "
		    "less than header_timeout_ms + body_timeout_ms + 2 * "
		    "idle_timeout_ms (%llu): the broker would cut connections "
		    "the worker still serves", name,
		    c->c_conn[role].cc_idle_ms, (unsigned long long)need);
	return 0;
}

static int
conf_finish(struct conf_parse *p)
{
	struct config	*c = p->p_conf;
	const char	*net;
	size_t		 i, j;

	for (i = 0; i < c->c_ninstances; i++)
		for (j = 0; j < c->c_instances[i].mn_naddr; j++)
			if ((net = addr_net(c->c_instances[i].mn_addr[j])) !=
			    NULL && !conf_net_direct(c, net))
				return conf_err(p, 0, "[instance %s]: address "
				    "%s: no [guest %s] section of identity "
				    "direct listens", c->c_instances[i].mn_id,
				    c->c_instances[i].mn_addr[j], net);

	if (conf_conn_idle(p, ROLE_OWNER, "owner_conn_idle_ms") == -1 ||
	    conf_conn_idle(p, ROLE_GUEST, "guest_conn_idle_ms") == -1)
		return -1;

	if (p->p_proxy_line != 0 && c->c_proxy_secret_file[0] == '\0')
		return conf_err(p, p->p_proxy_line, "identity proxy needs "
		    "proxy_secret_file");
	if (c->c_token_key_prev[0] != '\0' && c->c_token_key[0] == '\0')
		return conf_err(p, 0, "token_key_previous_file needs "
		    "token_key_file");
	if (c->c_key_dir[0] == '\0' &&
	    conf_join(p, c->c_key_dir, sizeof(c->c_key_dir), c->c_state_dir,
	    "keys") == -1)
		return -1;
	if (c->c_store_engine == STORE_POSTGRESQL &&
	    c->c_store_conninfo[0] == '\0')
		return conf_err(p, 0, "backend postgresql needs conninfo");
	if (c->c_store_engine != STORE_POSTGRESQL &&
	    c->c_store_conninfo[0] != '\0')
		return conf_err(p, 0, "conninfo is for backend postgresql");
	if (c->c_store_path[0] == '\0' &&
	    conf_join(p, c->c_store_path, sizeof(c->c_store_path),
	    c->c_state_dir, "sealmd.db") == -1)
		return -1;
	return 0;
}

/*
 * A PostgreSQL store reached over TCP without sslmode=verify-full: the
 * database's identity is not checked.  NULL when there is nothing to say.
 */
const char *
config_store_advice(const struct config *c)
{
	PQconninfoOption	*opts, *o;
	const char		*why = NULL;
	int			 tcp = 0, verified = 0;

	if (c->c_store_engine != STORE_POSTGRESQL ||
	    (opts = PQconninfoParse(c->c_store_conninfo, NULL)) == NULL)
		return NULL;
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "hostaddr") == 0 ||
		    (strcmp(o->keyword, "host") == 0 && o->val[0] != '/'))
			tcp = 1;
		if (strcmp(o->keyword, "sslmode") == 0 &&
		    strcmp(o->val, "verify-full") == 0)
			verified = 1;
	}
	PQconninfoFree(opts);
	if (tcp && !verified)
		why = "conninfo: the database is reached over TCP without "
		    "sslmode=verify-full, so nothing proves it is the right "
		    "one: add sslmode=verify-full and sslrootcert";
	return why;
}

/* Where the store is: the SQLite file, or the PostgreSQL conninfo. */
const char *
config_store_target(const struct config *c)
{
	return c->c_store_engine == STORE_POSTGRESQL ?
	    c->c_store_conninfo : c->c_store_path;
}

static void
conf_defaults(struct config *c)
{
	(void)snprintf(c->c_state_dir, sizeof(c->c_state_dir), "%s",
	    CONF_DEFAULT_STATE_DIR);
	(void)snprintf(c->c_worker_user, sizeof(c->c_worker_user), "%s",
	    CONF_DEFAULT_WORKER);
	(void)snprintf(c->c_chroot, sizeof(c->c_chroot), "%s",
	    CONF_DEFAULT_CHROOT);
	(void)snprintf(c->c_owner_socket, sizeof(c->c_owner_socket), "%s",
	    CONF_DEFAULT_SOCKET);
	c->c_store_engine = STORE_SQLITE;
	c->c_max_conns = 1024;
	c->c_header_timeout_ms = 10000;
	c->c_body_timeout_ms = 10000;
	c->c_idle_timeout_ms = 30000;
	c->c_rate = CONF_RATE_DEFAULT;
	c->c_mode = PW_MODE_ESCROW;
	c->c_vops = CONF_VERIFIER_OPS;
	c->c_vmem = CONF_VERIFIER_MEM;
	c->c_burst = 20;
	c->c_conn[ROLE_OWNER].cc_life_ms = CONF_OWNER_LIFE_MS;
	c->c_conn[ROLE_OWNER].cc_requests = CONF_OWNER_REQUESTS;
	c->c_conn[ROLE_GUEST].cc_life_ms = CONF_GUEST_LIFE_MS;
	c->c_conn[ROLE_GUEST].cc_requests = CONF_GUEST_REQUESTS;
}

/*
 * Fill c from the file at path.  On failure err holds "FILE:LINE: why",
 * c holds nothing that needs freeing, and config_free is still safe.
 */
int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	struct conf_parse	p;
	int			rc;

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	p.p_conf = c;
	p.p_path = path;
	p.p_err = err;
	p.p_errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if ((size_t)snprintf(c->c_path, sizeof(c->c_path), "%s", path) >=
	    sizeof(c->c_path))
		return conf_err(&p, 0, "path too long");
	conf_defaults(c);
	if ((p.p_fp = fopen(path, "re")) == NULL)
		return conf_err(&p, 0, "%s", strerror(errno));

	/*
	 * Debian builds inih with run-time options.  Lines must hold a
	 * public key; a value never continues on the next line, and ';'
	 * inside a value is part of it.
	 */
	ini_max_line = CONF_LINE_MAX;
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	ini_stop_on_first_error = true;
	rc = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	if (rc > 0)
		(void)conf_err(&p, rc, "not \"name = value\" or \"[section]\"");
	else if (rc < 0)
		(void)conf_err(&p, 0, "inih failed (%d)", rc);
	if (!p.p_failed && conf_section_end(&p) == 0)
		(void)conf_finish(&p);
	(void)fclose(p.p_fp);
	free(p.p_line);
	if (p.p_failed) {
		config_free(c);
		return -1;
	}
	return 0;
}

void
config_free(struct config *c)
{
	free(c->c_instances);
	c->c_instances = NULL;
	c->c_ninstances = 0;
}
