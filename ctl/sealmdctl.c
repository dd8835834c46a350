/* SPDX-License-Identifier: ISC */
/*
 * sealmdctl: the command-line client of sealmd's owner API, which is
 * HTTP/1.1 on a unix socket.  Every byte the server sends is read through
 * struct buf cursors and every JSON document goes through jansson.  No
 * command takes a secret from argv; the only secret ever printed is the
 * password that "get" writes to stdout.
 *
 * Output is collected in one buffer and written when the command has
 * succeeded, so that a failing command never prints half an answer.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "client/httpc.h"
#include "client/secret.h"
#include "ctl/sealcmd.h"
#include "privsep/buf.h"

#define CTL_DEFAULT_SOCKET	"/run/sealmd/owner.sock"
#define CTL_TIMEOUT_SEC		30
#define CTL_REQ_MAX		(5 * 1024 * 1024)	/* a batch, its head */
#define CTL_RESP_MAX		(1024 * 1024)
#define CTL_READ_CHUNK		(64 * 1024)
#define CTL_OUT_MAX		(8 * 1024 * 1024)	/* escapes grow text */
#define CTL_LIST_PAGE		1000	/* the server's largest page */
#define CTL_MSG_MAX		512	/* server text quoted in a message */
#define CTL_KEYFILE_MAX		(64 * 1024)
#define CTL_KEYTYPE_MAX		64
#define CTL_KEYNAME_MAX		64
#define CTL_KEY_LEN		32
#define CTL_UUID_LEN		36
#define CTL_NAME_MAX		32	/* "instance add" */
#define CTL_WAIT_MAX		600	/* as the server's ?wait= */
#define CTL_CANDIDATE_MAX	1020	/* as the server's verify */
#define CTL_JSON_TYPE		"application/json"
#define CTL_BATCH_MAX		1000	/* the server's entries per batch */
#define CTL_BATCH_BODY_MAX	(4 * 1024 * 1024)	/* and its body */

enum {
	CTL_OPT_JSON = 256,
	CTL_OPT_PROJECT,
	CTL_OPT_ADDRESS,
	CTL_OPT_HOSTNAME,
	CTL_OPT_KEYFILE,
	CTL_OPT_WAIT,
};

struct ctl {
	const char	*c_socket;
	int		 c_json;
	char		 c_cmd[CTL_NAME_MAX];	/* for messages */
	struct bbuf	 c_out;		/* stdout, written at the end */
	int		 c_outerr;	/* c_out overflowed */
	int		 c_wait_ok;	/* the command takes --wait */
	uint32_t	 c_wait;	/* --wait seconds */
};

/* What "instance add" collects from its options. */
struct ctl_inst {
	json_t		 *in_project;	/* string */
	json_t		 *in_hostname;	/* string or NULL */
	json_t		 *in_addrs;	/* array of strings */
	const char	**in_keyfiles;
	size_t		  in_nkeyfiles;
};

struct ctl_cmd {
	const char	*cc_name;
	int		(*cc_fn)(struct ctl *, int, char **);
	int		 cc_wait;	/* takes --wait */
};

static void	ctl_usage(FILE *, int) __attribute__((noreturn));
static int	ctl_getopt(struct ctl *, int, char **, const char *,
		    struct ctl_inst *);
static const char *ctl_operand(struct ctl *, int, char **, const char *,
		    struct ctl_inst *);
static void	ctl_wait_opt(struct ctl *, const char *);
static void	ctl_uuid(const struct ctl *, const char *, char *);
static void	ctl_dispatch(struct ctl *, const struct ctl_cmd *,
		    const char *, int, char **) __attribute__((noreturn));
static void	ctl_nodump(void);
static int	ctl_connect(const char *);
static int	ctl_is_namechar(uint8_t);
static int	ctl_is_text(uint8_t);
static int	ctl_call_raw(const struct ctl *, const char *, const char *,
		    const char *, const void *, size_t, struct httpc_resp *);
static int	ctl_call(const struct ctl *, const char *, const char *,
		    const json_t *, struct httpc_resp *);
