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
    def wait_log(self, pattern, start, timeout=8):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.d.log()[start:])
            if m:
                return start + m.end()
            time.sleep(0.02)
        self.fail(f"no {pattern!r} in log:\n{self.d.log()[start:]}")

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
        pos = len(d.log())
        os.kill(d.worker_pid(), signal.SIGKILL)

        def played(name, then):
            p = self.wait_log(rf"will play {name}\n", pos)
            p2 = self.wait_log(r"worker \d+ ready", p - 200)
            then()
            return p2

        for name in ("open-keys", "connect", "exec"):
            pos = played(name, lambda: None)
            pos = self.wait_log(r"worker \d+ killed by seccomp \(SIGSYS\)",
                                pos)
        pos = played("forge-conn", lambda: None)
        pos = self.wait_log(r"killing worker \d+: message type 14 on "
                            r"unknown connection", pos)

        def connect(port):
            def go():
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                self.addCleanup(s.close)
            return go

        pos = played("direct-claim", connect(d.ports[1]))
        pos = self.wait_log(r"killing worker \d+: message type 16: identity "
                            r"claimed in direct mode", pos)
        pos = played("owner-on-guest", connect(d.ports[0]))
        pos = self.wait_log(r"killing worker \d+: message type 30 not "
                            r"permitted on a guest connection", pos)
        # The next start is an ordinary worker, and nothing changed.
        self.wait_log(r"worker \d+ ready", pos)
        self.assertNotIn("still alive", d.log())
        self.assertIsNone(d.proc.poll())
        st, _, body = d.guest("GET", "/openstack/latest/password", headers=h)
        self.assertEqual((st, body), (200, b"victim-secret"))
        st, js = d.owner("GET", f"/servers/{victim}/os-server-password")
        self.assertEqual((st, js), (200, {"password": "victim-secret"}))


if __name__ == "__main__":
    unittest.main()
