# SPDX-License-Identifier: ISC
"""Confinement of the real daemon, checked from outside through /proc, and
worker crashes under load."""
import os
import pwd
import re
import signal
import threading
import time
import unittest

from sealmd_fixture import IS_ROOT, SANITIZE, VALGRIND, Daemon, uuid4

# CAP_SETGID 6, CAP_SETUID 7, CAP_SETPCAP 8, CAP_KILL 5, CAP_SYS_CHROOT 18:
# the launcher's, and nobody else's.
LAUNCHER_CAPS = (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 18)


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def need_root_for_proc():
    """The worker and launcher are not dumpable: their /proc fd, maps and
    environ files are root's."""
    if not IS_ROOT:
        raise unittest.SkipTest("not root: /proc of a process that is not "
                                "dumpable is root's")


class Confinement(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_worker_is_confined(self):
        st = proc_status(self.d.worker_pid())
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(int(st["CapPrm"], 16), 0)
        if not IS_ROOT:
            self.skipTest("not root: the bounding set, uid drop and chroot "
                          "need privilege and are skipped")
        self.assertEqual(int(st["CapBnd"], 16), 0)
        uid = pwd.getpwnam("sealmd-worker").pw_uid
        self.assertEqual(st["Uid"].split(), [str(uid)] * 4)
        self.assertEqual(st["Groups"], "")
        self.assertEqual(os.readlink(f"/proc/{self.d.worker_pid()}/root"),
                         "/run/sealmd/empty")
        self.assertEqual(os.listdir("/run/sealmd/empty"), [])

    def test_broker_is_confined(self):
        # The key holder: no capability in any set, and no exec (its
        # filter is checked in tests/unit/test_sandbox.c).
        st = proc_status(self.d.proc.pid)
        if VALGRIND:
            # Valgrind cannot run seccomp: that build loads no broker filter.
            print("broker seccomp NOT CHECKED under valgrind", flush=True)
        else:
            self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(st["NoNewPrivs"], "1")
        sets = ("CapEff", "CapPrm", "CapInh", "CapAmb")
        if IS_ROOT:
            sets += ("CapBnd",)
        for cap in sets:
            self.assertEqual(int(st[cap], 16), 0, cap)

    def test_launcher_is_confined(self):
        # The worker's parent is the launcher, the broker's child, which
        # keeps exactly what starting and stopping a worker takes.
        pid = self.d.launcher_pid()
        self.assertIsNotNone(pid)
        st = proc_status(pid)
        self.assertEqual(st["PPid"], str(self.d.proc.pid))
        self.assertEqual(proc_status(self.d.worker_pid())["PPid"], str(pid))
        if not VALGRIND:
            self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(st["NoNewPrivs"], "1")
        want = LAUNCHER_CAPS if IS_ROOT else 0
        self.assertEqual(int(st["CapEff"], 16), want)
        self.assertEqual(int(st["CapPrm"], 16), want)
        if IS_ROOT:
            self.assertEqual(int(st["CapBnd"], 16), want)

    def test_launcher_holds_no_listener_store_or_key(self):
        # Forked before anything was opened: stdio, the broker's socket
        # and its SIGCHLD self-pipe, nothing else.
        need_root_for_proc()
        pid = self.d.launcher_pid()
        fds = {int(n): os.readlink(f"/proc/{pid}/fd/{n}")
               for n in os.listdir(f"/proc/{pid}/fd")}
        if VALGRIND:
            # Valgrind's own fds sit above the process's fd limit.
            fds = {n: t for n, t in fds.items() if n < 1024}
        extra = sorted(t for n, t in fds.items() if n > 2)
        self.assertEqual(len(extra), 3, fds)
        self.assertRegex(extra[0], r"^pipe:")
        self.assertEqual(extra[0], extra[1])
        self.assertRegex(extra[2], r"^socket:")
        self.assertRegex(fds[3], r"^socket:")

    def test_plain_worker_maps_no_tls_library(self):
        # No TLS listener: the broker runs sealmd-worker, without OpenSSL.
        self.assertRegex(self.d.log(), r"started: .*, worker \S*/"
                         r"sealmd-worker\n")
        need_root_for_proc()
        with open(f"/proc/{self.d.worker_pid()}/maps") as f:
            maps = f.read()
        self.assertIn("libsodium", maps)
        for lib in ("libtls", "libssl", "libcrypto"):
            self.assertNotIn(lib, maps)

    def test_worker_environment_is_empty(self):
        need_root_for_proc()
        with open(f"/proc/{self.d.worker_pid()}/environ", "rb") as f:
            self.assertEqual(f.read(), b"")
        with open(f"/proc/{self.d.worker_pid()}/cmdline", "rb") as f:
            self.assertEqual(f.read(), b"sealmd-worker\x00")


@unittest.skipUnless(IS_ROOT, "needs root to signal the worker's uid")
class Crashes(unittest.TestCase):
    """SIGSEGV and SIGKILL under load: the broker logs why, starts a new
    worker promptly, and new connections are served.  Promptly: within
    a second, or twice the time this daemon took to start (broker and
    worker) in this test, if that is longer (ASan, valgrind, a loaded
    host).  A restart only forks and execs the worker."""

    def setUp(self):
        self.d = Daemon().start()
        self.iid = uuid4()
        self.assertEqual(self.d.register(self.iid, "crash")[0], 201)
        h = self.d.proxy_headers(self.iid, "crash")
        self.assertEqual(self.d.guest("POST", "/openstack/latest/password",
                                      body=b"crash-canary", headers=h)[0],
                         200)
        self.h = h

    def tearDown(self):
        self.d.cleanup()

    def load(self, stop, results):
        deadline = time.time() + 20
        while not stop.is_set() and time.time() < deadline:
            try:
                st, _, body = self.d.guest(
                    "GET", "/openstack/latest/password", headers=self.h)
                results.append((st, body))
            except OSError:
                results.append(("error", b""))

    def crash_with(self, sig, cause):
        stop, results = threading.Event(), []
        t = threading.Thread(target=self.load, args=(stop, results))
        t.start()
        try:
            time.sleep(0.2)
            limit = max(1.0, 2 * self.d.start_seconds)
            t0 = time.time()
            old = self.d.kill_worker(sig)
            pat = rf"worker (?!{old}\b)(\d+) ready"
            while time.time() - t0 < limit and not re.search(pat,
                                                             self.d.log()):
                time.sleep(0.01)
            elapsed = time.time() - t0
            self.assertRegex(self.d.log(), pat)
            self.assertLess(elapsed, limit, "restart took %.2f s, start "
                            "%.2f s" % (elapsed, self.d.start_seconds))
            self.assertRegex(self.d.log(), rf"worker {old} {cause}")
            time.sleep(0.2)
        finally:
            stop.set()
            t.join()
        self.assertIn((200, b"crash-canary"), results)
        self.assertTrue(self.d.proc.poll() is None, "broker died")
        st, _, body = self.d.guest("GET", "/openstack/latest/password",
                                   headers=self.h)
        self.assertEqual((st, body), (200, b"crash-canary"))

    def test_sigsegv(self):
        # ASan's handler catches the fault, reports it through the
        # worker's log pipe, and exits 1: the report is this test's.
        if SANITIZE:
            self.d.expect_sanitizer(r"AddressSanitizer(:DEADLYSIGNAL|: "
                                    r"SEGV | can not provide additional)")
        self.crash_with(signal.SIGSEGV, r"exited with status 1"
                        if SANITIZE else r"killed by signal 11")

    def test_sigkill(self):
        self.crash_with(signal.SIGKILL, r"killed by signal 9")

    def test_sigsys_is_named(self):
        self.crash_with(signal.SIGSYS, r"killed by seccomp")


def gone(pid, seconds=10):
    """True once pid has exited (or is a zombie), polled for at most
    seconds."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if proc_status(pid)["State"].startswith("Z"):
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


class LauncherLifetime(unittest.TestCase):
    """The three processes live and die together: a broker without its
    launcher cannot start workers and exits for its service manager to
    restart; a launcher without its broker kills the worker and exits."""

    def setUp(self):
        self.d = Daemon().start()
        self.launcher = self.d.launcher_pid()
        self.worker = self.d.worker_pid()

    def tearDown(self):
        self.d.cleanup()

    def test_launcher_death_stops_the_broker(self):
        self.d.expect_exit().expect_worker_deaths()
        os.kill(self.launcher, signal.SIGKILL)
        try:
            self.d.proc.wait(10)
        except Exception:
            self.fail("the broker outlived its launcher")
        self.assertNotEqual(self.d.proc.returncode, 0)
        self.assertIn("the launcher is gone", self.d.log())
        self.assertTrue(gone(self.worker), "the worker outlived both")

    def test_broker_death_ends_launcher_and_worker(self):
        self.d.expect_exit()
        os.kill(self.d.proc.pid, signal.SIGKILL)
        self.d.proc.wait(10)
        self.assertTrue(gone(self.launcher), "the launcher outlived it")
        self.assertTrue(gone(self.worker), "the worker outlived it")

    def test_terminal_signals_are_the_brokers(self):
        # Ctrl-C reaches the whole process group; systemd's stop, the
        # whole cgroup.  The launcher waits for the broker to finish.
        os.kill(self.launcher, signal.SIGTERM)
        os.kill(self.launcher, signal.SIGINT)
        os.kill(self.launcher, signal.SIGHUP)
        time.sleep(0.3)
        self.assertFalse(gone(self.launcher, 0.1))
        self.assertIsNone(self.d.proc.poll())
        self.assertEqual(self.d.stop(), 0)
        self.assertTrue(gone(self.launcher), "the launcher outlived it")
        self.assertEqual(self.d.worker_deaths(), [])


@unittest.skipUnless(IS_ROOT, "needs root to signal the worker's uid")
class StopContinue(unittest.TestCase):
    """SIGSTOP then SIGCONT (an admin's kill -STOP, a cgroup freeze, a
    debugger) makes the kernel resume a sleeping poll or futex through
    restart_syscall: both filters must allow it, or the process dies."""

    def test_stop_and_continue(self):
        d = Daemon().start()
        try:
            iid = uuid4()
            self.assertEqual(d.register(iid, "pause")[0], 201)
            h = d.proxy_headers(iid, "pause")
            pids = {"broker": d.proc.pid, "launcher": d.launcher_pid()}
            for who in ("broker", "worker", "launcher", "broker"):
                pid = pids.get(who) or d.worker_pid()
                # Let every thread settle into its timed wait first.
                time.sleep(0.3)
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.3)
                os.kill(pid, signal.SIGCONT)
                time.sleep(0.3)
                self.assertIsNone(d.proc.poll(), f"broker died ({who})")
                self.assertEqual(d.worker_deaths(), [], who)
                self.assertEqual(d.guest("GET", "/openstack/latest/password",
                                         headers=h)[0], 200, who)
        finally:
            d.cleanup()


@unittest.skipUnless(IS_ROOT, "needs root: only root chroots the worker")
class ChrootMustBeEmpty(unittest.TestCase):
    """A file in the worker's chroot is as much a refusal as a directory:
    st_nlink counts subdirectories only, so the check reads the entries."""

    def refused_with(self, make):
        d = Daemon()
        try:
            root = os.path.join(d.state, "empty")
            os.mkdir(root, 0o755)
            make(root)
            with open(d.conf) as f:
                conf = f.read()
            with open(d.conf, "w") as f:
                f.write(conf.replace("[sealmd]\n",
                                     f"[sealmd]\nchroot = {root}\n", 1))
            with self.assertRaises(RuntimeError) as cm:
                d.start()
            self.assertIn(f"chroot {root} must be empty", str(cm.exception))
            self.assertNotEqual(d.proc.wait(timeout=10), 0)
        finally:
            d.cleanup()

    def test_regular_file(self):
        def make(root):
            with open(os.path.join(root, "passwd"), "w") as f:
                f.write("planted\n")
        self.refused_with(make)

    def test_symlink(self):
        self.refused_with(lambda root: os.symlink("/", os.path.join(root,
                                                                    "up")))

    def test_subdirectory(self):
        self.refused_with(lambda root: os.mkdir(os.path.join(root, "d")))


if __name__ == "__main__":
    unittest.main()