static json_t	*ctl_resp_json(const struct httpc_resp *);
static void	ctl_server_error(const struct httpc_resp *);
static void	ctl_unexpected(const struct ctl *, const struct httpc_resp *);
static void	ctl_malformed(const struct ctl *, const char *);
static int	ctl_vis_add(struct bbuf *, const char *, size_t);
static void	ctl_out(struct ctl *, const char *, size_t);
static void	ctl_out_vis(struct ctl *, const char *, size_t);
static void	ctl_outf(struct ctl *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	ctl_out_json(struct ctl *, const json_t *);
static int	ctl_flush(struct ctl *);
static int	ctl_key_check(const char *, struct buf *, char *);
static int	ctl_key_read(const char *, char **, char *);
static int	ctl_key_next(int, const char *, uint32_t *);
static int	ctl_write_all(int, const uint8_t *, size_t);
static int	ctl_cmd_get(struct ctl *, int, char **);
static int	ctl_delete(struct ctl *, const char *);
static int	ctl_cmd_clear(struct ctl *, int, char **);
static int	ctl_cmd_list(struct ctl *, int, char **);
static int	ctl_cmd_instance(struct ctl *, int, char **);
static int	ctl_cmd_inst_add(struct ctl *, int, char **);
static int	ctl_cmd_inst_rm(struct ctl *, int, char **);
static int	ctl_cmd_inst_import(struct ctl *, int, char **);
static int	ctl_cmd_status(struct ctl *, int, char **);
static int	ctl_cmd_keygen(struct ctl *, int, char **);
static int	ctl_cmd_seal_for(struct ctl *, int, char **);
static int	ctl_cmd_decrypt(struct ctl *, int, char **);
static int	ctl_cmd_verify(struct ctl *, int, char **);
static int	ctl_cmd_key(struct ctl *, int, char **);
static int	ctl_cmd_key_ls(struct ctl *, int, char **);
static int	ctl_cmd_key_rotate(struct ctl *, int, char **);
static int	ctl_cmd_key_rewrap(struct ctl *, int, char **);
static int	ctl_cmd_key_retire(struct ctl *, int, char **);
static int	ctl_key_ring(struct ctl *, const struct httpc_resp *,
		    json_t **, int);
static int	ctl_key_call(struct ctl *, const char *, const char *, int,
		    json_t **);
static int	ctl_key_print(struct ctl *, int, char **, const char *,
		    const char *);

static const struct ctl_cmd ctl_cmds[] = {
	{ "get",	ctl_cmd_get,		1 },
	{ "clear",	ctl_cmd_clear,		0 },
	{ "verify",	ctl_cmd_verify,		0 },
	{ "list",	ctl_cmd_list,		0 },
	{ "instance",	ctl_cmd_instance,	0 },
	{ "key",	ctl_cmd_key,		0 },
	{ "status",	ctl_cmd_status,		0 },
	{ "keygen",	ctl_cmd_keygen,		0 },
	{ "seal-for",	ctl_cmd_seal_for,	0 },
	{ "decrypt",	ctl_cmd_decrypt,	0 },
	{ NULL,		NULL,			0 }
};

static const struct ctl_cmd ctl_inst_cmds[] = {
	{ "add",	ctl_cmd_inst_add,	0 },
	{ "rm",		ctl_cmd_inst_rm,	0 },
	{ "import",	ctl_cmd_inst_import,	0 },
	{ "ls",		ctl_cmd_list,		0 },
	{ NULL,		NULL,			0 }
};

static const struct ctl_cmd ctl_key_cmds[] = {
	{ "ls",		ctl_cmd_key_ls,		0 },
	{ "rotate",	ctl_cmd_key_rotate,	0 },
	{ "rewrap",	ctl_cmd_key_rewrap,	1 },
	{ "retire",	ctl_cmd_key_retire,	0 },
	{ NULL,		NULL,			0 }
};

static const struct option ctl_opts[] = {
	{ "help",	no_argument,		NULL,	'h' },
	{ "json",	no_argument,		NULL,	CTL_OPT_JSON },
	{ "wait",	required_argument,	NULL,	CTL_OPT_WAIT },
	{ NULL,		0,			NULL,	0 }
};

static const struct option ctl_opts_add[] = {
	{ "help",		no_argument,	   NULL, 'h' },
	{ "json",		no_argument,	   NULL, CTL_OPT_JSON },
	{ "project",		required_argument, NULL, CTL_OPT_PROJECT },
	{ "address",		required_argument, NULL, CTL_OPT_ADDRESS },
	{ "hostname",		required_argument, NULL, CTL_OPT_HOSTNAME },
	{ "public-key-file",	required_argument, NULL, CTL_OPT_KEYFILE },
	{ NULL,			0,		   NULL, 0 }
};

static void
ctl_usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: sealmdctl [-s socket] [--json] command [argument ...]\n"
	    "\n"
	    "  get UUID [--wait N]   print the instance's password, waiting\n"
	    "                        up to N seconds for the guest to post it\n"
	    "  clear UUID            delete the instance's password\n"
	    "  verify UUID           check a candidate (stdin) against the\n"
	    "                        instance's verifier\n"
	    "  list                  list registered instances\n"
	    "  instance add UUID --project P [--address A]... [--hostname H]\n"
	    "               [--public-key-file F]...\n"
	    "                        register or replace an instance\n"
	    "  instance rm UUID      unregister an instance\n"
	    "  instance import FILE  register or replace the instances in\n"
	    "                        FILE (- for stdin): one JSON object per\n"
	    "                        line, sent in batches of up to 1000\n"
	    "  instance ls           same as list\n"
	    "  key ls                list the sealing keys\n"
	    "  key rotate            make a new newest sealing key\n"
	    "  key rewrap [--wait N] reseal every value under the newest key\n"
	    "  key retire ID         delete a key that seals nothing\n"
	    "  status                show the daemon's status\n"
	    "  keygen DIR            create a new sealing key file in DIR\n"
	    "  seal-for [--random N --password-file F] KEYFILE\n"
	    "                        seal a password (stdin) to an "
	    "ssh-ed25519\n"
	    "                        public key; print the value to post\n"
	    "  decrypt --identity FILE\n"
	    "                        decrypt a value (stdin): sx1: with an\n"
	    "                        OpenSSH ed25519 key, RSA with a PEM key\n"
	    "\n"
	    "The socket is $SEALMD_SOCKET if set, else %s.\n"
	    "--json prints the server's JSON answer (get, list, status).\n",
	    CTL_DEFAULT_SOCKET);
	exit(code);
}

void
ctl_usage_err(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'sealmdctl --help'.\n");
	exit(2);
}

/* An option of "instance add"; only its option table reaches here. */
static void
ctl_add_opt(struct ctl_inst *in, int ch, const char *opt)
{
	json_t	*s;

	if (in == NULL)
		ctl_usage_err("option %s is only for \"instance add\"", opt);
	switch (ch) {
	case CTL_OPT_PROJECT:
	case CTL_OPT_HOSTNAME:
		if ((ch == CTL_OPT_PROJECT && in->in_project != NULL) ||
		    (ch == CTL_OPT_HOSTNAME && in->in_hostname != NULL))
			ctl_usage_err("%s: given twice",
			    ch == CTL_OPT_PROJECT ? "--project" : "--hostname");
		if ((s = json_string(optarg)) == NULL)
			ctl_usage_err("%s: not valid UTF-8", opt);
		if (ch == CTL_OPT_PROJECT)
			in->in_project = s;
		else
			in->in_hostname = s;
		break;
	case CTL_OPT_ADDRESS:
		if (json_array_append_new(in->in_addrs,
		    json_string(optarg)) == -1)
			ctl_usage_err("--address: not valid UTF-8");
		break;
	default:
		in->in_keyfiles[in->in_nkeyfiles++] = optarg;
		break;
	}
}

/* --wait N: only after a command that waits, and bounded as the server. */
static void
ctl_wait_opt(struct ctl *c, const char *arg)
{
	unsigned long	 v;
	char		*end;

	if (!c->c_wait_ok)
		ctl_usage_err("option --wait is only for \"get\" and "
		    "\"key rewrap\", after the command");
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    v > CTL_WAIT_MAX)
		ctl_usage_err("--wait: seconds, 0 to %d: %s", CTL_WAIT_MAX,
		    arg);
	c->c_wait = (uint32_t)v;
}

/*
 * Options may come before the command and, for convenience, after it too:
 * each command parses its own argv again with the global options plus its
 * own.  Returns the index of the first operand.
 */
static int
ctl_getopt(struct ctl *c, int argc, char **argv, const char *optstr,
    struct ctl_inst *in)
{
	int	 ch;

	optind = 0;	/* glibc: start over on a new vector */
	opterr = 0;	/* argv[0] may be a command word: say it ourselves */
	while ((ch = getopt_long(argc, argv, optstr,
	    in != NULL ? ctl_opts_add : ctl_opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			ctl_usage(stdout, 0);
		case 's':
			c->c_socket = optarg;
			break;
		case CTL_OPT_JSON:
			c->c_json = 1;
			break;
		case CTL_OPT_WAIT:
			ctl_wait_opt(c, optarg);
			break;
		case CTL_OPT_PROJECT:
		case CTL_OPT_HOSTNAME:
		case CTL_OPT_ADDRESS:
		case CTL_OPT_KEYFILE:
			ctl_add_opt(in, ch, argv[optind - 1]);
			break;
		case ':':
			ctl_usage_err("option %s needs an argument",
			    argv[optind - 1]);
		default:
			if (optopt >= CTL_OPT_JSON)
				ctl_usage_err("option %s takes no argument",
				    argv[optind - 1]);
			if (optopt > 0 && optopt < 0x7f)
				ctl_usage_err("unknown option -%c", optopt);
			ctl_usage_err("unknown option %s", argv[optind - 1]);
		}
	}
	return optind;
}

/* Options, then exactly one operand named what (or none if what is NULL). */
static const char *
ctl_operand(struct ctl *c, int argc, char **argv, const char *what,
    struct ctl_inst *in)
{
	int	i;

