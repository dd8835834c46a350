/* SPDX-License-Identifier: ISC */
/*
 * Broker confinement: no capabilities at all, then an allowlist filter
 * with no exec and no fork.  Workers are the launcher's
 * (launcher/sandbox.c).
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <errno.h>
#include <sched.h>
#include <stdint.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "privsep/log.h"
#include "sandbox.h"

/*
 * clone with exactly these flags and nothing else.  clone3 passes its
 * flags in memory, where seccomp cannot look: it fails with ENOSYS, and
 * glibc falls back to clone.
 */
void
sandbox_clone_rules(scmp_filter_ctx ctx, scmp_datum_t flags)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_EQ, flags)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0) != 0)
		fatalx("seccomp clone rules");
}

/*
 * The broker's filter.  An allowlist: no exec, no fork, no ptrace, mount,
 * module, kexec, bpf, reboot or namespace calls, clone only for a thread.
 * Nothing the broker does after confinement needs more.
 */
scmp_filter_ctx
sandbox_broker_filter(int net)
{
	/* libpq (re)connecting to PostgreSQL, by name or by address. */
	static const int	 netsys[] = {
		SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(recvfrom),
	};
	static const int	 allow[] = {
		/* event loop, channels, listeners */
		SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read),
		SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close),
		SCMP_SYS(accept4),
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
		/* a new thread's start; clone itself is below */
		SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
		/* the launcher, reaped at exit */
		SCMP_SYS(wait4),
		/* libssl's setup sorts with qsort, which asks for RAM size */
		SCMP_SYS(sysinfo),
#ifdef SEALMD_SANITIZE
		/* make check-asan only: the ASan runtime's exit path. */
		SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield),
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
	sandbox_clone_rules(ctx, SANDBOX_THREAD_FLAGS);
	/*
	 * libcap reads the bounding set when it is loaded: a group lookup
	 * (owner allow_group) through libnss_systemd loads it.  Reading, and
	 * only reading: no other prctl, PR_SET_DUMPABLE above all.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_CAPBSET_READ)) != 0)
		fatalx("seccomp rule prctl");
	/* The interface a link-local guest came in on (listen.c). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, SIOCGIFNAME)) != 0)
		fatalx("seccomp rule ioctl");
	return ctx;
}

/*
 * Every capability goes, from every set.  The bounding set can be
 * emptied only with setpcap: not as root and without it (development),
 * it stays, and what it holds cannot come back under no_new_privs.
 */
void
sandbox_caps_none(void)
{
	int	set = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;

	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE &&
	    capng_have_capabilities(CAPNG_SELECT_AMBIENT) == CAPNG_NONE)
		return;
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
		set |= CAPNG_SELECT_BOUNDS;
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply((capng_select_t)set) != 0)
		fatalx("cannot drop every capability");
}

/* Before the broker serves anything: no capability, then the filter. */
void
sandbox_broker(int net)
{
	scmp_filter_ctx	ctx;

	sandbox_caps_none();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
#ifdef SEALMD_VALGRIND
	/*
	 * make check-valgrind only: valgrind cannot run the seccomp syscall,
	 * so this test build leaves the broker unfiltered.  The worker, not
	 * run under valgrind, keeps its own filter.
	 */
	(void)ctx;
	(void)net;
	log_warnx("valgrind test build: the broker's seccomp filter is NOT "
	    "loaded");
	return;
#endif
	ctx = sandbox_broker_filter(net);
	if (seccomp_load(ctx) != 0)
		fatalx("seccomp_load (broker)");
	seccomp_release(ctx);
	log_info("broker confined: no capabilities, seccomp allowlist "
	    "loaded");
}
