/* SPDX-License-Identifier: ISC */
/*
 * Shared by the fuzz harnesses.  The log functions replace privsep/log.c:
 * each line is formatted as the daemon would, then dropped, so that
 * millions of audit and warning lines do not drown libFuzzer's output.
 * fatal() on fuzzed input is a finding: it aborts, and libFuzzer keeps
 * the input.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/log.h"
#include "tests/fuzz/common.h"

static char	fuzz_dir[PATH_MAX];

static void	fuzz_log_drop(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));
static void	fuzz_log_die(const char *, va_list)
		    __attribute__((format(printf, 1, 0), noreturn));
static int	fuzz_rm(const char *, const struct stat *, int,
		    struct FTW *);
static void	fuzz_rmdir(void);

void
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)fprintf(stderr, "%s:%d: invariant violated: ", file, line);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* One private directory per process, under $TMPDIR or /tmp. */
const char *
fuzz_tmpdir(const char *tag)
{
	const char	*base = getenv("TMPDIR");

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	if (base == NULL || base[0] != '/')
		base = "/tmp";
	if ((size_t)snprintf(fuzz_dir, sizeof(fuzz_dir),
	    "%s/sealmd-fuzz-%s-XXXXXX", base, tag) >= sizeof(fuzz_dir) ||
	    mkdtemp(fuzz_dir) == NULL)
		fuzz_fail(__FILE__, __LINE__, "mkdtemp under %s", base);
	if (atexit(fuzz_rmdir) != 0)
		fuzz_fail(__FILE__, __LINE__, "atexit");
	return fuzz_dir;
}

static int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static void
fuzz_rmdir(void)
{
	(void)nftw(fuzz_dir, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* Replace the file at path with exactly these bytes, mode 0600. */
void
fuzz_write_file(const char *path, const void *data, size_t len)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 ||
	    (len > 0 && write(fd, data, len) != (ssize_t)len) ||
	    close(fd) == -1)
		fuzz_fail(__FILE__, __LINE__, "cannot write %s", path);
}

static void
fuzz_log_drop(const char *fmt, va_list ap)
{
	char	line[2048];

	(void)vsnprintf(line, sizeof(line), fmt, ap);
}

static void
fuzz_log_die(const char *fmt, va_list ap)
{
	(void)fprintf(stderr, "fatal: ");
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
	abort();
}

#define FUZZ_LOG(how) do {	\
	va_list	ap;		\
	va_start(ap, fmt);	\
	how(fmt, ap);		\
	va_end(ap);		\
} while (0)

void
log_init(const char *procname, int debug)
{
	(void)procname;
	(void)debug;
}

void
log_procname(const char *procname)
{
	(void)procname;
}

void
log_warn(const char *fmt, ...)
{
	FUZZ_LOG(fuzz_log_drop);
}

void
log_warnx(const char *fmt, ...)
{
	FUZZ_LOG(fuzz_log_drop);
}

void
log_info(const char *fmt, ...)
{
	FUZZ_LOG(fuzz_log_drop);
}

void
log_debug(const char *fmt, ...)
{
	FUZZ_LOG(fuzz_log_drop);
}

/* Each part read whole, as log.c would, then dropped. */
void
log_audit(const char *const *part, size_t nparts)
{
	char	line[2048];
	size_t	i;

	for (i = 0; i < nparts; i++)
		(void)snprintf(line, sizeof(line), "%s", part[i]);
}

/* Audit lines are dropped at once: nothing waits to be written. */
void
log_flush(void)
{
}

/* A worker's relayed line (wlog.c): dropped too. */
void
log_relay(int pri, const char *procname, const char *msg)
{
	(void)pri;
	(void)procname;
	(void)msg;
}

void
fatal(const char *fmt, ...)
{
	FUZZ_LOG(fuzz_log_die);
}

void
fatalx(const char *fmt, ...)
{
	FUZZ_LOG(fuzz_log_die);
}