	i = ctl_getopt(c, argc, argv, ":hs:", in);
	if (what != NULL && i >= argc)
		ctl_usage_err("%s: missing %s", c->c_cmd, what);
	if (argc - i > (what != NULL ? 1 : 0))
		ctl_usage_err("%s: unexpected argument %s", c->c_cmd,
		    argv[what != NULL ? i + 1 : i]);
	return what != NULL ? argv[i] : NULL;
}

/* Canonical 8-4-4-4-12 hex; upper case is folded to the canonical lower. */
static void
ctl_uuid(const struct ctl *c, const char *s, char *id)
{
	size_t	i;
	char	ch;

	if (strlen(s) != CTL_UUID_LEN)
		ctl_usage_err("%s: invalid instance id: %s", c->c_cmd, s);
	for (i = 0; i < CTL_UUID_LEN; i++) {
		ch = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				ctl_usage_err("%s: invalid instance id: %s",
				    c->c_cmd, s);
		} else if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		else if (!((ch >= '0' && ch <= '9') ||
		    (ch >= 'a' && ch <= 'f')))
			ctl_usage_err("%s: invalid instance id: %s",
			    c->c_cmd, s);
		id[i] = ch;
	}
	id[CTL_UUID_LEN] = '\0';
}

static void
ctl_dispatch(struct ctl *c, const struct ctl_cmd *tab, const char *prefix,
    int argc, char **argv)
{
	const struct ctl_cmd	*cc;
	int			 rv;

	for (cc = tab; cc->cc_name != NULL; cc++)
		if (strcmp(cc->cc_name, argv[0]) == 0)
			break;
	if (cc->cc_name == NULL)
		ctl_usage_err("unknown command: %s%s", prefix, argv[0]);
	(void)snprintf(c->c_cmd, sizeof(c->c_cmd), "%s%s", prefix,
	    cc->cc_name);
	c->c_wait_ok = cc->cc_wait;
	rv = cc->cc_fn(c, argc, argv);
	if (rv == 0 && c->c_outerr) {
		warnx("output larger than %d bytes", CTL_OUT_MAX);
		rv = -1;
	}
	if (rv == 0)
		rv = ctl_flush(c);
	bbuf_free(&c->c_out);
	exit(rv == 0 ? 0 : 1);
}

