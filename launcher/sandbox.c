/* SPDX-License-Identifier: ISC */
/*
 * Launcher confinement: the capabilities a worker needs to confine itself
 * after exec, and a filter that also covers that worker until its own,
 * stricter filter stacks on top.
 */
#include <sys/prctl.h>

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "privsep/log.h"
#include "broker/sandbox.h"
#include "launcher.h"

/* What glibc's fork passes clone (sysdeps/unix/sysv/linux/arch-fork.h). */
#define SANDBOX_FORK_FLAGS	(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | \
	SIGCHLD)

/*
 * The launcher's filter, inherited by every worker it starts: so it also
 * allows a new worker's dynamic loader (executable mappings of its
 * libraries), its confinement steps and everything the worker's own
 * filter allows.  No ptrace, mount, module, kexec, bpf, reboot,
 * namespace, socket, listening or store calls; clone only as fork does.
 * exec cannot be tied to a path by seccomp (the path is in writable
 * memory); the launcher's code execs one path, fixed at start.
 */
scmp_filter_ctx
sandbox_launcher_filter(void)
{
	static const int	 allow[] = {
		/* the broker's socket, and waiting for the worker */
		SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read),
		SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close),
		SCMP_SYS(recvmsg),
		SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg), SCMP_SYS(fcntl),
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
		SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
		SCMP_SYS(getegid), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(getrandom), SCMP_SYS(futex), SCMP_SYS(restart_syscall),
		SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
		/* starting, killing and reaping a worker */
		SCMP_SYS(socketpair), SCMP_SYS(pipe2), SCMP_SYS(wait4),
		SCMP_SYS(kill), SCMP_SYS(setsid), SCMP_SYS(dup2),
		SCMP_SYS(dup3), SCMP_SYS(close_range), SCMP_SYS(execve),
		/* the new worker: loader, libraries' setup */
		SCMP_SYS(openat), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
		SCMP_SYS(fstatfs), SCMP_SYS(lseek), SCMP_SYS(pread64),
		SCMP_SYS(access), SCMP_SYS(readlink), SCMP_SYS(getcwd),
		SCMP_SYS(getdents64), SCMP_SYS(arch_prctl),
		SCMP_SYS(set_tid_address), SCMP_SYS(set_robust_list),
		SCMP_SYS(rseq), SCMP_SYS(prlimit64), SCMP_SYS(sysinfo),
		/* the new worker: its confinement */
		SCMP_SYS(setrlimit), SCMP_SYS(prctl), SCMP_SYS(capget),
		SCMP_SYS(capset), SCMP_SYS(chroot), SCMP_SYS(chdir),
		SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups),
		SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(seccomp),
		/* the worker serving: what its own filter allows */
		SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
		SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
		SCMP_SYS(recvmmsg), SCMP_SYS(sendto), SCMP_SYS(shutdown),
#ifdef SEALMD_SANITIZE
		/* make check-asan only: the ASan runtime's setup and exit. */
		SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield),
		SCMP_SYS(open), SCMP_SYS(sched_getaffinity),
		/* and a worker's report, whose filter refuses it (ENOTTY) */
		SCMP_SYS(ioctl),
#endif
	};
	scmp_filter_ctx	ctx;
	size_t		i;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("seccomp_init");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0)
		fatalx("seccomp_attr_set");
	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0) != 0)
			fatalx("seccomp rule %d", allow[i]);
	sandbox_clone_rules(ctx, SANDBOX_FORK_FLAGS);
#ifdef SEALMD_TSAN
	/*
	 * make check-tsan only: TSan starts a thread in every fork child,
	 * the worker before its exec, and that thread sleeps; a new
	 * worker's TSan makes and unlinks a file in /tmp.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_EQ, SANDBOX_THREAD_FLAGS)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlink), 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(nanosleep),
	    0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clock_nanosleep),
	    0) != 0)
		fatalx("seccomp rules for TSan");
#endif
	return ctx;
}

/*
 * Keep setuid, setgid and sys_chroot, which the worker needs to drop to
 * its uid in its chroot; setpcap, for it to empty its bounding set; kill,
 * to kill it once it runs as that other uid.  Not as root, exec keeps
 * capabilities only through the ambient set: the worker's four go there.
 */
void
sandbox_launcher(int caps)
{
	scmp_filter_ctx	ctx;

	if (!caps)
		sandbox_caps_none();
	else {
		capng_clear(CAPNG_SELECT_ALL);
		if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_BOUNDING_SET, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT,
		    CAP_SETPCAP, CAP_KILL, -1) != 0 ||
		    (geteuid() != 0 && capng_updatev(CAPNG_ADD,
		    CAPNG_INHERITABLE | CAPNG_AMBIENT, CAP_SETUID, CAP_SETGID,
		    CAP_SYS_CHROOT, CAP_SETPCAP, -1) != 0) ||
		    capng_apply(CAPNG_SELECT_ALL) != 0)
			fatalx("cannot drop the launcher's capabilities");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
#ifdef SEALMD_VALGRIND
	/* make check-valgrind only: as for the broker's filter. */
	(void)ctx;
	log_warnx("valgrind test build: the launcher's seccomp filter is "
	    "NOT loaded");
	return;
#endif
	ctx = sandbox_launcher_filter();
	if (seccomp_load(ctx) != 0)
		fatalx("seccomp_load (launcher)");
	seccomp_release(ctx);
	log_debug("launcher confined: %s, seccomp allowlist loaded",
	    caps ? "capabilities setuid,setgid,sys_chroot,setpcap,kill" :
	    "no capabilities (not root)");
}
