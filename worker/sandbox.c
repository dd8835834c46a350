/* SPDX-License-Identifier: ISC */
/*
 * Worker confinement, in the order of OpenSSH's privsep_child_demote and
 * ssh_sandbox_child: close stray fds; chroot to an empty directory; drop
 * to the worker uid/gid with no capabilities, bounding or ambient set;
 * rlimits; no core and no new privileges; then a seccomp allowlist whose
 * default and bad-architecture actions kill the whole process.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "privsep/log.h"
#include "sandbox.h"

#define SANDBOX_FD_SLACK	16	/* channel, epoll, stdio */
#define SANDBOX_DATA_MAX	(512UL * 1024 * 1024)

/*
 * Keep stdio, the channel, the sign channel and the event loop's own fd;
 * close the rest.
 */
static void
sandbox_fds(int keep)
{
	int	fd;

	/* stdin and stdout are never used; stderr carries the log. */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("open /dev/null");
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1)
		fatal("dup2");
	if (fd > CHAN_SIGN_FD && fd != keep)
		close(fd);
	if (keep <= CHAN_SIGN_FD)
		fatalx("bad fd to keep");
	if ((keep > CHAN_SIGN_FD + 1 &&
	    close_range(CHAN_SIGN_FD + 1, (unsigned)keep - 1, 0) == -1) ||
	    close_range((unsigned)keep + 1, ~0U, 0) == -1)
		fatal("close_range");
}

void
sandbox_worker_drop(const struct msg_init *mi)
{
	if (chroot(mi->mi_chroot) == -1 || chdir("/") == -1)
		fatal("chroot %s", mi->mi_chroot);
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_change_id((int)mi->mi_uid, (int)mi->mi_gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
	    CAPNG_CLEAR_AMBIENT) != 0)
		fatalx("cannot drop to uid %u gid %u", mi->mi_uid, mi->mi_gid);
	/* Prove the drop cannot be undone (OpenSSH permanently_set_uid). */
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    getuid() != mi->mi_uid || geteuid() != mi->mi_uid ||
	    getgid() != mi->mi_gid || getegid() != mi->mi_gid)
		fatalx("privileges were not dropped");
	if (capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
		fatalx("capabilities left after the drop");
}

static void
sandbox_limits(const struct msg_init *mi)
{
	struct rlimit	zero = { 0, 0 }, rl;

	rl.rlim_cur = rl.rlim_max = (rlim_t)mi->mi_max_conns +
	    SANDBOX_FD_SLACK;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit(RLIMIT_NOFILE)");
	if (setrlimit(RLIMIT_NPROC, &zero) == -1 ||
	    setrlimit(RLIMIT_FSIZE, &zero) == -1 ||
	    setrlimit(RLIMIT_CORE, &zero) == -1)
		fatal("setrlimit");
#ifndef SEALMD_SANITIZE
	/* ASan reserves terabytes of shadow; only release builds cap it. */
	rl.rlim_cur = rl.rlim_max = SANDBOX_DATA_MAX;
	if (setrlimit(RLIMIT_DATA, &rl) == -1)
		fatal("setrlimit(RLIMIT_DATA)");
#endif
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl");
}

#define ALLOW(ctx, name) do {						\
	if (seccomp_rule_add((ctx), SCMP_ACT_ALLOW, SCMP_SYS(name), 0))	\
		fatalx("seccomp rule %s", #name);			\
} while (0)

/*
 * What the event loop, malloc, jansson, libsodium's hashing and TLS
 * handshakes need, and nothing else: no open, no socket, no exec, no fork
 * or thread, no executable memory.  Everything that reads a file
 * (jansson's hash seed, libsodium's and OpenSSL's setup) runs before
 * this, so an open is an attack and kills.  OpenSSL draws randomness with
 * getrandom; a signature waits for the broker in poll.
 */
scmp_filter_ctx
sandbox_worker_filter(void)
{
	scmp_filter_ctx	ctx;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("seccomp_init");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0)
		fatalx("seccomp_attr_set");
	ALLOW(ctx, read);
	ALLOW(ctx, write);
	ALLOW(ctx, close);
	ALLOW(ctx, recvmsg);
	ALLOW(ctx, recvmmsg);		/* the channel, read ahead */
	ALLOW(ctx, sendmsg);
	ALLOW(ctx, sendmmsg);		/* a queued channel's flush */
	ALLOW(ctx, sendto);
	ALLOW(ctx, shutdown);		/* lingering close */
	ALLOW(ctx, epoll_wait);
	ALLOW(ctx, epoll_pwait);
	ALLOW(ctx, epoll_ctl);
	ALLOW(ctx, clock_gettime);
	ALLOW(ctx, gettimeofday);
	ALLOW(ctx, brk);
	ALLOW(ctx, munmap);
	ALLOW(ctx, mremap);
	ALLOW(ctx, madvise);
	ALLOW(ctx, rt_sigreturn);
	ALLOW(ctx, exit);
	ALLOW(ctx, exit_group);
	ALLOW(ctx, getpid);
	ALLOW(ctx, getrandom);
	ALLOW(ctx, poll);
	ALLOW(ctx, restart_syscall);	/* resumed after SIGSTOP/SIGCONT */
#ifdef SEALMD_SANITIZE
	/* make check-asan only: the ASan runtime's exit path. */
	ALLOW(ctx, sigaltstack);
	ALLOW(ctx, sched_yield);
	ALLOW(ctx, futex);		/* and its report's locks */
	/*
	 * Its report reads the binary's name and /proc/self/maps with the
	 * raw open(2), which glibc never uses (it opens with openat, which
	 * still kills), asks whether stderr is a terminal, and UBSan makes
	 * a pipe to probe memory: refused, not killed, so that the report
	 * reaches the log, unsymbolized.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(readlink),
	    0) != 0 || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT),
	    SCMP_SYS(open), 0) != 0 || seccomp_rule_add(ctx,
	    SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EMFILE), SCMP_SYS(pipe2),
	    0) != 0)
		fatalx("seccomp rules for the ASan report");
#endif
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	    SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		fatalx("seccomp memory rules");
	return ctx;
}

void
sandbox_worker(const struct msg_init *mi, int keep)
{
	scmp_filter_ctx	ctx;

	sandbox_fds(keep);
	if (mi->mi_drop)
		sandbox_worker_drop(mi);
	else
		log_info("not running as root: skipped chroot and the "
		    "uid/gid and capability drop; applied rlimits, "
		    "no_new_privs and seccomp");
	sandbox_limits(mi);
	ctx = sandbox_worker_filter();
	if (seccomp_load(ctx) != 0)
		fatalx("seccomp_load");
	seccomp_release(ctx);
}