/* The client holds passwords (get) and key bytes (keygen). */
static void
ctl_nodump(void)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		err(1, "cannot disable core dumps");
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { CTL_TIMEOUT_SEC, 0 };
	size_t			len = strlen(path);
	int			fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path)) {
		warnx("cannot connect to %s: %s", path,
		    strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(sun.sun_path, path, len);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		warn("socket");
		return -1;
	}
	/*
	 * A unix connect() never reports EINPROGRESS, so poll cannot bound
	 * it; it blocks only while the listen queue is full, and the send
	 * timeout bounds that wait.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno == EAGAIN ? ETIMEDOUT : errno;
		warnx("cannot connect to %s: %s", path, strerror(saved));
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		warn("fcntl");
		close(fd);
		return -1;
	}
	return fd;
}

/* Key names and key types: [A-Za-z0-9_.@-]. */
static int
ctl_is_namechar(uint8_t ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z') ||
	    (ch != '\0' && strchr("_.@-", ch) != NULL);
}

static int
ctl_is_text(uint8_t ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/*
 * Send one request and read its answer into r, which the caller frees
 * with httpc_resp_free whatever happened.  The body, if any, is len bytes
 * of type ctype.  Returns 0 on a 2xx answer; every other outcome has been
 * reported.
 */
static int
ctl_call_raw(const struct ctl *c, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, struct httpc_resp *r)
{
	struct httpc_peer	 hp = { "localhost", NULL, c->c_socket,
				    CTL_TIMEOUT_SEC };
	struct bbuf		 req;
	int64_t			 deadline;
	int			 fd = -1, rv = -1;

	httpc_resp_init(r, CTL_RESP_MAX);
	bbuf_init(&req, CTL_REQ_MAX);
	if (httpc_request(&req, &hp, method, path, ctype, body, len) == -1) {
		warnx("request larger than %d bytes", CTL_REQ_MAX);
		goto out;
	}

	/* A waiting read holds the answer back for up to c_wait seconds. */
	deadline = httpc_now_ms() + ((int64_t)CTL_TIMEOUT_SEC + c->c_wait) *
	    1000;
	if ((fd = ctl_connect(c->c_socket)) == -1 ||
	    httpc_exchange(&hp, fd, &req, r, deadline) == -1)
		goto out;
	if (r->hr_status < 200 || r->hr_status > 299) {
		ctl_server_error(r);
		goto out;
	}
	rv = 0;
 out:
	if (fd != -1)
		close(fd);
	bbuf_free(&req);	/* wipes: it may hold a candidate */
	return rv;
}

/* ctl_call_raw with a JSON body, or none. */
static int
ctl_call(const struct ctl *c, const char *method, const char *path,
    const json_t *body, struct httpc_resp *r)
{
	char	*json = NULL;
	int	 rv;

	if (body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL) {
		memset(r, 0, sizeof(*r));
		warnx("cannot encode the request");
		return -1;
	}
	rv = ctl_call_raw(c, method, path, json != NULL ? CTL_JSON_TYPE : NULL,
	    json, json != NULL ? strlen(json) : 0, r);
	free(json);
	return rv;
}

/* The body as a JSON object, or NULL. */
static json_t *
ctl_resp_json(const struct httpc_resp *r)
{
	struct buf	 b = r->hr_body;
	json_error_t	 jerr;
	json_t		*j;
	char		*copy;
	size_t		 n = buf_left(&b);

	if (n == 0 || (copy = malloc(n)) == NULL)
		return NULL;
	/*
	 * jansson wants plain memory: copy out through the cursor.  A
	 * password may hold NUL (Nova stores any UTF-8 text), which the
	 * server sends as \u0000; jansson refuses that unless allowed.
	 */
	(void)buf_get(&b, copy, n);
	j = json_loadb(copy, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    &jerr);
	sodium_memzero(copy, n);
	free(copy);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* "sealmdctl: 404: no such instance" from the server's {"error": ...}. */
static void
ctl_server_error(const struct httpc_resp *r)
{
	struct bbuf	 msg;
	struct buf	 reason = r->hr_reason;
	char		 text[CTL_MSG_MAX];
	json_t		*j, *e;

	bbuf_init(&msg, CTL_MSG_MAX);
	j = ctl_resp_json(r);
	e = json_object_get(j, "error");
	if (json_is_string(e))
		(void)ctl_vis_add(&msg, json_string_value(e),
		    json_string_length(e));
	else if (buf_copy_str(&reason, text, sizeof(text)) == 0 &&
	    text[0] != '\0')
		(void)ctl_vis_add(&msg, text, strlen(text));
	else
		(void)bbuf_add_str(&msg, "request failed");
	warnx("%d: %.*s", r->hr_status, (int)msg.bb_len,
	    (const char *)msg.bb_data);
	json_decref(j);
	bbuf_free(&msg);
}

static void
ctl_unexpected(const struct ctl *c, const struct httpc_resp *r)
{
	warnx("%s: unexpected answer %d to %s", c->c_socket, r->hr_status,
	    c->c_cmd);
}

static void
ctl_malformed(const struct ctl *c, const char *why)
{
	warnx("%s: malformed answer: %s", c->c_socket, why);
}

/* Append s with control bytes escaped, so server text cannot drive a tty. */
static int
ctl_vis_add(struct bbuf *bb, const char *s, size_t len)
{
	size_t	i;
	uint8_t	ch;

	for (i = 0; i < len; i++) {
		ch = (uint8_t)s[i];
		if (ch >= 0x20 && ch != 0x7f) {
			if (bbuf_add(bb, &ch, 1) == -1)
				return -1;
		} else if (bbuf_printf(bb, "\\x%02x", ch) == -1)
			return -1;
	}
	return 0;
}

static void
ctl_out(struct ctl *c, const char *s, size_t len)
{
	if (bbuf_add(&c->c_out, s, len) == -1)
		c->c_outerr = 1;
}

static void
ctl_out_vis(struct ctl *c, const char *s, size_t len)
{
	if (ctl_vis_add(&c->c_out, s, len) == -1)
		c->c_outerr = 1;
}

static void
ctl_outf(struct ctl *c, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		c->c_outerr = 1;
		return;
	}
	ctl_out(c, line, (size_t)n);
}

/* One compact line; jansson escapes every control character. */
static void
ctl_out_json(struct ctl *c, const json_t *j)
{
	char	*s;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL) {
		c->c_outerr = 1;
		return;
	}
	ctl_out(c, s, strlen(s));
	ctl_out(c, "\n", 1);
	sodium_memzero(s, strlen(s));
	free(s);
}

static int
ctl_flush(struct ctl *c)
{
	struct pollfd	pfd = { STDOUT_FILENO, POLLOUT, 0 };

	while (c->c_out.bb_len > 0) {
		if (bbuf_write_fd(&c->c_out, STDOUT_FILENO) != -1 ||
		    errno == EINTR)
			continue;
		if (errno == EAGAIN && poll(&pfd, 1, -1) != -1)
			continue;
		warn("stdout");
		return -1;
	}
	return 0;
}

static int
ctl_cmd_get(struct ctl *c, int argc, char **argv)
{
	struct httpc_resp	 r;
	char			 id[CTL_UUID_LEN + 1], path[128];
	json_t			*j = NULL, *pw;
	int			 rv = -1;

	ctl_uuid(c, ctl_operand(c, argc, argv, "UUID", NULL), id);
	(void)snprintf(path, sizeof(path), "/servers/%s/os-server-password",
	    id);
	if (c->c_wait > 0)
		(void)snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "?wait=%u", c->c_wait);
	if (ctl_call(c, "GET", path, NULL, &r) == -1)
		goto out;
	if (r.hr_status != 200) {
		ctl_unexpected(c, &r);
		goto out;
	}
	if ((j = ctl_resp_json(&r)) == NULL) {
		ctl_malformed(c, "not a JSON object");
		goto out;
	}
	pw = json_object_get(j, "password");
	if (!json_is_string(pw)) {
		ctl_malformed(c, "no \"password\" string");
		goto out;
	}
	if (c->c_wait > 0 && json_string_length(pw) == 0) {
		/* A script that waits must not mistake silence for a value. */
		warnx("%s: no value after %u seconds", c->c_cmd, c->c_wait);
		goto out;
	}
	if (c->c_json)
		ctl_out_json(c, j);
	else if (json_string_length(pw) > 0) {
		/* Raw: the value is often ciphertext the owner decrypts. */
		ctl_out(c, json_string_value(pw), json_string_length(pw));
		ctl_out(c, "\n", 1);
	}
	rv = 0;
 out:
	json_decref(j);
	httpc_resp_free(&r);
	return rv;
}

/* DELETE path; the answer has no body worth printing. */
static int
ctl_delete(struct ctl *c, const char *path)
{
	struct httpc_resp	r;
	int			rv = -1;

	if (ctl_call(c, "DELETE", path, NULL, &r) == -1)
		goto out;
	if (r.hr_status != 204 && r.hr_status != 200) {
		ctl_unexpected(c, &r);
		goto out;
	}
	rv = 0;
 out:
	httpc_resp_free(&r);
	return rv;
}

static int
ctl_cmd_clear(struct ctl *c, int argc, char **argv)
{
	char	id[CTL_UUID_LEN + 1], path[128];

	ctl_uuid(c, ctl_operand(c, argc, argv, "UUID", NULL), id);
	(void)snprintf(path, sizeof(path), "/servers/%s/os-server-password",
	    id);
	return ctl_delete(c, path);
}

/*
 * The candidate is stdin less one final newline, or a line typed once
 * without echo; it goes only into the request body, which is wiped.
 */
static int
ctl_cmd_verify(struct ctl *c, int argc, char **argv)
{
	struct httpc_resp	 r;
	struct bbuf		 cb;
	struct buf		 cand;
	char			 id[CTL_UUID_LEN + 1], path[128];
	int			 rv = -1;

	ctl_uuid(c, ctl_operand(c, argc, argv, "UUID", NULL), id);
	(void)snprintf(path, sizeof(path), "/servers/%s/os-server-password"
	    "/verify", id);
	memset(&r, 0, sizeof(r));
	if (secret_read(STDIN_FILENO, &cb, CTL_CANDIDATE_MAX, 0, &cand) == -1)
		goto out;
	if (ctl_call_raw(c, "POST", path, "text/plain", cb.bb_data,
	    buf_left(&cand), &r) == -1)
		goto out;
	if (r.hr_status != 204) {
		ctl_unexpected(c, &r);
		goto out;
	}
	ctl_out(c, "match\n", 6);
	rv = 0;
 out:
	bbuf_free(&cb);
	httpc_resp_free(&r);
	return rv;
}

