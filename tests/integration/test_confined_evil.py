# SPDX-License-Identifier: ISC
"""The real worker, confined, turns hostile (build/tests/sealmd-worker-evil,
a test-only build).  Each attack is killed by the kernel or refused by the
broker, which logs it and keeps serving; no stored value changes."""
import os
import re
import shutil
import signal
import socket
import time
import unittest

from sealmd_fixture import BUILD, IS_ROOT, Daemon, uuid4

EVIL = os.path.join(BUILD, "tests", "sealmd-worker-evil")


@unittest.skipUnless(os.path.exists(EVIL), "test worker not built")
class ConfinedEvil(unittest.TestCase):
    def wait_log(self, pattern, start, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.d.log()[start:])
            if m:
                return start + m.end()
            time.sleep(0.02)
        self.fail(f"no {pattern!r} in log:\n{self.d.log()[start:]}")

    def started(self, k, start, timeout=30):
        """The pid of the k-th worker started after start (1-based)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            pids = re.findall(r"worker started, pid (\d+)",
                              self.d.log()[start:])
            if len(pids) >= k:
                return pids[k - 1]
            time.sleep(0.02)
        self.fail(f"no worker {k} in log:\n{self.d.log()[start:]}")

    def test_attacks_after_confinement(self):
        if not IS_ROOT:
            self.skipTest("needs root to kill the worker's uid")
        evil_dir = os.path.join("/tmp", "sealmd-evil-" + uuid4()[:8])
        os.mkdir(evil_dir, 0o755)
        self.addCleanup(shutil.rmtree, evil_dir, True)
        shutil.copy(EVIL, os.path.join(evil_dir, "sealmd-worker-evil"))
        self.d = Daemon(guests=(("proxy", "127.0.0.1"),
                                ("direct", "127.0.0.1")),
                        worker_path=os.path.join(evil_dir,
                                                 "sealmd-worker-evil"))
        # Every scenario ends in a kill, by the kernel or the broker.
        self.d.expect_worker_deaths().start()
        self.addCleanup(self.d.cleanup)
        d = self.d
        victim = uuid4()
        self.assertEqual(d.register(victim, "victims")[0], 201)
        self.assertEqual(d.register(uuid4(), "direct",
                                    addresses=["127.0.0.1"])[0], 201)
        h = d.proxy_headers(victim, "victims")
        self.assertEqual(d.guest("POST", "/openstack/latest/password",
                                 body=b"victim-secret", headers=h)[0], 200)
        keydir = os.path.join(d.state, "keys")
        with open(os.path.join(evil_dir, "evil-confined"), "w") as f:
            f.write(f"open-keys {keydir}\nconnect\nexec\nforge-conn\n"
                    f"direct-claim {victim}\nowner-on-guest {victim}\n")
        # Each start plays the next scenario.  A worker's own lines come
        # through its log pipe and may follow the broker's lines about it,
        # so each worker is followed by its pid, not by the log's order.
        pos = len(d.log())
        os.kill(d.worker_pid(), signal.SIGKILL)
        n = 0

        def played(then, dies):
            # A worker may die before the broker logs it ready; one that
            # must be given a connection first is waited for.
            nonlocal n
            n += 1
            pid = self.started(n, pos)
            if then is not None:
                self.wait_log(rf"worker {pid} ready", pos)
                then()
            self.wait_log(dies.replace("PID", pid), pos)

        def connect(port):
            def go():
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                self.addCleanup(s.close)
            return go

        names = ("open-keys", "connect", "exec", "forge-conn",
                 "direct-claim", "owner-on-guest")
        for _ in range(3):
            played(None, r"worker PID killed by seccomp \(SIGSYS\)")
        played(None, r"killing worker PID: message type 14 on "
               r"unknown connection")
        played(connect(d.ports[1]), r"killing worker PID: message type 16: "
               r"identity claimed in direct mode")
        played(connect(d.ports[0]), r"killing worker PID: message type 30 "
               r"not permitted on a guest connection")
        self.wait_log(r"will play owner-on-guest", pos)
        self.assertEqual(re.findall(r"will play (\S+)", d.log()[pos:]),
                         list(names))
        # The next start is an ordinary worker, and nothing changed.
        self.wait_log(rf"worker {self.started(n + 1, pos)} ready", pos)
        self.assertNotIn("still alive", d.log())
        self.assertIsNone(d.proc.poll())
        st, _, body = d.guest("GET", "/openstack/latest/password", headers=h)
        self.assertEqual((st, body), (200, b"victim-secret"))
        st, js = d.owner("GET", f"/servers/{victim}/os-server-password")
        self.assertEqual((st, js), (200, {"password": "victim-secret"}))


if __name__ == "__main__":
    unittest.main()
