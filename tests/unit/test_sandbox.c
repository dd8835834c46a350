/* SPDX-License-Identifier: ISC */
/*
 * Confinement tests.  Every filter is loaded in a forked child that exits
 * or dies on its own: Criterion's process never carries a filter, since
 * its own reporting would then be killed.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>
#include <criterion/criterion.h>
#include <seccomp.h>

#include "broker/sandbox.h"
#include "launcher/launcher.h"
#include "worker/sandbox.h"

typedef void (*probe_fn)(void);

enum { F_WORKER, F_BROKER, F_LAUNCHER };

/* Run fn in a child under one filter; return the wait status. */
static int
run_confined(probe_fn fn, int which)
{
	scmp_filter_ctx	ctx;
	pid_t		pid;
	int		st;

	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		ctx = which == F_BROKER ? sandbox_broker_filter(0) :
		    which == F_LAUNCHER ? sandbox_launcher_filter() :
		    sandbox_worker_filter();
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
		    seccomp_load(ctx) != 0)
			_exit(99);
		fn();
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void
killed_in(int which, probe_fn fn, const char *what)
{
	int	st = run_confined(fn, which);

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s: want SIGSYS, got status 0x%x", what, st);
}

static void
killed_by_sigsys(probe_fn fn, const char *what)
{
	killed_in(F_WORKER, fn, what);
}

static void
runs_in(int which, probe_fn fn, const char *what)
{
	int	st = run_confined(fn, which);

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s: want exit 0, got status 0x%x", what, st);
}

static void
p_allowed(void)
{
	char	c = 'x';
	void	*p;

	if (write(STDERR_FILENO, &c, 0) != 0 || getpid() <= 0)
		_exit(1);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, 4096, PROT_READ) != 0)
		_exit(2);
	free(malloc(1 << 20));
}

static void
p_open(void)
{
	(void)syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
}

static void
p_socket(void)
{
	(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static void
p_execve(void)
{
	char	*argv[] = { (char *)(uintptr_t)"/bin/sh", NULL };

	(void)syscall(SYS_execve, "/bin/sh", argv, NULL);
}

static void
p_ptrace(void)
{
	(void)syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
}

static void *
p_thread_main(void *arg)
{
	return arg;
}

static void
p_thread(void)
{
	pthread_t	t;

	(void)pthread_create(&t, NULL, p_thread_main, NULL);
}

static void
p_fork(void)
{
	(void)syscall(SYS_fork);
}

/* A thread that runs and is joined: glibc's clone3, then clone. */
static void
p_thread_runs(void)
{
	static int	 mark;
	pthread_t	 t;
	void		*r = NULL;

	if (pthread_create(&t, NULL, p_thread_main, &mark) != 0 ||
	    pthread_join(t, &r) != 0 || r != &mark)
		_exit(1);
}

/* glibc's fork, which the launcher runs; the child exits at once. */
static void
p_fork_runs(void)
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) == -1)
		_exit(1);
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		_exit(2);
}

/* A dynamic executable starts and runs under the launcher's filter. */
static void
p_exec_runs(void)
{
	char	*argv[] = { (char *)(uintptr_t)"true", NULL };
	char	*envp[] = { NULL };
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == -1)
		_exit(1);
	if (pid == 0) {
		execve("/bin/true", argv, envp);
		_exit(3);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		_exit(2);
}

/* The exact path the broker would exec, by the very pointer. */
static void
p_execve_same(void)
{
	static const char	 path[] = "/bin/true";
	char			*argv[] = { (char *)(uintptr_t)"true", NULL };

	(void)syscall(SYS_execve, path, argv, NULL);
}

static void
p_execveat(void)
{
	char	*argv[] = { (char *)(uintptr_t)"true", NULL };

	(void)syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, NULL, 0);
}

/* A new user namespace, with and without the thread flags around it. */
static void
p_clone_newuser(void)
{
	(void)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL,
	    0);
}

static void
p_clone_thread_newns(void)
{
	(void)syscall(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES |
	    CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SETTLS |
	    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_NEWNS, NULL,
	    NULL, NULL, 0);
}

/* clone3 cannot be checked: it must fail, not run. */
static void
p_clone3_enosys(void)
{
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		_exit(1);
}

/* libcap's load-time read of the bounding set, then a write. */
static void
p_capbset_read(void)
{
	if (prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0) == -1)
		_exit(1);
}

static void
p_set_dumpable(void)
{
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void
p_socket_unix(void)
{
	(void)syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}

static void
p_mprotect_exec(void)
{
	void	*p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)syscall(SYS_mprotect, p, 4096, PROT_READ | PROT_EXEC);
}

static void
p_mmap_exec(void)
{
	(void)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
p_mmap_file(void)
{
	(void)syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, 0, 0);
}

Test(worker_filter, allows_what_the_worker_needs)
{
	int	st = run_confined(p_allowed, F_WORKER);

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
}

Test(worker_filter, kills_open)
{
	killed_by_sigsys(p_open, "openat");
}

Test(worker_filter, kills_socket)
{
	killed_by_sigsys(p_socket, "socket");
}

Test(worker_filter, kills_execve)
{
	killed_by_sigsys(p_execve, "execve");
}

Test(worker_filter, kills_ptrace)
{
	killed_by_sigsys(p_ptrace, "ptrace");
}

Test(worker_filter, kills_thread_clone)
{
	killed_by_sigsys(p_thread, "clone of a thread");
}

Test(worker_filter, kills_fork)
{
	killed_by_sigsys(p_fork, "fork");
}

