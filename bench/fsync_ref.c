/* SPDX-License-Identifier: ISC */
/*
 * fsync_ref: the durable-write reference of make bench.  One writer
 * overwrites a 1 KiB record in place and calls fdatasync after each write,
 * for SECONDS, in a file created in DIR (put it on the filesystem of
 * sealmd's state directory).  Prints one JSON line: writes, seconds,
 * writes per second and the p50/p99 of one write+fdatasync in microseconds.
 * Bounded: at most FSYNC_REF_MAX writes whatever the clock says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FSYNC_REF_REC	1024
#define FSYNC_REF_MAX	(1u << 22)	/* writes; far above any disk here */

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	char		 path[4096];
	unsigned char	 rec[FSYNC_REF_REC];
	uint64_t	*lat, start, end, t0, t1;
	double		 secs;
	size_t		 n = 0;
	int		 fd, rc = 1;

	if (argc != 3 || (secs = strtod(argv[2], NULL)) <= 0 || secs > 600) {
		fprintf(stderr, "usage: fsync_ref DIR SECONDS\n");
		return 2;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/fsync_ref.%ld", argv[1],
	    (long)getpid()) >= sizeof(path)) {
		fprintf(stderr, "fsync_ref: path too long\n");
		return 2;
	}
	if ((lat = calloc(FSYNC_REF_MAX, sizeof(*lat))) == NULL) {
		perror("calloc");
		return 1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(stderr, "fsync_ref: %s: %s\n", path, strerror(errno));
		free(lat);
		return 1;
	}
	memset(rec, 'r', sizeof(rec));
	/* The block exists and is on disk before the clock starts. */
	if (pwrite(fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec) ||
	    fsync(fd) == -1) {
		perror("fsync_ref: first write");
		goto fail;
	}
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	for (t0 = start; t0 < end && n < FSYNC_REF_MAX; t0 = t1) {
		memcpy(rec, &n, sizeof(n));
		if (pwrite(fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec) ||
		    fdatasync(fd) == -1) {
			perror("fsync_ref: write+fdatasync");
			goto fail;
		}
		t1 = now_ns();
		lat[n++] = t1 - t0;
	}
	secs = (double)(t0 - start) / 1e9;
	if (n == 0) {
		fprintf(stderr, "fsync_ref: no write finished\n");
		goto fail;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("{\"writes\": %zu, \"seconds\": %.3f, \"writes_per_s\": %.1f, "
	    "\"p50_us\": %.1f, \"p99_us\": %.1f, \"record_bytes\": %d}\n",
	    n, secs, (double)n / secs, (double)lat[n / 2] / 1e3,
	    (double)lat[(n * 99) / 100] / 1e3, FSYNC_REF_REC);
	rc = 0;
 fail:
	close(fd);
	unlink(path);
	free(lat);
	return rc;
}