static int
ctl_cmd_key(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		ctl_usage_err("key: missing subcommand (ls, rotate, rewrap, "
		    "retire)");
	ctl_dispatch(c, ctl_key_cmds, "key ", argc - 1, argv + 1);
}

/*
 * Every /keys answer is the ring afterwards; check its shape, then print
 * it as JSON or as a table.  Returns the object in *jp for the caller to
 * inspect and free.
 */
static int
ctl_key_ring(struct ctl *c, const struct httpc_resp *r, json_t **jp,
    int print)
{
	json_t	*j, *keys, *e, *newest, *rw;
	size_t	 i;

	*jp = NULL;
	if (r->hr_status != 200) {
		ctl_unexpected(c, r);
		return -1;
	}
	if ((j = ctl_resp_json(r)) == NULL) {
		ctl_malformed(c, "not a JSON object");
		return -1;
	}
	*jp = j;
	newest = json_object_get(j, "newest");
	keys = json_object_get(j, "keys");
	rw = json_object_get(j, "rewrap");
	if (!json_is_integer(newest) || !json_is_array(keys) ||
	    !json_is_boolean(json_object_get(rw, "running")) ||
	    !json_is_integer(json_object_get(rw, "resealed"))) {
		ctl_malformed(c, "not a key ring");
		return -1;
	}
	json_array_foreach(keys, i, e)
		if (!json_is_integer(json_object_get(e, "id")) ||
		    !json_is_integer(json_object_get(e, "values"))) {
			ctl_malformed(c, "bad entry in \"keys\"");
			return -1;
		}
	if (!print)
		return 0;
	if (c->c_json) {
		ctl_out_json(c, j);
		return 0;
	}
	ctl_outf(c, "KEY  VALUES\n");
	json_array_foreach(keys, i, e) {
		ctl_outf(c, "%-4" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT
		    "%s\n", json_integer_value(json_object_get(e, "id")),
		    json_integer_value(json_object_get(e, "values")),
		    json_integer_value(json_object_get(e, "id")) ==
		    json_integer_value(newest) ? "  (newest)" : "");
	}
	ctl_outf(c, "rewrap: %s, %" JSON_INTEGER_FORMAT " resealed\n",
	    json_is_true(json_object_get(rw, "running")) ? "running" : "idle",
	    json_integer_value(json_object_get(rw, "resealed")));
	return 0;
}

/* One request on /keys that answers with the ring. */
static int
ctl_key_call(struct ctl *c, const char *method, const char *path,
    int print, json_t **jp)
{
	struct httpc_resp	 r;
	int			 rv = -1;

	*jp = NULL;
	if (ctl_call(c, method, path, NULL, &r) == 0)
		rv = ctl_key_ring(c, &r, jp, print);
	httpc_resp_free(&r);
	return rv;
}

/* key ls and key rotate: one request, no operand, print the ring. */
static int
ctl_key_print(struct ctl *c, int argc, char **argv, const char *method,
    const char *path)
{
	json_t	*j;
	int	 rv;

	(void)ctl_operand(c, argc, argv, NULL, NULL);
	rv = ctl_key_call(c, method, path, 1, &j);
	json_decref(j);
	return rv;
}

static int
ctl_cmd_key_ls(struct ctl *c, int argc, char **argv)
{
	return ctl_key_print(c, argc, argv, "GET", "/keys");
}

static int
ctl_cmd_key_rotate(struct ctl *c, int argc, char **argv)
{
	return ctl_key_print(c, argc, argv, "POST", "/keys/rotate");
}

/*
 * Start resealing; with --wait N, poll the ring once a second until the
 * broker says it is done, and fail if it is not within N seconds.
 */
static int
ctl_cmd_key_rewrap(struct ctl *c, int argc, char **argv)
{
	json_t		*j;
	int64_t		 deadline;
	uint32_t	 wait;
	int		 done;

	(void)ctl_operand(c, argc, argv, NULL, NULL);
	/* Each request has only the usual timeout; the polling has N. */
	wait = c->c_wait;
	c->c_wait = 0;
	deadline = httpc_now_ms() + (int64_t)wait * 1000;
	if (ctl_key_call(c, "POST", "/keys/rewrap", wait == 0, &j) == -1) {
		json_decref(j);
		return -1;
	}
	for (;;) {
		done = !json_is_true(json_object_get(json_object_get(j,
		    "rewrap"), "running"));
		if (wait == 0 || done || httpc_now_ms() >= deadline)
			break;
		json_decref(j);
		(void)poll(NULL, 0, 1000);
		if (ctl_key_call(c, "GET", "/keys", 0, &j) == -1) {
			json_decref(j);
			return -1;
		}
	}
	if (wait > 0 && !done) {
		warnx("%s: still running after %u seconds", c->c_cmd, wait);
		json_decref(j);
		return -1;
	}
	if (wait > 0) {
		/* Print the final ring, the one the owner waited for. */
		json_decref(j);
		if (ctl_key_call(c, "GET", "/keys", 1, &j) == -1) {
			json_decref(j);
			return -1;
		}
	}
	json_decref(j);
	return 0;
}

static int
ctl_cmd_key_retire(struct ctl *c, int argc, char **argv)
{
	const char	*arg;
	char		 path[64], *end;
	unsigned long	 id;

	arg = ctl_operand(c, argc, argv, "ID", NULL);
	errno = 0;
	id = strtoul(arg, &end, 10);
	if (arg[0] < '1' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    id > UINT32_MAX)
		ctl_usage_err("%s: invalid key id: %s", c->c_cmd, arg);
	(void)snprintf(path, sizeof(path), "/keys/%lu", id);
	return ctl_delete(c, path);
}

/*
 * One page of the listing, printed; *more says whether the server has a
 * next page, which starts after the id left in marker.  Each id must sort
 * after the one before, so a server cannot keep the walk going in circles.
 */
