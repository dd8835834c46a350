/* SPDX-License-Identifier: ISC */
/*
 * broker/config.c, TLS keys: tls, tls_cert and tls_key in guest sections,
 * and the owner TLS listener, which never allows anonymous callers.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "broker/config.h"
#include "tests/unit/tutil.h"

TestSuite(config_tls, .init = tutil_conf_setup, .fini = tutil_conf_teardown);

static int
load(const char *text, struct config *c, char *err, size_t errlen)
{
	tutil_conf_write(text, strlen(text));
	return config_load(tutil_conf_path, c, err, errlen);
}

static void
refused(const char *text, int line, const char *what)
{
	struct config	c;
	char		err[CONF_ERR_MAX];

	cr_assert_eq(load(text, &c, err, sizeof(err)), -1, "accepted:\n%s",
	    text);
	tutil_conf_err(err, line, what);
}

#define GUEST_TLS \
	"[guest]\nlisten = 127.0.0.1:80\nidentity = direct\n" \
	"[guest tls]\nlisten = 127.0.0.1:443\nlisten = [::1]:443\n" \
	"identity = direct\ntls = yes\ntls_cert = /etc/sealmd/tls.crt\n" \
	"tls_key = tls-key\n"

Test(config_tls, guest_sections)
{
	struct config	c;
	char		err[CONF_ERR_MAX];

	cr_assert_eq(load(GUEST_TLS, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.c_ntls, 1);
	cr_expect_eq(c.c_listen[0].cl_tls, 0);
	cr_expect_eq(c.c_listen[1].cl_tls, 1);
	cr_expect_eq(c.c_listen[2].cl_tls, 1);
	cr_expect_str_eq(c.c_tls[0].ct_cert, "/etc/sealmd/tls.crt");
	cr_expect_str_eq(c.c_tls[0].ct_key, "tls-key");	/* a credential */
	cr_expect_eq(c.c_tls[0].ct_ident, IDENT_DIRECT);
	cr_expect_eq(c.c_tls[0].ct_owner, 0);
	cr_expect_eq(c.c_owner_tls, 0);
	config_free(&c);
}

Test(config_tls, guest_mistakes)
{
	refused("[guest]\nlisten = 127.0.0.1:80\nidentity = direct\n"
	    "tls = yes\ntls_cert = /a\n", 1, "TLS needs tls_cert and tls_key");
	refused("[guest]\nlisten = 127.0.0.1:80\nidentity = direct\n"
	    "tls_cert = /a\ntls_key = /b\n", 1, "need tls = yes");
	refused("[guest]\ntls = maybe\n", 2, "tls: not yes or no");
	refused("[guest]\ntls_key = ../key\n", 2,
	    "not an absolute path or a credential name");
}

#define OWNER(lines) \
	"[owner]\nsocket = /run/sealmd/owner.sock\n" lines

Test(config_tls, owner_listener)
{
	struct config	c;
	char		err[CONF_ERR_MAX];

	cr_assert_eq(load(OWNER("listen_tls = 127.0.0.1:8776\n"
	    "tls_cert = /c\ntls_key = /k\ntls_client_ca = /ca\n"
	    "allow_subject = /O=Example/CN=ops\n"
	    "allow_subject = /CN=backup\n"
	    "token_hashes_file = /etc/sealmd/tokens\n"), &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.c_owner_listen, 1);
	cr_expect_str_eq(c.c_owner_tcp.cl_port, "8776");
	cr_expect_eq(c.c_owner_tls, 1);
	cr_expect_eq(c.c_tls[0].ct_owner, 1);
	cr_expect_str_eq(c.c_tls[0].ct_ca, "/ca");
	cr_expect_eq(c.c_nallow_subject, 2);
	cr_expect_str_eq(c.c_allow_subject[1], "/CN=backup");
	cr_expect_str_eq(c.c_token_file, "/etc/sealmd/tokens");
	config_free(&c);
}

Test(config_tls, owner_never_anonymous)
{
	refused(OWNER("listen_tls = 127.0.0.1:8776\ntls_cert = /c\n"
	    "tls_key = /k\n"), 1, "no anonymous access");
	refused(OWNER("listen_tls = 127.0.0.1:8776\ntls_cert = /c\n"
	    "tls_key = /k\ntls_client_ca = /ca\n"), 1,
	    "tls_client_ca and allow_subject go together");
	refused(OWNER("listen_tls = 127.0.0.1:8776\n"
	    "token_hashes_file = /t\n"), 1, "TLS needs tls_cert and tls_key");
	refused(OWNER("allow_subject = CN=x\n"), 3,
	    "not a subject in the form /CN=name");
}

/* One reading per subject: what a value holds is escaped, or refused. */
Test(config_tls, subject_syntax)
{
	struct config	c;
	char		err[CONF_ERR_MAX];

	cr_assert_eq(load(OWNER("listen_tls = 127.0.0.1:8776\n"
	    "tls_cert = /c\ntls_key = /k\ntls_client_ca = /ca\n"
	    "allow_subject = /O=Ex\\/CN\\=ops/CN=a\\+b+UID=7/1.2.3=x\\\\\n"),
	    &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.c_allow_subject[0],
	    "/O=Ex\\/CN\\=ops/CN=a\\+b+UID=7/1.2.3=x\\\\");
	config_free(&c);
	refused(OWNER("allow_subject = /CN=admin=x\n"), 3,
	    "an '=' in a value must be written \\=");
	refused(OWNER("allow_subject = /CN=\\xC3\\xA9\n"), 3,
	    "only \\\\, \\/, \\+ and \\= are escapes");
	refused(OWNER("allow_subject = /CN=x\\\n"), 3,
	    "only \\\\, \\/, \\+ and \\= are escapes");
	refused(OWNER("allow_subject = //CN=x\n"), 3,
	    "an attribute is not KEY=VALUE");
	refused(OWNER("allow_subject = /CN=x/\n"), 3,
	    "an attribute is not KEY=VALUE");
	refused(OWNER("allow_subject = /C N=x\n"), 3,
	    "an attribute is not KEY=VALUE");
}

Test(config_tls, at_most_eight_certificates)
{
	char	text[4096];
	size_t	off = 0;
	int	i;

	for (i = 0; i < TLS_CTX_MAX + 1; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "[guest g%d]\ntls = yes\ntls_cert = /c\ntls_key = /k\n",
		    i);
	refused(text, 1 + 4 * TLS_CTX_MAX, "more than 8 TLS certificates");
}