Test(worker_filter, kills_mprotect_exec)
{
	killed_by_sigsys(p_mprotect_exec, "mprotect PROT_EXEC");
}

Test(worker_filter, kills_mmap_exec)
{
	killed_by_sigsys(p_mmap_exec, "mmap PROT_EXEC");
}

Test(worker_filter, kills_file_mapping)
{
	killed_by_sigsys(p_mmap_file, "mmap of a file");
}

Test(broker_filter, allows_its_own_work_and_kills_ptrace)
{
	runs_in(F_BROKER, p_allowed, "its own work");
	killed_in(F_BROKER, p_ptrace, "ptrace");
}

/*
 * The key holder cannot exec anything, not even by the pointer it once
 * compared, nor through execveat.
 */
Test(broker_filter, kills_every_exec)
{
	killed_in(F_BROKER, p_execve, "execve");
	killed_in(F_BROKER, p_execve_same, "execve of the allowed pointer");
	killed_in(F_BROKER, p_execveat, "execveat");
}

/* Threads, as glibc makes them; no fork and no namespaces. */
Test(broker_filter, clone_only_for_a_thread)
{
	runs_in(F_BROKER, p_thread_runs, "pthread_create");
	runs_in(F_BROKER, p_clone3_enosys, "clone3 fails with ENOSYS");
	killed_in(F_BROKER, p_fork, "fork");
	killed_in(F_BROKER, p_clone_newuser, "clone(CLONE_NEWUSER)");
	killed_in(F_BROKER, p_clone_thread_newns,
	    "clone(thread flags | CLONE_NEWNS)");
}

/* A group lookup through libnss_systemd loads libcap, which reads. */
Test(broker_filter, prctl_only_reads_the_bounding_set)
{
	runs_in(F_BROKER, p_capbset_read, "prctl(PR_CAPBSET_READ)");
	killed_in(F_BROKER, p_set_dumpable, "prctl(PR_SET_DUMPABLE)");
}

/* The launcher forks and execs a dynamic executable, and no more. */
Test(launcher_filter, forks_and_execs_a_worker)
{
	runs_in(F_LAUNCHER, p_fork_runs, "fork");
	runs_in(F_LAUNCHER, p_exec_runs, "fork and exec of /bin/true");
	runs_in(F_LAUNCHER, p_clone3_enosys, "clone3 fails with ENOSYS");
}

Test(launcher_filter, kills_the_rest)
{
	killed_in(F_LAUNCHER, p_thread, "clone of a thread");
	killed_in(F_LAUNCHER, p_clone_newuser, "clone(CLONE_NEWUSER)");
	killed_in(F_LAUNCHER, p_execveat, "execveat");
	killed_in(F_LAUNCHER, p_ptrace, "ptrace");
	killed_in(F_LAUNCHER, p_socket, "socket(AF_INET)");
	killed_in(F_LAUNCHER, p_socket_unix, "socket(AF_UNIX)");
}

/* The reviewed PFC files match what the code builds. */
static void
pfc_matches(scmp_filter_ctx ctx, const char *committed)
{
	char	 tmp[] = "/tmp/sealmd-pfc-XXXXXX", cmd[512];
	int	 fd;

	fd = mkstemp(tmp);
	cr_assert_neq(fd, -1);
	cr_assert_eq(seccomp_export_pfc(ctx, fd), 0);
	close(fd);
	seccomp_release(ctx);
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", tmp, committed);
	cr_expect_eq(system(cmd), 0, "%s is stale: run make seccomp-export "
	    "and review the diff", committed);
	unlink(tmp);
}

Test(filters, exported_pfc_is_current)
{
#ifdef SEALMD_SANITIZE
	cr_skip_test("sanitizer builds allow extra syscalls; the committed "
	    "PFC is the release filter");
#endif
	pfc_matches(sandbox_worker_filter(), "policy/worker.pfc");
	pfc_matches(sandbox_broker_filter(0), "policy/broker.pfc");
	pfc_matches(sandbox_launcher_filter(), "policy/launcher.pfc");
}

/*
 * The real drop, as root: afterwards no way back to uid 0, no groups, no
 * capabilities, and root-only files stay closed.
 */
Test(drop, cannot_be_undone)
{
	struct msg_init	 mi;
	char		 dir[] = "/tmp/sealmd-chroot-XXXXXX", path[256];
	pid_t		 pid;
	int		 st, fd;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIPPED (loudly): drop test needs root\n");
		cr_skip_test("needs root");
	}
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/secret", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_neq(fd, -1);
	close(fd);
	memset(&mi, 0, sizeof(mi));
	mi.mi_uid = 65534;
	mi.mi_gid = 65534;
	mi.mi_drop = 1;
	snprintf(mi.mi_chroot, sizeof(mi.mi_chroot), "%s", dir);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		gid_t	g = 0;

		sandbox_worker_drop(&mi);
		if (setuid(0) != -1 || setresuid((uid_t)-1, 0, (uid_t)-1) != -1)
			_exit(1);
		if (setgroups(1, &g) != -1 || getgroups(0, NULL) != 0)
			_exit(2);
		if (open("/secret", O_RDONLY) != -1 || errno != EACCES)
			_exit(3);
		if (open("/etc/passwd", O_RDONLY) != -1)
			_exit(4);	/* the chroot holds */
		if (capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
			_exit(5);
		if (getuid() != 65534 || geteuid() != 65534 ||
		    getgid() != 65534)
			_exit(6);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	unlink(path);
	rmdir(dir);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "drop check failed: status 0x%x", st);
}