static int
ctl_list_page(struct ctl *c, char *marker, int *more, size_t *n)
{
	struct httpc_resp	 r;
	json_t			*j = NULL, *arr, *e, *id, *proj;
	char			 path[96], *s;
	size_t			 i;
	int			 rv = -1;

	*more = 0;
	(void)snprintf(path, sizeof(path), "/instances?limit=%d%s%s",
	    CTL_LIST_PAGE, marker[0] != '\0' ? "&marker=" : "", marker);
	if (ctl_call(c, "GET", path, NULL, &r) == -1)
		goto out;
	if (r.hr_status != 200) {
		ctl_unexpected(c, &r);
		goto out;
	}
	if ((j = ctl_resp_json(&r)) == NULL) {
		ctl_malformed(c, "not a JSON object");
		goto out;
	}
	arr = json_object_get(j, "instances");
	if (!json_is_array(arr)) {
		ctl_malformed(c, "no \"instances\" array");
		goto out;
	}
	json_array_foreach(arr, i, e) {
		id = json_object_get(e, "id");
		proj = json_object_get(e, "project_id");
		if (!json_is_string(id) || !json_is_string(proj) ||
		    json_string_length(id) != CTL_UUID_LEN ||
		    strspn(json_string_value(id), "0123456789abcdef-") !=
		    CTL_UUID_LEN ||
		    strcmp(json_string_value(id), marker) <= 0) {
			ctl_malformed(c, "bad entry in \"instances\"");
			goto out;
		}
		memcpy(marker, json_string_value(id), CTL_UUID_LEN + 1);
		if (c->c_json) {
			if ((s = json_dumps(e, JSON_COMPACT)) == NULL) {
				c->c_outerr = 1;
				goto out;
			}
			if (*n > 0)
				ctl_out(c, ",", 1);
			ctl_out(c, s, strlen(s));
			free(s);
		} else {
			ctl_out_vis(c, json_string_value(id),
			    json_string_length(id));
			ctl_out(c, " ", 1);
			ctl_out_vis(c, json_string_value(proj),
			    json_string_length(proj));
			ctl_out(c, "\n", 1);
		}
		(*n)++;
	}
	if (json_object_get(j, "next") != NULL) {
		if (json_array_size(arr) == 0) {
			ctl_malformed(c, "an empty page with a next page");
			goto out;
		}
		*more = 1;
	}
	rv = 0;
 out:
	json_decref(j);
	httpc_resp_free(&r);
	return rv;
}

/*
 * Follows the pages, one connection each, printing as it goes: memory
 * stays one page whatever the registry holds.  --json prints the same
 * one object an unpaged answer would be, {"instances":[...]}.
 */
static int
ctl_cmd_list(struct ctl *c, int argc, char **argv)
{
	char	marker[CTL_UUID_LEN + 1] = "";
	size_t	n = 0;
	int	more;

	(void)ctl_operand(c, argc, argv, NULL, NULL);
	if (c->c_json)
		ctl_out(c, "{\"instances\":[", 14);
	do {
		if (ctl_list_page(c, marker, &more, &n) == -1)
			return -1;
		if (c->c_outerr) {
			warnx("output larger than %d bytes", CTL_OUT_MAX);
			return -1;
		}
		if (ctl_flush(c) == -1)
			return -1;
	} while (more);
	if (c->c_json)
		ctl_out(c, "]}\n", 3);
	return 0;
}

static int
ctl_cmd_instance(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		ctl_usage_err("instance: missing subcommand (add, rm, ls, "
		    "import)");
	ctl_dispatch(c, ctl_inst_cmds, "instance ", argc - 1, argv + 1);
}

/*
 * line must be "TYPE BASE64[ COMMENT]" whose base64 blob opens with the
 * string TYPE, as every OpenSSH public key and certificate does.  name
 * gets the comment when it makes a good key name, else "".  Nothing of
 * the line is quoted in messages: it might be a private key.
 */
