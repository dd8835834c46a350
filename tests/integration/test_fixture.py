# SPDX-License-Identifier: ISC
"""The fixture fails a test whose daemon went wrong although every assert
passed: a sanitizer report (the worker's arrives through its log pipe), a
worker that died unannounced, a broker that did not exit 0.  Each case is
made to happen here, and Daemon.cleanup() must refuse it; declared, it
must not."""
import os
import shutil
import signal
import time
import unittest

from sealmd_fixture import BUILD, SANITIZE, SANITIZER_RE, Daemon, uuid4

EVIL = os.path.join(BUILD, "tests", "sealmd-worker-evil")


def wait_for(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


class CleanupFails(unittest.TestCase):
    def assert_cleanup_fails(self, d, pattern):
        with self.assertRaises(AssertionError) as cm:
            d.cleanup()
        self.assertRegex(str(cm.exception), pattern)
        self.assertFalse(os.path.exists(d.state))

    def restarted(self, d, old):
        return wait_for(lambda: d.worker_pid() not in (None, old))

    def test_undeclared_worker_death(self):
        d = Daemon().start()
        old = d.worker_pid()
        os.kill(old, signal.SIGKILL)
        self.assertTrue(self.restarted(d, old))
        self.assert_cleanup_fails(
            d, rf"(?s)the worker died.*worker {old} killed by signal 9")

    def test_declared_worker_death(self):
        d = Daemon().start()
        old = d.kill_worker()
        self.assertTrue(self.restarted(d, old))
        d.cleanup()

    def test_broker_killed(self):
        d = Daemon().start()
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(10)
        self.assert_cleanup_fails(d, r"the broker died of signal 9")

    def test_broker_killed_by_stop(self):
        d = Daemon().start()
        self.assertEqual(d.stop(signal.SIGKILL), -signal.SIGKILL)
        d.cleanup()

    @unittest.skipUnless(os.path.exists(EVIL), "test worker not built")
    def test_worker_sanitizer_report(self):
        """A heap overflow in the confined worker.  In an ASan build the
        report must get out of the sandbox (seccomp, RLIMIT_FSIZE 0) and
        through the pipe; a release build writes a stand-in line."""
        evil_dir = os.path.join("/tmp", "sealmd-evil-" + uuid4()[:8])
        os.mkdir(evil_dir, 0o755)
        self.addCleanup(shutil.rmtree, evil_dir, True)
        path = os.path.join(evil_dir, "sealmd-worker-evil")
        shutil.copy(EVIL, path)
        with open(os.path.join(evil_dir, "evil-confined"), "w") as f:
            f.write("sanitizer\n")
        d = Daemon(worker_path=path)
        # ASan aborts the worker: not the finding under test here.
        d.expect_worker_deaths().start()
        self.assertTrue(d.wait_log(SANITIZER_RE.pattern, timeout=20),
                        d.log())
        if SANITIZE:
            self.assertTrue(d.wait_log(
                r"(?m)^<4>sealmd-worker: ==\d+==ERROR: AddressSanitizer: "
                r".* on address", timeout=20), d.log())
            self.assertTrue(d.wait_log(
                r"(?m)^<4>sealmd-worker: SUMMARY: AddressSanitizer",
                timeout=20), d.log())
            self.assertTrue(d.wait_log(r"worker \d+ exited with status 1",
                                       timeout=20), d.log())
            self.assertNotRegex(d.log(), r"killed by (seccomp|signal 25)")
        self.assert_cleanup_fails(d, r"a sanitizer reported")


if __name__ == "__main__":
    unittest.main()
