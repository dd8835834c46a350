/* SPDX-License-Identifier: ISC */
/*
 * broker/config.c on a file holding the input.  A refused file must say
 * why; an accepted one must hold only what the broker can use as is: the
 * instance seeds go to the store without another check, so each must
 * pass the same valid_instance() the broker applies to the owner API.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker/config.h"
#include "privsep/validate.h"
#include "tests/fuzz/common.h"

static char	fc_path[PATH_MAX];

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir = fuzz_tmpdir("config");

	(void)argc;
	(void)argv;
	(void)snprintf(fc_path, sizeof(fc_path), "%s/sealmd.conf", dir);
	return 0;
}

static void
fc_check(const struct config *c)
{
	size_t	i;

	FUZZ_CHECK(c->c_nlisten <= CONF_LISTEN_MAX, "%zu listeners",
	    c->c_nlisten);
	for (i = 0; i < c->c_nlisten; i++)
		FUZZ_CHECK(c->c_listen[i].cl_ident == IDENT_PROXY ||
		    c->c_listen[i].cl_ident == IDENT_DIRECT,
		    "listener %zu: identity %d", i, c->c_listen[i].cl_ident);
	FUZZ_CHECK(c->c_max_conns >= 1 && c->c_max_conns <= 65536,
	    "max_conns %u", c->c_max_conns);
	FUZZ_CHECK(c->c_header_timeout_ms > 0 && c->c_body_timeout_ms > 0 &&
	    c->c_idle_timeout_ms > 0, "a zero timeout");
	FUZZ_CHECK(c->c_key_dir[0] == '/' && c->c_store_path[0] == '/' &&
	    c->c_state_dir[0] == '/', "a relative path");
	FUZZ_CHECK(c->c_nallow_uid <= CONF_ALLOW_MAX &&
	    c->c_nallow_group <= CONF_ALLOW_MAX, "too many allow entries");
	FUZZ_CHECK(c->c_ninstances <= CONF_INSTANCES_MAX, "%zu instances",
	    c->c_ninstances);
	for (i = 0; i < c->c_ninstances; i++)
		FUZZ_CHECK(valid_instance(&c->c_instances[i]),
		    "seed %zu (%.36s) fails valid_instance", i,
		    c->c_instances[i].mn_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config	c;
	char			err[CONF_ERR_MAX];
	size_t			plen = strlen(fc_path);

	fuzz_write_file(fc_path, data, size);
	memset(err, 'x', sizeof(err));
	if (config_load(fc_path, &c, err, sizeof(err)) == 0) {
		FUZZ_CHECK(err[0] == '\0', "accepted with an error");
		fc_check(&c);
	} else {
		/* "FILE:LINE: why" or "FILE: why", always terminated. */
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL,
		    "unterminated error");
		FUZZ_CHECK(strncmp(err, fc_path, plen) == 0 &&
		    err[plen] == ':' && strlen(err) > plen + 2,
		    "refused without a reason: \"%s\"", err);
		FUZZ_CHECK(c.c_instances == NULL && c.c_ninstances == 0,
		    "refused, but seeds left allocated");
	}
	config_free(&c);
	return 0;
}
