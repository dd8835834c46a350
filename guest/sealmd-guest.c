/* SPDX-License-Identifier: ISC */
/*
 * sealmd-guest: post an instance's password to the OpenStack metadata
 * service (sealmd or Nova), sealed to the instance's ssh-ed25519 key so
 * that only the owner of the private key can read it back.
 *
 *	sealmd-guest post [--key-file FILE] [--stdin | --length N]
 *	    [--chpasswd USER [--chpasswd-program PATH]] [--url URL]
 *	    [--timeout SECONDS]
 *
 * It links libc and libsodium only: HTTP/1.1 comes from client/httpc.c, over
 * one TCP connection per request with a deadline on every step, and the key
 * is picked out of meta_data.json by a small scanner rather than a JSON
 * library.  Every byte the network sends is read through struct buf.
 * The password never goes to argv, the environment or stderr.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/httpc.h"
#include "client/sealbox.h"
#include "client/secret.h"
#include "client/sshkey.h"
#include "privsep/buf.h"

#define G_DEFAULT_URL		"http://169.254.169.254"
#define G_META_PATH		"/openstack/latest/meta_data.json"
#define G_PASSWORD_PATH		"/openstack/latest/password"
#define G_TIMEOUT_DEFAULT	10
#define G_TIMEOUT_MAX		300
#define G_CHILD_TIMEOUT		30	/* seconds chpasswd may take */
#define G_REQ_MAX		4096
#define G_RESP_MAX		(256 * 1024)
#define G_HOST_MAX		128
#define G_USER_MAX		32
#define G_JSON_DEPTH		32
#define G_JSON_STR_MAX		(16 * 1024)

enum {
	G_OPT_KEYFILE = 256,
	G_OPT_STDIN,
	G_OPT_LENGTH,
	G_OPT_CHPASSWD,
	G_OPT_CHPROG,
	G_OPT_URL,
	G_OPT_TIMEOUT,
};

/* Where a JSON container sits, as far as finding keys goes. */
enum g_role {
	G_ROLE_NONE,
	G_ROLE_TOP,		/* the document's object */
	G_ROLE_PUBKEYS,		/* "public_keys": {name: "line"} */
	G_ROLE_KEYS,		/* "keys": [...] */
	G_ROLE_KEYENT		/* {"data": "line", ...} in "keys" */
};

enum g_member {
	G_MEMBER_OTHER,
	G_MEMBER_PUBKEYS,
	G_MEMBER_KEYS,
	G_MEMBER_DATA
};

struct g_level {
	uint8_t		gl_open;	/* '{' or '[' */
	uint8_t		gl_role;
	uint8_t		gl_member;	/* the name before the value */
	uint8_t		gl_want_name;	/* an object's next string is a name */
};

struct g_opts {
	const char	*go_keyfile;
	const char	*go_user;
	char		*go_chprog;
	const char	*go_url;
	int		 go_stdin;
	int		 go_length_set;
	size_t		 go_length;
	int		 go_timeout;
};

/* The metadata service, from --url. */
struct g_server {
	char		gs_host[G_HOST_MAX];	/* for getaddrinfo */
	char		gs_hosthdr[G_HOST_MAX + 8];
	char		gs_port[8];
	int		gs_timeout;
};

static char	g_default_chprog[] = "/usr/sbin/chpasswd";
static char	g_child_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

static const struct option g_longopts[] = {
	{ "help",		no_argument,		NULL, 'h' },
	{ "key-file",		required_argument,	NULL, G_OPT_KEYFILE },
	{ "stdin",		no_argument,		NULL, G_OPT_STDIN },
	{ "length",		required_argument,	NULL, G_OPT_LENGTH },
	{ "chpasswd",		required_argument,	NULL, G_OPT_CHPASSWD },
	{ "chpasswd-program",	required_argument,	NULL, G_OPT_CHPROG },
	{ "url",		required_argument,	NULL, G_OPT_URL },
	{ "timeout",		required_argument,	NULL, G_OPT_TIMEOUT },
	{ NULL,			0,			NULL, 0 }
};

