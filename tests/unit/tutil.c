/* SPDX-License-Identifier: ISC */
/*
 * What unit tests share that is no part of sealmd (tutil.h): linked into
 * every unit test binary, never into sealmd.
 */
#include <sys/stat.h>

#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/tutil.h"

char		tutil_conf_path[PATH_MAX];
static char	tutil_conf_dir[] = "/tmp/sealmd-test-config-XXXXXX";

static int
tutil_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* dir and all below it, links not followed; what is gone already is. */
void
tutil_rm_tree(const char *dir)
{
	(void)nftw(dir, tutil_rm, 8, FTW_DEPTH | FTW_PHYS);
}

void
tutil_conf_setup(void)
{
	cr_assert_not_null(mkdtemp(tutil_conf_dir), "mkdtemp: %s",
	    strerror(errno));
	(void)snprintf(tutil_conf_path, sizeof(tutil_conf_path),
	    "%s/sealmd.conf", tutil_conf_dir);
}

void
tutil_conf_teardown(void)
{
	tutil_rm_tree(tutil_conf_dir);
}

/* len bytes: a test may write a NUL into the file. */
void
tutil_conf_write(const char *text, size_t len)
{
	FILE	*fp;

	cr_assert_not_null(fp = fopen(tutil_conf_path, "w"));
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
}

/* err must be "PATH:LINE: ..." (line 0: "PATH: ...") and hold what. */
void
tutil_conf_err(const char *err, int line, const char *what)
{
	char	want[PATH_MAX + 32];

	if (line > 0)
		(void)snprintf(want, sizeof(want), "%s:%d: ", tutil_conf_path,
		    line);
	else
		(void)snprintf(want, sizeof(want), "%s: ", tutil_conf_path);
	cr_expect(strncmp(err, want, strlen(want)) == 0,
	    "error \"%s\" does not start with \"%s\"", err, want);
	cr_expect_not_null(strstr(err, what), "error \"%s\" lacks \"%s\"",
	    err, what);
}
