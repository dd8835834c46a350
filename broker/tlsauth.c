/* SPDX-License-Identifier: ISC */
/*
 * Who may use the owner API over TLS.  A caller shows a client
 * certificate, which the worker's handshake verified against
 * tls_client_ca and whose subject must be an allow_subject, or an
 * X-Auth-Token whose SHA-256 is in token_hashes_file.  The hash list stays
 * here; tokens are compared in constant time.  No credential: 401; a
 * wrong token: 401; a good certificate of a subject not listed: 403.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "broker.h"
#include "privsep/log.h"

#define TOKEN_FILE_MAX	8192

static void	tlsauth_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
tlsauth_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* One lowercase or uppercase hex SHA-256 per line; '#' starts a comment. */
static int
tlsauth_parse(char *text, const char *path, struct tlsstate *ts, char *err,
    size_t errlen)
{
	char	*line, *save = NULL, *e;
	size_t	 n, lineno = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line += strspn(line, " \t");
		for (e = line + strlen(line); e > line &&
		    strchr(" \t\r", e[-1]) != NULL; e--)
			;
		*e = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (ts->ts_ntokens == TLS_TOKENS_MAX) {
			tlsauth_err(err, errlen, "%s: more than %d token "
			    "hashes", path, TLS_TOKENS_MAX);
			return -1;
		}
		if (strlen(line) != 2 * TLS_HASH_LEN ||
		    sodium_hex2bin(ts->ts_tokens[ts->ts_ntokens], TLS_HASH_LEN,
		    line, strlen(line), NULL, &n, NULL) != 0 ||
		    n != TLS_HASH_LEN) {
			tlsauth_err(err, errlen, "%s: line %zu is not a "
			    "SHA-256 in hex", path, lineno);
			return -1;
		}
		ts->ts_ntokens++;
	}
	if (ts->ts_ntokens == 0) {
		tlsauth_err(err, errlen, "%s: no token hashes", path);
		return -1;
	}
	return 0;
}

int
tlsauth_load_tokens(const char *path, struct tlsstate *ts, char *err,
    size_t errlen)
{
	char	*text;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		tlsauth_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((text = sodium_malloc(TOKEN_FILE_MAX + 1)) == NULL) {
		tlsauth_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (keys_check_file(fd, path, err, errlen) == -1)
		goto out;
	while (got < TOKEN_FILE_MAX) {
		n = read(fd, text + got, TOKEN_FILE_MAX - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tlsauth_err(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == TOKEN_FILE_MAX) {
		tlsauth_err(err, errlen, "%s: longer than %d bytes", path,
		    TOKEN_FILE_MAX - 1);
		goto out;
	}
	text[got] = '\0';
	r = tlsauth_parse(text, path, ts, err, errlen);
 out:
	sodium_free(text);
	close(fd);
	return r;
}

/* Every stored hash is compared, whatever matched before. */
static int
tlsauth_token_ok(const struct tlsstate *ts, const char *token)
{
	uint8_t	h[TLS_HASH_LEN];
	size_t	i;
	int	ok = 0;

	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	for (i = 0; i < ts->ts_ntokens; i++)
		ok |= sodium_memcmp(h, ts->ts_tokens[i], TLS_HASH_LEN) == 0;
	sodium_memzero(h, sizeof(h));
	return ok && token[0] != '\0';
}

/*
 * MSG_OWNER_AUTH.  Returns -1 on a violation (why says which), else 0
 * with the status for the request; the connection may issue owner
 * operations until its next request's credentials fail.
 */
int
tlsauth_check(struct broker *b, struct bconn *bc,
    const struct msg_owner_auth *mo, unsigned int *status, char *why,
    size_t whylen)
{
	const struct config	*conf = b->b_conf;
	size_t			 i;
	int			 cert_ok = 0;

	if (bc->bc_tls == 0) {
		tlsauth_err(why, whylen, "credentials on a connection "
		    "without TLS");
		return -1;
	}
	if ((mo->mo_flags & ~(AUTH_F_CERT | AUTH_F_TOKEN)) != 0 ||
	    !chan_str_ok(mo->mo_subject, sizeof(mo->mo_subject)) ||
	    !chan_str_ok(mo->mo_token, sizeof(mo->mo_token)) ||
	    (!(mo->mo_flags & AUTH_F_CERT) && mo->mo_subject[0] != '\0') ||
	    (!(mo->mo_flags & AUTH_F_TOKEN) && mo->mo_token[0] != '\0')) {
		tlsauth_err(why, whylen, "malformed credentials");
		return -1;
	}
	if (mo->mo_flags & AUTH_F_CERT)
		for (i = 0; i < conf->c_nallow_subject; i++)
			cert_ok |= strcmp(mo->mo_subject,
			    conf->c_allow_subject[i]) == 0;
	if (cert_ok)
		*status = 200;
	else if (mo->mo_flags & AUTH_F_TOKEN)
		*status = tlsauth_token_ok(&b->b_tls, mo->mo_token) ? 200 : 401;
	else
		*status = (mo->mo_flags & AUTH_F_CERT) ? 403 : 401;
	bc->bc_authorized = *status == 200;
	audit_op(b, bc->bc_listener, bc->bc_peer, *status == 200 ?
	    (cert_ok ? "owner.auth.cert" : "owner.auth.token") : "owner.auth",
	    "", *status, NULL);
	return 0;
}