static void	g_usage(FILE *, int) __attribute__((noreturn));
static void	g_usage_err(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	g_info(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	g_nodump(void);
static uint64_t	g_number(const char *, const char *, uint64_t, uint64_t);
static void	g_options(int, char **, struct g_opts *);
static int	g_is_userchar(uint8_t);
static int	g_is_hostchar(uint8_t);
static void	g_url(const char *, struct g_server *);
static int	g_connect(const struct g_server *, int64_t);
static int	g_request(const struct g_server *, const char *, const char *,
		    const char *, struct httpc_resp *);
static int	g_json_string(struct buf *, struct bbuf *, int *);
static enum g_member g_member_of(const struct bbuf *, uint8_t);
static void	g_candidate(const struct bbuf *, uint8_t *, int *);
static int	g_json_keys(const struct buf *, uint8_t *);
static int	g_fetch_key(const struct g_server *, uint8_t *);
static int	g_chpasswd(char *, const char *, const struct buf *);
static int	g_is_pwchar(uint8_t);
static int	g_post(const struct g_opts *, const struct g_server *);

static void
g_usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: sealmd-guest post [--key-file FILE]\n"
	    "           [--stdin | --length N]\n"
	    "           [--chpasswd USER [--chpasswd-program PATH]]\n"
	    "           [--url http://HOST[:PORT]] [--timeout SECONDS]\n"
	    "\n"
	    "Seal a password to this instance's ssh-ed25519 key and post it\n"
	    "to the metadata service.  The password is random (--length,\n"
	    "default %d) or read from stdin (--stdin); the key comes from\n"
	    "--key-file or from meta_data.json.  With --chpasswd the local\n"
	    "password of USER is set once the service has stored the value.\n"
	    "A password already set (409) leaves everything as it is.\n",
	    SECRET_RANDOM_DEFAULT);
	exit(code);
}

static void
g_usage_err(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'sealmd-guest --help'.\n");
	exit(2);
}

/* Progress for the boot log; never carries the password. */
static void
g_info(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "sealmd-guest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/* The process holds a password: no core file, no ptrace by the user. */
static void
g_nodump(void)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		err(1, "cannot disable core dumps");
}

static uint64_t
g_number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	struct buf	b;
	uint64_t	v;

	buf_init(&b, s, strlen(s));
	if (buf_to_u64(&b, max, &v) == -1 || v < min)
		g_usage_err("%s: a number from %llu to %llu", opt,
		    (unsigned long long)min, (unsigned long long)max);
	return v;
}

