# SPDX-License-Identifier: ISC
"""A hostile worker asks the broker for signatures it must not get.

build/tests/evil-worker (tests/evil/evil_worker.c) stands in for the
worker, as in test_hostile_worker.py: one scenario per start, read from
"evil-scenarios" beside it, and the broker's worker_path a symlink the
test points back at the real worker for the last start.  Each request on
the sign channel below is refused: the broker logs why, kills the worker,
starts another, and TLS service goes on with the same key.
"""
import os
import re
import shutil
import signal
import socket
import tempfile
import time
import unittest

from sealmd_fixture import BUILD, Daemon
from tls_helpers import Certs, enable_tls, key_id, sign_count
from test_hostile_worker import repoint
from test_tls import curl

EVIL = os.path.join(BUILD, "tests", "evil-worker")
REAL = os.path.join(BUILD, "sealmd-worker-tls")
PLAIN, TLS = 0, 1               # index into Daemon.ports
WAIT = 10

# (scenario, listener it needs, the broker's reason for the kill)
SCENARIOS = (
    ("sign-31", TLS,
     r"tls\.sign: a digest of 31 bytes refused \(want 32, 48 or 64\)"),
    ("sign-1k", TLS,
     r"tls\.sign: a digest of 1024 bytes refused \(want 32, 48 or 64\)"),
    ("sign-unknown-key", TLS, r"tls\.sign: unknown key id [0-9a-f]{16}\.\.\."),
    ("sign-rsa-raw", TLS, r"tls\.sign: operation 2 refused: only ECDSA "
     r"signatures, never raw RSA or decryption"),
    ("sign-twice", TLS,
     r"tls\.sign: a second signature for connection \d+"),
    ("sign-on-main", TLS, r"unknown message type 36"),
    ("sign-plain-conn", PLAIN,
     r"tls\.sign for connection \d+, not a live TLS connection"),
)


class HostileSigner(unittest.TestCase):
    def setUp(self):
        if not os.access(EVIL, os.X_OK):
            self.skipTest(f"{EVIL} not built")
        state = tempfile.mkdtemp(prefix="sealmd-evil-tls-")
        self.dir = os.path.join(state, "evil")
        os.mkdir(self.dir, 0o700)
        shutil.copy2(EVIL, os.path.join(self.dir, "evil-worker"))
        shutil.copy2(REAL, os.path.join(self.dir, "sealmd-worker-tls"))
        self.link = os.path.join(self.dir, "worker")
        os.symlink("sealmd-worker-tls", self.link)
        self.certs = Certs(os.path.join(state, "certs"))
        self.crt, self.key = self.certs.server("guest")
        self.d = Daemon(guests=(("proxy", "127.0.0.1"),
                                ("proxy", "127.0.0.1")),
                        state=state, worker_path=self.link)
        # Each scenario ends in the broker killing the evil worker.
        self.d.expect_worker_deaths()
        enable_tls(self.d, "guest g1", self.crt, self.key)
        self.addCleanup(self.d.cleanup)
        self.d.start()

    def wait_re(self, pattern, start):
        deadline = time.time() + WAIT
        while True:
            m = re.compile(pattern, re.M).search(self.d.log(), start)
            if m or time.time() >= deadline:
                return m
            self.assertIsNone(self.d.proc.poll(), "the broker died")
            time.sleep(0.02)

    def test_refused_signatures(self):
        d = self.d
        url = f"https://127.0.0.1:{d.ports[TLS]}/"
        self.assertEqual(curl(url, self.crt)[0], 200)
        lines = [f"keyid {key_id(self.crt)}"]
        lines += [f"run {name}" for name, _, _ in SCENARIOS]
        with open(os.path.join(self.dir, "evil-scenarios"), "w") as f:
            f.write("\n".join(lines) + "\n")
        repoint(self.link, "evil-worker")
        pos = len(d.log())
        signs = sign_count(d)
        os.kill(d.worker_pid(), signal.SIGKILL)
        n = len(SCENARIOS)
        for k, (name, port, reason) in enumerate(SCENARIOS):
            # Relayed by the broker from the worker's log pipe.
            m = self.wait_re(rf"^<\d>sealmd-worker: <\d>evil-worker"
                             rf"\[(\d+)\]: scenario "
                             rf"{re.escape(name)} \({k + 1} of {n}\)$", pos)
            self.assertIsNotNone(m, f"{name} did not start:\n" +
                                 d.log()[pos:])
            pid = int(m.group(1))
            if k == n - 1:
                repoint(self.link, "sealmd-worker-tls")
            s = socket.create_connection(("127.0.0.1", d.ports[port]),
                                         timeout=WAIT)
            try:
                m = self.wait_re(rf"^<\d>sealmd: killing worker {pid}: "
                                 r"(.*)$", pos)
                self.assertIsNotNone(m, f"no kill for {name}:\n" +
                                     d.log()[pos:])
                self.assertRegex(m.group(1), rf"^{reason}$")
                self.wait_re(rf"^<\d>sealmd: worker {pid} killed by "
                             r"signal 9", pos)
            finally:
                s.close()
            self.assertNotRegex(d.log()[pos:], rf"evil-worker\[{pid}\]: "
                                r"scenario \S+: (NOT refused|broker "
                                r"answered|broker sent|channel closed)")
            pos = m.end()
            print(f"    {name:18s} -> {m.group(1)}")
        # Only sign-twice's first request was signed.
        self.assertEqual(sign_count(d) - signs, 1)
        m = self.wait_re(r"^<\d>sealmd: worker (\d+) ready$", pos)
        self.assertIsNotNone(m, d.log()[pos:])
        deadline = time.time() + WAIT
        while curl(url, self.crt)[0] != 200 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(curl(url, self.crt)[0], 200)
        self.assertIsNone(d.proc.poll())


if __name__ == "__main__":
    unittest.main()
