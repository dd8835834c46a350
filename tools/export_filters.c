/* SPDX-License-Identifier: ISC */
/*
 * seccomp-export: write the three filters as readable PFC, for review as
 * diffs (make seccomp-export; a unit test fails when the committed copies
 * are stale).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <seccomp.h>

#include "privsep/log.h"
#include "broker/sandbox.h"
#include "launcher/launcher.h"
#include "worker/sandbox.h"

static void
export_one(scmp_filter_ctx ctx, const char *path)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		fatal("%s", path);
	if (seccomp_export_pfc(ctx, fd) != 0)
		fatalx("seccomp_export_pfc %s", path);
	if (close(fd) == -1)
		fatal("close %s", path);
	seccomp_release(ctx);
}

int
main(int argc, char *argv[])
{
	if (argc != 4) {
		fprintf(stderr, "usage: seccomp-export WORKER.pfc BROKER.pfc "
		    "LAUNCHER.pfc\n");
		return 2;
	}
	export_one(sandbox_worker_filter(), argv[1]);
	export_one(sandbox_broker_filter(0), argv[2]);
	export_one(sandbox_launcher_filter(), argv[3]);
	return 0;
}