static void
g_options(int argc, char **argv, struct g_opts *o)
{
	struct buf	u;
	uint8_t		first;
	int		ch;

	memset(o, 0, sizeof(*o));
	o->go_chprog = g_default_chprog;
	o->go_url = G_DEFAULT_URL;
	o->go_length = SECRET_RANDOM_DEFAULT;
	o->go_timeout = G_TIMEOUT_DEFAULT;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		g_usage(stdout, 0);
	if (argc < 2)
		g_usage_err("missing command (post)");
	if (strcmp(argv[1], "post") != 0)
		g_usage_err("unknown command: %s", argv[1]);
	argc--;
	argv++;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", g_longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			g_usage(stdout, 0);
		case G_OPT_KEYFILE:
			o->go_keyfile = optarg;
			break;
		case G_OPT_STDIN:
			o->go_stdin = 1;
			break;
		case G_OPT_LENGTH:
			o->go_length = (size_t)g_number("--length", optarg,
			    SECRET_RANDOM_MIN, SEALBOX_PLAIN_MAX);
			o->go_length_set = 1;
			break;
		case G_OPT_CHPASSWD:
			o->go_user = optarg;
			break;
		case G_OPT_CHPROG:
			o->go_chprog = optarg;
			break;
		case G_OPT_URL:
			o->go_url = optarg;
			break;
		case G_OPT_TIMEOUT:
			o->go_timeout = (int)g_number("--timeout", optarg, 1,
			    G_TIMEOUT_MAX);
			break;
		case ':':
			g_usage_err("option %s needs an argument",
			    argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 0x7f)
				g_usage_err("unknown option -%c", optopt);
			g_usage_err("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		g_usage_err("unexpected argument %s", argv[optind]);
	if (o->go_stdin && o->go_length_set)
		g_usage_err("--stdin and --length exclude each other");
	if (o->go_chprog != g_default_chprog && o->go_user == NULL)
		g_usage_err("--chpasswd-program goes with --chpasswd");
	if (o->go_user != NULL) {
		/* chpasswd reads "USER:PASSWORD": no ':' or newline in USER. */
		buf_init(&u, o->go_user, strlen(o->go_user));
		if (buf_left(&u) == 0 || buf_left(&u) > G_USER_MAX ||
		    !buf_all(&u, g_is_userchar) ||
		    buf_peek(&u, 0, &first) == -1 || first == '-')
			g_usage_err("--chpasswd: not a user name: %s",
			    o->go_user);
	}
}

/* POSIX portable user names, and Samba's trailing '$'. */
static int
g_is_userchar(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
	    ch == '$';
}

/* IP literals: IPv4, IPv6 and an IPv6 zone ("%eth0"). */
static int
g_is_hostchar(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == ':' || ch == '%' ||
	    ch == '_' || ch == '-';
}

/*
 * http://HOST[:PORT][/] where HOST is an IPv4 address or a bracketed IPv6
 * address: the metadata service has no name worth a DNS lookup, and a
 * lookup could not be bounded by our timeout.
 */
static void
g_url(const char *url, struct g_server *gs)
{
	struct addrinfo	 hints, *res;
	struct buf	 u, auth, host, port, bare;
	uint64_t	 pn = 80;
	size_t		 pos;
	uint8_t		 ch;
	int		 v6 = 0;

	buf_init(&u, url, strlen(url));
	if (buf_has_prefix(&u, "https://"))
		g_usage_err("--url: https is not supported; the metadata "
		    "service speaks plain HTTP");
	if (!buf_has_prefix(&u, "http://") || buf_skip(&u, 7) == -1)
		g_usage_err("--url: not http://HOST[:PORT]: %s", url);
	if (buf_find(&u, '/', &pos) == -1)
		pos = buf_left(&u);
	(void)buf_take(&u, pos, &auth);
	if (buf_left(&u) > 1 || (buf_left(&u) == 1 && !buf_eq(&u, "/")))
		g_usage_err("--url: give no path, only http://HOST[:PORT]: %s",
		    url);
	if (buf_peek(&auth, 0, &ch) == 0 && ch == '[') {
		v6 = 1;
		(void)buf_skip(&auth, 1);
		if (buf_find(&auth, ']', &pos) == -1)
			g_usage_err("--url: bad IPv6 address: %s", url);
		(void)buf_take(&auth, pos, &host);
		(void)buf_skip(&auth, 1);
	} else if (buf_sep(&auth, ':', &host) == -1)
		g_usage_err("--url: no host: %s", url);
	if (buf_left(&auth) > 0) {
		if (v6 && (buf_get_u8(&auth, &ch) == -1 || ch != ':'))
			g_usage_err("--url: bad port: %s", url);
		port = auth;
		if (buf_to_u64(&port, 65535, &pn) == -1 || pn == 0)
			g_usage_err("--url: bad port: %s", url);
	}
	if (buf_left(&host) == 0 || !buf_all(&host, g_is_hostchar) ||
	    buf_copy_str(&host, gs->gs_host, sizeof(gs->gs_host)) == -1)
		g_usage_err("--url: bad host: %s", url);
	(void)snprintf(gs->gs_port, sizeof(gs->gs_port), "%llu",
	    (unsigned long long)pn);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(gs->gs_host, gs->gs_port, &hints, &res) != 0)
		g_usage_err("--url: HOST must be an IP address: %s", url);
	freeaddrinfo(res);
	/* The Host header carries no IPv6 zone (RFC 6874). */
	if (buf_find(&host, '%', &pos) == 0) {
		(void)buf_take(&host, pos, &bare);
		host = bare;
	}
	(void)snprintf(gs->gs_hosthdr, sizeof(gs->gs_hosthdr), "%s%.*s%s",
	    v6 ? "[" : "", (int)buf_left(&host), gs->gs_host, v6 ? "]" : "");
	if (pn != 80)
		(void)snprintf(gs->gs_hosthdr + strlen(gs->gs_hosthdr),
		    sizeof(gs->gs_hosthdr) - strlen(gs->gs_hosthdr), ":%llu",
		    (unsigned long long)pn);
}