static int
ctl_key_check(const char *file, struct buf *line, char *name)
{
	struct buf	 type, b64, blob, btype;
	char		 tname[CTL_KEYTYPE_MAX + 1], *s = NULL;
	uint8_t		 len4[4], *bin = NULL;
	size_t		 n, binlen;
	uint32_t	 tlen;
	int		 rv = -1;

	name[0] = '\0';
	if (buf_has_prefix(line, "-----BEGIN")) {
		warnx("%s: this is a private key, not a public key", file);
		return -1;
	}
	if (buf_token(line, &type) == -1 || buf_token(line, &b64) == -1 ||
	    buf_left(&type) > CTL_KEYTYPE_MAX ||
	    !buf_all(&type, ctl_is_namechar) ||
	    buf_copy_str(&type, tname, sizeof(tname)) == -1)
		goto bad;
	n = buf_left(&b64);
	if ((s = malloc(n + 1)) == NULL || (bin = malloc(n)) == NULL) {
		warn("%s", file);
		goto out;
	}
	if (buf_copy_str(&b64, s, n + 1) == -1 ||
	    sodium_base642bin(bin, n, s, n, NULL, &binlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == -1)
		goto bad;
	buf_init(&blob, bin, binlen);
	if (buf_get(&blob, len4, sizeof(len4)) == -1)
		goto bad;
	tlen = (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 |
	    (uint32_t)len4[2] << 8 | len4[3];
	if (buf_take(&blob, tlen, &btype) == -1 || !buf_eq(&btype, tname))
		goto bad;
	buf_trim_ows(line);
	if (buf_left(line) <= CTL_KEYNAME_MAX &&
	    buf_all(line, ctl_is_namechar))
		(void)buf_copy_str(line, name, CTL_KEYNAME_MAX + 1);
	rv = 0;
	goto out;
 bad:
	warnx("%s: not an OpenSSH public key line (TYPE BASE64 [COMMENT])",
	    file);
 out:
	free(s);
	free(bin);
	return rv;
}

/*
 * The first non-empty line of an OpenSSH public key file, trimmed, into
 * *linep (malloc'd); name as ctl_key_check leaves it.
 */
static int
ctl_key_read(const char *file, char **linep, char *name)
{
	struct bbuf	 bb;
	struct buf	 b, line, check;
	struct stat	 st;
	ssize_t		 n;
	int		 fd, rv = -1;

	*linep = NULL;
	bbuf_init(&bb, CTL_KEYFILE_MAX + 1);
	/* O_NONBLOCK: a FIFO must not hang the open. */
	if ((fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		warn("%s", file);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx("%s: not a regular file", file);
		goto out;
	}
	while ((n = bbuf_read_fd(&bb, fd, CTL_READ_CHUNK)) != 0) {
		if (n != -1 || errno == EINTR)
			continue;
		if (errno == ENOBUFS)
			warnx("%s: larger than %d bytes", file,
			    CTL_KEYFILE_MAX);
		else
			warn("%s", file);
		goto out;
	}
	bbuf_view(&bb, &b);
	do {
		if (!httpc_line(&b, &line, 1)) {
			warnx("%s: no key in file", file);
			goto out;
		}
		buf_trim_ows(&line);
	} while (buf_left(&line) == 0);
	if (!buf_all(&line, ctl_is_text)) {
		warnx("%s: control characters in key line", file);
		goto out;
	}
	check = line;
	if (ctl_key_check(file, &check, name) == -1)
		goto out;
	if ((*linep = malloc(buf_left(&line) + 1)) == NULL) {
		warn("%s", file);
		goto out;
	}
	(void)buf_copy_str(&line, *linep, buf_left(&line) + 1);
	rv = 0;
 out:
	if (fd != -1)
		close(fd);
	bbuf_free(&bb);		/* wipes: it might have been a private key */
	return rv;
}

static int
ctl_cmd_inst_add(struct ctl *c, int argc, char **argv)
{
	struct ctl_inst		 in;
	struct httpc_resp	 r;
	char			 id[CTL_UUID_LEN + 1], path[128];
	char			 name[CTL_KEYNAME_MAX + 1], *line = NULL;
	json_t			*keys = NULL, *body = NULL, *s;
	size_t			 i;
	int			 rv = -1;

	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	if ((in.in_addrs = json_array()) == NULL ||
	    (keys = json_object()) == NULL ||
	    (in.in_keyfiles = calloc((size_t)argc, sizeof(char *))) == NULL)
		err(1, NULL);
	ctl_uuid(c, ctl_operand(c, argc, argv, "UUID", &in), id);
	if (in.in_project == NULL)
		ctl_usage_err("%s: --project is required", c->c_cmd);

	for (i = 0; i < in.in_nkeyfiles; i++) {
		if (ctl_key_read(in.in_keyfiles[i], &line, name) == -1)
			goto out;
		/* Two keys may well share a comment (rsa and ed25519). */
		if (name[0] == '\0' || json_object_get(keys, name) != NULL)
			(void)snprintf(name, sizeof(name), "key-%zu", i + 1);
		if (json_object_get(keys, name) != NULL) {
			warnx("%s: key name %s is taken",
			    in.in_keyfiles[i], name);
			goto out;
		}
		if ((s = json_string(line)) == NULL) {
			warnx("%s: key line is not valid UTF-8",
			    in.in_keyfiles[i]);
			goto out;
		}
		if (json_object_set_new(keys, name, s) == -1)
			err(1, NULL);
		free(line);
		line = NULL;
	}
	if ((body = json_pack("{s:O, s:O, s:O*, s:O}",
	    "project_id", in.in_project, "addresses", in.in_addrs,
	    "hostname", in.in_hostname, "public_keys", keys)) == NULL)
		err(1, NULL);

	(void)snprintf(path, sizeof(path), "/instances/%s", id);
	if (ctl_call(c, "PUT", path, body, &r) == -1)
		goto out;
	if (r.hr_status == 201)
		ctl_outf(c, "created %s\n", id);
	else if (r.hr_status == 200)
		ctl_outf(c, "replaced %s\n", id);
	else {
		ctl_unexpected(c, &r);
		goto out;
	}
	rv = 0;
 out:
	free(line);
	free(in.in_keyfiles);
	json_decref(in.in_project);
	json_decref(in.in_hostname);
	json_decref(in.in_addrs);
	json_decref(keys);
	json_decref(body);
	httpc_resp_free(&r);
	return rv;
}

static int
ctl_cmd_inst_rm(struct ctl *c, int argc, char **argv)
{
	char	id[CTL_UUID_LEN + 1], path[128];

	ctl_uuid(c, ctl_operand(c, argc, argv, "UUID", NULL), id);
	(void)snprintf(path, sizeof(path), "/instances/%s", id);
	return ctl_delete(c, path);
}

/* What "instance import" sends at a time, and where each line came from. */
struct ctl_batch {
	struct bbuf	 cb_body;
	size_t		 cb_n;
	size_t		 cb_line[CTL_BATCH_MAX];	/* in the file */
	const char	*cb_file;
	size_t		 cb_registered, cb_created, cb_failed;
};

/* A refused batch's errors, each at its line in the file. */
static void
ctl_batch_errors(const struct ctl_batch *cb, const struct httpc_resp *r)
{
	struct bbuf	 msg;
	json_t		*j, *e, *v;
	json_int_t	 line;
	size_t		 i;

	j = ctl_resp_json(r);
	json_array_foreach(json_object_get(j, "errors"), i, e) {
		line = json_integer_value(json_object_get(e, "line"));
		v = json_object_get(e, "error");
		if (line < 1 || (size_t)line > cb->cb_n || !json_is_string(v))
			continue;
		bbuf_init(&msg, CTL_MSG_MAX);
		(void)ctl_vis_add(&msg, json_string_value(v),
		    json_string_length(v));
		v = json_object_get(e, "id");
		warnx("%s:%zu: %s%s%.*s", cb->cb_file,
		    cb->cb_line[line - 1], json_is_string(v) &&
		    json_string_length(v) == CTL_UUID_LEN ?
		    json_string_value(v) : "", json_is_string(v) ? ": " : "",
		    (int)msg.bb_len, (const char *)msg.bb_data);
		bbuf_free(&msg);
	}
	json_decref(j);
}

/* Send what cb holds; all of it is registered, or none. */
static int
ctl_batch_send(struct ctl *c, struct ctl_batch *cb)
{
	struct httpc_resp	 r;
	json_t			*j;
	int			 rv = -1;

	if (cb->cb_n == 0)
		return 0;
	if (ctl_call_raw(c, "POST", "/instances:batch",
	    "application/x-ndjson", cb->cb_body.bb_data, cb->cb_body.bb_len,
	    &r) == 0) {
		j = ctl_resp_json(&r);
		if (r.hr_status == 200 && json_is_integer(json_object_get(j,
		    "registered")) && json_is_integer(json_object_get(j,
		    "created"))) {
			cb->cb_registered += (size_t)json_integer_value(
			    json_object_get(j, "registered"));
			cb->cb_created += (size_t)json_integer_value(
			    json_object_get(j, "created"));
			rv = 0;
		} else
			ctl_unexpected(c, &r);
		json_decref(j);
	} else if (r.hr_status == 400 || r.hr_status == 409)
		ctl_batch_errors(cb, &r);
	if (rv == -1) {
		warnx("%s: lines %zu to %zu: none of these %zu registered",
		    cb->cb_file, cb->cb_line[0], cb->cb_line[cb->cb_n - 1],
		    cb->cb_n);
		cb->cb_failed += cb->cb_n;
	}
	httpc_resp_free(&r);
	bbuf_reset(&cb->cb_body);
	cb->cb_n = 0;
	return rv;
}

static int
ctl_blank(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * NDJSON, as POST /instances:batch takes it: each line a registration
 * with its "id".  Sent in batches of up to CTL_BATCH_MAX lines and
 * CTL_BATCH_BODY_MAX bytes, each stored whole or not at all; a batch
 * that fails does not stop the next.  Exit 1 if any line failed.
 */
static int
ctl_cmd_inst_import(struct ctl *c, int argc, char **argv)
{
	static struct ctl_batch	 cb;
	struct buf		 b;
	const char		*file;
	FILE			*fp;
	char			*line = NULL;
	size_t			 cap = 0, no = 0;
	ssize_t			 len;
	int			 rv = 0;

	file = ctl_operand(c, argc, argv, "FILE", NULL);
	if (strcmp(file, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(file, "r")) == NULL) {
		warn("%s", file);
		return -1;
	}
	memset(&cb, 0, sizeof(cb));
	cb.cb_file = strcmp(file, "-") == 0 ? "stdin" : file;
	bbuf_init(&cb.cb_body, CTL_BATCH_BODY_MAX);
	while ((len = getline(&line, &cap, fp)) != -1) {
		no++;
		buf_init(&b, line, (size_t)len);
		if (buf_all(&b, ctl_blank))
			continue;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if ((size_t)len + 1 > CTL_BATCH_BODY_MAX) {
			warnx("%s:%zu: longer than %d bytes", cb.cb_file, no,
			    CTL_BATCH_BODY_MAX - 1);
			cb.cb_failed++;
			rv = -1;
			continue;
		}
		if (cb.cb_n == CTL_BATCH_MAX || cb.cb_body.bb_len +
		    (size_t)len + 1 > CTL_BATCH_BODY_MAX)
			rv |= ctl_batch_send(c, &cb);
		if (bbuf_add(&cb.cb_body, line, (size_t)len) == -1 ||
		    bbuf_add(&cb.cb_body, "\n", 1) == -1)
			errx(1, "batch buffer");
		cb.cb_line[cb.cb_n++] = no;
	}
	if (ferror(fp)) {
		warn("%s", cb.cb_file);
		rv = -1;
	}
	free(line);
	if (fp != stdin)
		(void)fclose(fp);
	rv |= ctl_batch_send(c, &cb);
	bbuf_free(&cb.cb_body);
	if (c->c_json)
		ctl_outf(c, "{\"registered\":%zu,\"created\":%zu,"
		    "\"updated\":%zu,\"failed\":%zu}\n", cb.cb_registered,
		    cb.cb_created, cb.cb_registered - cb.cb_created,
		    cb.cb_failed);
	else
		ctl_outf(c, "registered %zu (%zu created, %zu updated), "
		    "%zu failed\n", cb.cb_registered, cb.cb_created,
		    cb.cb_registered - cb.cb_created, cb.cb_failed);
	/* The summary counts even when a batch failed. */
	return ctl_flush(c) == -1 ? -1 : rv;
}

static int
ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
	struct httpc_resp	 r;
	const char		*key;
	json_t			*j = NULL, *v;
	char			*s;
	int			 rv = -1;

	(void)ctl_operand(c, argc, argv, NULL, NULL);
	if (ctl_call(c, "GET", "/status", NULL, &r) == -1)
		goto out;
	if (r.hr_status != 200) {
		ctl_unexpected(c, &r);
		goto out;
	}
	if ((j = ctl_resp_json(&r)) == NULL) {
		ctl_malformed(c, "not a JSON object");
		goto out;
	}
	if (c->c_json) {
		ctl_out_json(c, j);
		rv = 0;
		goto out;
	}
	/* In the server's order, so new fields show up without a change. */
	json_object_foreach(j, key, v) {
		ctl_out_vis(c, key, strlen(key));
		ctl_out(c, ": ", 2);
		if (json_is_string(v))
			ctl_out_vis(c, json_string_value(v),
			    json_string_length(v));
		else {
			if ((s = json_dumps(v, JSON_ENCODE_ANY |
			    JSON_COMPACT)) == NULL)
				err(1, NULL);
			ctl_out_vis(c, s, strlen(s));
			free(s);
		}
		ctl_out(c, "\n", 1);
	}
	rv = 0;
 out:
	json_decref(j);
	httpc_resp_free(&r);
	return rv;
}

/* 1 + the highest decimal file name in the directory, or 1. */
static int
ctl_key_next(int dfd, const char *dir, uint32_t *id)
{
	struct dirent	*de;
	struct buf	 b;
	DIR		*d;
	uint64_t	 v, max = 0;
	int		 fd;

	if ((fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		warn("key directory %s", dir);
		if (fd != -1)
			close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		buf_init(&b, de->d_name, strlen(de->d_name));
		if (buf_to_u64(&b, UINT32_MAX, &v) == 0 && v > max)
			max = v;
	}
	if (errno != 0) {
		warn("key directory %s", dir);
		closedir(d);
		return -1;
	}
	closedir(d);
	if (max == UINT32_MAX) {
		warnx("key directory %s: key ids are exhausted", dir);
		return -1;
	}
	*id = (uint32_t)max + 1;
	return 0;
}

static int
ctl_write_all(int fd, const uint8_t *p, size_t len)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		n = write(fd, &p[off], len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int
ctl_cmd_keygen(struct ctl *c, int argc, char **argv)
{
	struct stat	 st;
	const char	*dir;
	uint8_t		 key[CTL_KEY_LEN];
	char		 name[16];
	uint32_t	 id;
	int		 dfd, fd = -1, rv = -1;

	dir = ctl_operand(c, argc, argv, "DIR", NULL);
	if (sodium_init() == -1) {
		warnx("cannot initialise libsodium");
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(dfd, &st) == -1) {
		warn("key directory %s", dir);
		goto out;
	}
	/* The broker refuses such keys; refuse to make them. */
	if ((st.st_mode & 077) != 0) {
		warnx("key directory %s is open to group or others (mode %04o);"
		    " chmod 700 it first", dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (ctl_key_next(dfd, dir, &id) == -1)
		goto out;
	(void)snprintf(name, sizeof(name), "%u", id);
	if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		warn("%s/%s", dir, name);
		goto out;
	}
	randombytes_buf(key, sizeof(key));
	if (ctl_write_all(fd, key, sizeof(key)) == -1 || fsync(fd) == -1) {
		warn("%s/%s", dir, name);
		/* A short key file would stop the broker from starting. */
		(void)unlinkat(dfd, name, 0);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		warn("%s/%s", dir, name);
		(void)unlinkat(dfd, name, 0);
		goto out;
	}
	fd = -1;
	if (fsync(dfd) == -1) {
		warn("key directory %s", dir);
		goto out;
	}
	ctl_outf(c, "created key %u in %s\n", id, dir);
	rv = 0;
 out:
	sodium_memzero(key, sizeof(key));
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	return rv;
}

/* Local commands: no server, and no option of sealmdctl's own. */
static int
ctl_cmd_seal_for(struct ctl *c, int argc, char **argv)
{
	return sealcmd_seal_for(argc, argv, &c->c_out);
}

static int
ctl_cmd_decrypt(struct ctl *c, int argc, char **argv)
{
	return sealcmd_decrypt(argc, argv, &c->c_out);
}

int
main(int argc, char *argv[])
{
	struct ctl	 c;
	const char	*env;
	int		 i;

	ctl_nodump();
	memset(&c, 0, sizeof(c));
	env = getenv("SEALMD_SOCKET");
	c.c_socket = env != NULL && env[0] != '\0' ? env : CTL_DEFAULT_SOCKET;
	bbuf_init(&c.c_out, CTL_OUT_MAX);

	i = ctl_getopt(&c, argc, argv, "+:hs:", NULL);
	if (i >= argc)
		ctl_usage_err("missing command");
	ctl_dispatch(&c, ctl_cmds, "", argc - i, argv + i);
}
