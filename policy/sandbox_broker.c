/*
 * Broker confinement: after the first worker is up, keep only the
 * capabilities needed to start another, then an allowlist filter.
 */
#include <sys/prctl.h>

#include <stdint.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "privsep/log.h"
#include "sandbox.h"

/*
 * The broker's filter.  It is inherited by every worker it starts, so it
 * must also cover a new worker's dynamic loader (executable mappings) and
 * its confinement steps; the worker's own, stricter filter then stacks on
 * top.  Still an allowlist: no ptrace, mount, module, kexec, bpf, reboot
 * or namespace calls, and exec only of the worker path (the pointer the
 * broker passes, which is all seccomp can compare).
 */
scmp_filter_ctx
sandbox_broker_filter(const char *worker_path, int net)
{
	/* libpq (re)connecting to PostgreSQL, by name or by address. */
	static const int	 netsys[] = {
		SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(recvfrom),
	};
	static const int	 allow[] = {
		/* event loop, channel, listeners */
		SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(write),
		SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(accept4),
		SCMP_SYS(shutdown),
		SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg), SCMP_SYS(sendmsg),
		SCMP_SYS(sendmmsg),
		SCMP_SYS(sendto),
		SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
		SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(fcntl),
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
		SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
		SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
		SCMP_SYS(getegid), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(unlink), SCMP_SYS(getrandom), SCMP_SYS(futex),
		/* a timed poll or futex resumed after SIGSTOP/SIGCONT */
		SCMP_SYS(restart_syscall),
		/* memory, including sodium_malloc's guard pages */
		SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
		SCMP_SYS(mlock), SCMP_SYS(munlock),
		/* SQLite */
		SCMP_SYS(openat), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
		SCMP_SYS(fstatfs), SCMP_SYS(lseek), SCMP_SYS(pread64),
		SCMP_SYS(pwrite64), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
		SCMP_SYS(ftruncate), SCMP_SYS(fchown), SCMP_SYS(fchmod),
		SCMP_SYS(unlinkat), SCMP_SYS(access), SCMP_SYS(readlink),
		SCMP_SYS(getcwd), SCMP_SYS(getdents64),
		/* starting and stopping a worker */
		SCMP_SYS(socketpair), SCMP_SYS(pipe2), SCMP_SYS(clone),
		SCMP_SYS(wait4),
		SCMP_SYS(kill), SCMP_SYS(setsid), SCMP_SYS(dup2),
		SCMP_SYS(dup3), SCMP_SYS(close_range),
		/* a new worker: loader, then its own confinement */
		SCMP_SYS(arch_prctl), SCMP_SYS(set_tid_address),
		SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(prlimit64),
		SCMP_SYS(setrlimit), SCMP_SYS(prctl), SCMP_SYS(capget),
		SCMP_SYS(capset), SCMP_SYS(chroot), SCMP_SYS(chdir),
		SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups),
		SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(seccomp),
		SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
		SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
		/* libssl's setup sorts with qsort, which asks for RAM size */
		SCMP_SYS(sysinfo),
#ifdef SEALMD_SANITIZE
		/* make check-asan only: the ASan runtime's exit path. */
		SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield),
		SCMP_SYS(open),	/* at start of a new worker */
		SCMP_SYS(sched_getaffinity),
#endif
	};
	scmp_filter_ctx	ctx;
	size_t		i;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("seccomp_init");
	/* The store writer thread runs already: confine every thread. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
		fatalx("seccomp_attr_set");
	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0) != 0)
			fatalx("seccomp rule %d", allow[i]);
	for (i = 0; net && i < sizeof(netsys) / sizeof(netsys[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, netsys[i], 0) != 0)
			fatalx("seccomp rule %d", netsys[i]);
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)(uintptr_t)worker_path)) != 0)
		fatalx("seccomp rule execve");
	return ctx;
}

/*
 * After the first worker has started, the broker keeps only the
 * capabilities that starting the next one needs, and loads its filter.
 */
void
sandbox_broker(const char *worker_path, int root, int net)
{
	scmp_filter_ctx	ctx;

	if (root) {
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_BOUNDING_SET, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT,
		    CAP_SETPCAP, CAP_KILL, -1) != 0 ||
		    capng_apply(CAPNG_SELECT_BOTH) != 0)
			fatalx("cannot drop the broker's capabilities");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
#ifdef SEALMD_VALGRIND
	/*
	 * make check-valgrind only: valgrind cannot run the seccomp syscall,
	 * so this test build leaves the broker unfiltered.  The worker, not
	 * run under valgrind, keeps its own filter.
	 */
	(void)ctx;
	(void)worker_path;
	log_warnx("valgrind test build: the broker's seccomp filter is NOT "
	    "loaded");
	return;
#endif
	ctx = sandbox_broker_filter(worker_path, net);
	if (seccomp_load(ctx) != 0)
		fatalx("seccomp_load (broker)");
	seccomp_release(ctx);
	log_info("broker confined: %s, seccomp allowlist loaded",
	    root ? "capabilities setuid,setgid,sys_chroot,setpcap,kill" :
	    "no capabilities (not root)");
}