/* A non-blocking connect bounded by the deadline. */
static int
g_connect(const struct g_server *gs, int64_t deadline)
{
	struct addrinfo	 hints, *res;
	socklen_t	 sl;
	int		 fd, rv, soerr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(gs->gs_host, gs->gs_port, &hints, &res) != 0) {
		warnx("%s: not an address", gs->gs_host);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		warn("socket");
		freeaddrinfo(res);
		return -1;
	}
	rv = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rv == -1 && errno != EINPROGRESS) {
		warn("connect to %s", gs->gs_hosthdr);
		close(fd);
		return -1;
	}
	if (rv == -1) {
		if ((rv = httpc_wait(fd, POLLOUT, deadline)) <= 0) {
			if (rv == 0)
				warnx("connect to %s: no answer within %d "
				    "seconds", gs->gs_hosthdr, gs->gs_timeout);
			else
				warn("poll");
			close(fd);
			return -1;
		}
		sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
		    soerr != 0) {
			warnx("connect to %s: %s", gs->gs_hosthdr,
			    strerror(soerr != 0 ? soerr : errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * One request on a new connection; r gets the answer (freed by the
 * caller with httpc_resp_free whatever happened).  0 when an answer came.
 */
static int
g_request(const struct g_server *gs, const char *method, const char *path,
    const char *body, struct httpc_resp *r)
{
	char			 name[G_HOST_MAX + 64];
	struct httpc_peer	 hp = { gs->gs_hosthdr, "sealmd-guest", name,
				    gs->gs_timeout };
	struct bbuf		 req;
	int64_t			 deadline;
	int			 fd, rv;

	httpc_resp_init(r, G_RESP_MAX);
	bbuf_init(&req, G_REQ_MAX);
	/* Messages name the URL the request went to. */
	(void)snprintf(name, sizeof(name), "%s%s", gs->gs_hosthdr, path);
	if (httpc_request(&req, &hp, method, path, NULL, body,
	    body != NULL ? strlen(body) : 0) == -1) {
		warnx("request too large");
		bbuf_free(&req);
		return -1;
	}
	deadline = httpc_now_ms() + (int64_t)gs->gs_timeout * 1000;
	if ((fd = g_connect(gs, deadline)) == -1) {
		bbuf_free(&req);
		return -1;
	}
	rv = httpc_exchange(&hp, fd, &req, r, deadline);
	close(fd);
	bbuf_free(&req);
	return rv;
}

/*
 * The rest of a JSON string whose opening quote has been read, into s.
 * *plain is cleared by escapes other than \/ \\ \" (a key line has
 * none) and by overlong strings.  -1 when the string does not end.
 */
static int
g_json_string(struct buf *b, struct bbuf *s, int *plain)
{
	uint8_t	ch;

	bbuf_reset(s);
	*plain = 1;
	for (;;) {
		if (buf_get_u8(b, &ch) == -1)
			return -1;
		if (ch == '"')
			return 0;
		if (ch == '\\') {
			if (buf_get_u8(b, &ch) == -1)
				return -1;
			if (ch != '/' && ch != '\\' && ch != '"')
				*plain = 0;
		}
		if (*plain && bbuf_add(s, &ch, 1) == -1)
			*plain = 0;
	}
}

/* A member name that matters where it stands. */
static enum g_member
g_member_of(const struct bbuf *s, uint8_t role)
{
	struct buf	b;

	bbuf_view(s, &b);
	if (role == G_ROLE_TOP && buf_eq(&b, "public_keys"))
		return G_MEMBER_PUBKEYS;
	if (role == G_ROLE_TOP && buf_eq(&b, "keys"))
		return G_MEMBER_KEYS;
	if (role == G_ROLE_KEYENT && buf_eq(&b, "data"))
		return G_MEMBER_DATA;
	return G_MEMBER_OTHER;
}

/* A key line from meta_data.json: keep the first ssh-ed25519 key. */
static void
g_candidate(const struct bbuf *s, uint8_t *pub, int *found)
{
	uint8_t		k[SEALBOX_ED25519_PUB];
	struct buf	b;
	int		e;

	bbuf_view(s, &b);
	if ((e = sshkey_pub_parse(&b, k)) == SSHKEY_OK) {
		if (*found == 0) {
			memcpy(pub, k, sizeof(k));
			*found = 1;
		} else if (memcmp(pub, k, sizeof(k)) != 0)
			*found = 2;
	} else if (e == SSHKEY_EFORMAT && buf_has_prefix(&b, "ssh-ed25519"))
		warnx("meta_data.json: skipping a malformed ssh-ed25519 key");
}

/*
 * Find the ssh-ed25519 key among the strings at "public_keys".* and
 * "keys"[*]."data" of the document's object.  Not a JSON parser: a
 * scanner that knows strings, nesting and member names, enough not to
 * take a key from any other field (such as a tenant-chosen name).
 */
static int
g_json_keys(const struct buf *doc, uint8_t *pub)
{
	struct g_level	 st[G_JSON_DEPTH], *lv;
	struct bbuf	 s;
	struct buf	 b = *doc;
	size_t		 depth = 0;
	uint8_t		 ch, role;
	int		 found = 0, plain, rv = -1;

	bbuf_init(&s, G_JSON_STR_MAX);
	while (buf_get_u8(&b, &ch) == 0) {
		lv = depth > 0 ? &st[depth - 1] : NULL;
		switch (ch) {
		case '{':
		case '[':
			if (depth == G_JSON_DEPTH)
				goto bad;
			role = G_ROLE_NONE;
			if (lv == NULL && ch == '{')
				role = G_ROLE_TOP;
			else if (lv != NULL && lv->gl_role == G_ROLE_TOP &&
			    lv->gl_member == G_MEMBER_PUBKEYS && ch == '{')
				role = G_ROLE_PUBKEYS;
			else if (lv != NULL && lv->gl_role == G_ROLE_TOP &&
			    lv->gl_member == G_MEMBER_KEYS && ch == '[')
				role = G_ROLE_KEYS;
			else if (lv != NULL && lv->gl_role == G_ROLE_KEYS &&
			    ch == '{')
				role = G_ROLE_KEYENT;
			st[depth].gl_open = ch;
			st[depth].gl_role = role;
			st[depth].gl_member = G_MEMBER_OTHER;
			st[depth].gl_want_name = ch == '{';
			depth++;
			break;
		case '}':
		case ']':
			if (lv == NULL ||
			    lv->gl_open != (ch == '}' ? '{' : '['))
				goto bad;
			depth--;
			break;
		case ',':
			if (lv != NULL && lv->gl_open == '{') {
				lv->gl_want_name = 1;
				lv->gl_member = G_MEMBER_OTHER;
			}
			break;
		case ':':
			if (lv != NULL)
				lv->gl_want_name = 0;
			break;
		case '"':
			if (g_json_string(&b, &s, &plain) == -1 || lv == NULL)
				goto bad;
			if (lv->gl_open == '{' && lv->gl_want_name)
				lv->gl_member = plain ?
				    g_member_of(&s, lv->gl_role) :
				    G_MEMBER_OTHER;
			else if (plain && (lv->gl_role == G_ROLE_PUBKEYS ||
			    (lv->gl_role == G_ROLE_KEYENT &&
			    lv->gl_member == G_MEMBER_DATA)))
				g_candidate(&s, pub, &found);
			break;
		default:
			break;	/* blanks and scalars */
		}
	}
	if (depth != 0)
		goto bad;
	if (found == 0)
		warnx("meta_data.json has no ssh-ed25519 key; give one with "
		    "--key-file");
	else if (found == 2)
		warnx("meta_data.json has several ssh-ed25519 keys; choose one "
		    "with --key-file");
	else
		rv = 0;
	goto out;
 bad:
	warnx("meta_data.json: not a JSON document");
 out:
	bbuf_free(&s);
	return rv;
}

static int
g_fetch_key(const struct g_server *gs, uint8_t *pub)
{
	struct httpc_resp	r;
	int			rv = -1;

	if (g_request(gs, "GET", G_META_PATH, NULL, &r) == -1)
		goto out;
	if (r.hr_status != 200) {
		warnx("%s%s: answered %d; give the key with --key-file",
		    gs->gs_hosthdr, G_META_PATH, r.hr_status);
		goto out;
	}
	rv = g_json_keys(&r.hr_body, pub);
 out:
	httpc_resp_free(&r);
	return rv;
}

/*
 * Run chpasswd with "USER:PASSWORD\n" on its stdin: no argument, a bare
 * environment, SIGPIPE back to default, at most G_CHILD_TIMEOUT seconds.
 */
static int
g_chpasswd(char *prog, const char *user, const struct buf *pw)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none, def;
	struct buf			 t = *pw;
	char				*argv[] = { prog, NULL };
	char				*envp[] = { g_child_path, NULL };
	uint8_t				 line[G_USER_MAX + 1 +
					    SEALBOX_PLAIN_MAX + 1];
	size_t				 ul = strlen(user), n, off = 0;
	int64_t				 deadline;
	ssize_t				 w;
	pid_t				 pid;
	int				 p[2], status, e, rv = -1;

	n = ul + 1 + buf_left(pw) + 1;
	if (ul > G_USER_MAX || buf_left(pw) > SEALBOX_PLAIN_MAX)
		return -1;
	memcpy(line, user, ul);
	line[ul] = ':';
	(void)buf_get(&t, &line[ul + 1], buf_left(pw));
	line[n - 1] = '\n';

	if (pipe2(p, O_CLOEXEC) == -1) {
		warn("pipe");
		goto out;
	}
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawnattr_init(&sa) != 0)
		errx(1, "posix_spawn: out of memory");
	(void)posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	(void)posix_spawnattr_setsigmask(&sa, &none);
	(void)posix_spawnattr_setsigdefault(&sa, &def);
	(void)posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	e = posix_spawn(&pid, prog, &fa, &sa, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(p[0]);
	if (e != 0) {
		warnx("%s: %s", prog, strerror(e));
		close(p[1]);
		goto out;
	}
	while (off < n) {
		if ((w = write(p[1], &line[off], n - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (w == -1)
			break;	/* it exited early: its status says why */
		off += (size_t)w;
	}
	close(p[1]);

	deadline = httpc_now_ms() + G_CHILD_TIMEOUT * 1000;
	while ((e = waitpid(pid, &status, WNOHANG)) == 0) {
		if (httpc_now_ms() >= deadline) {
			warnx("%s: still running after %d seconds; killed",
			    prog, G_CHILD_TIMEOUT);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			goto out;
		}
		(void)poll(NULL, 0, 50);
	}
	if (e == -1) {
		warn("waitpid");
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && off == n)
		rv = 0;
	else if (WIFEXITED(status))
		warnx("%s exited with status %d", prog, WEXITSTATUS(status));
	else
		warnx("%s killed by signal %d", prog, WTERMSIG(status));
 out:
	sodium_memzero(line, sizeof(line));
	return rv;
}

/* What chpasswd can take in a password: no line break, no NUL. */
static int
g_is_pwchar(uint8_t ch)
{
	return ch != '\n' && ch != '\r' && ch != '\0';
}

/*
 * Seal, post, and only then set the local password: if the post fails or
 * a password is already there, the account keeps its old password, so
 * the owner can never hold a value that does not work.
 */
static int
g_post(const struct g_opts *o, const struct g_server *gs)
{
	struct httpc_resp	 r;
	struct bbuf		 pwb;
	struct buf		 pw, t;
	uint8_t			 pub[SEALBOX_ED25519_PUB];
	uint8_t			 pt[SEALBOX_PLAIN_MAX];
	char			 value[SEALBOX_VALUE_MAX + 1];
	size_t			 len;
	int			 e, rv = -1;

	memset(&r, 0, sizeof(r));
	bbuf_init(&pwb, 0);
	/* Found missing only after the post, it would leave a stale value. */
	if (o->go_user != NULL && access(o->go_chprog, X_OK) == -1) {
		warn("%s", o->go_chprog);
		goto out;
	}
	if (o->go_keyfile != NULL) {
		if (sshkey_pub_file(o->go_keyfile, pub) == -1)
			goto out;
	} else if (g_fetch_key(gs, pub) == -1)
		goto out;
	if (o->go_stdin)
		e = secret_read(STDIN_FILENO, &pwb, SEALBOX_PLAIN_MAX, 1,
		    &pw);
	else
		e = secret_random(&pwb, o->go_length, &pw);
	if (e == -1)
		goto out;
	if (o->go_user != NULL && !buf_all(&pw, g_is_pwchar)) {
		warnx("--chpasswd: the password holds a newline or NUL");
		goto out;
	}
	t = pw;
	len = buf_left(&pw);
	(void)buf_get(&t, pt, len);
	if ((e = sealbox_seal(pub, pt, len, value, sizeof(value))) !=
	    SEALBOX_OK) {
		warnx("%s", sealbox_strerror(e));
		goto out;
	}
	if (g_request(gs, "POST", G_PASSWORD_PATH, value, &r) == -1)
		goto out;
	if (r.hr_status == 409) {
		g_info("a password is already set (409): nothing changed");
		rv = 0;
		goto out;
	}
	if (r.hr_status != 200) {
		warnx("%s%s: answered %d; the password was not posted",
		    gs->gs_hosthdr, G_PASSWORD_PATH, r.hr_status);
		goto out;
	}
	g_info("password posted");
	if (o->go_user != NULL) {
		if (g_chpasswd(o->go_chprog, o->go_user, &pw) == -1) {
			warnx("the posted password was NOT set for %s; the "
			    "owner must clear it before a new post",
			    o->go_user);
			goto out;
		}
		g_info("password set for %s", o->go_user);
	}
	rv = 0;
 out:
	httpc_resp_free(&r);
	sodium_memzero(pt, sizeof(pt));
	bbuf_free(&pwb);
	return rv;
}

int
main(int argc, char *argv[])
{
	struct g_opts	o;
	struct g_server	gs;

	g_nodump();
	g_options(argc, argv, &o);
	memset(&gs, 0, sizeof(gs));
	g_url(o.go_url, &gs);
	gs.gs_timeout = o.go_timeout;
	if (sodium_init() == -1)
		errx(1, "cannot initialise libsodium");
	/* A peer that closes early is an error to report, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	return g_post(&o, &gs) == 0 ? 0 : 1;
}
