# SPDX-License-Identifier: ISC
"""What a connection's identity is worth (issue 14, item 1): the broker
itself ends a connection that has been idle, lived or asked too long,
whatever the worker does.

A hostile worker (build/tests/evil-worker) holds an owner connection past
the idle limit, and asks more than the request limit: the broker closes
the caller's socket, drops the one operation a worker may have sent before
it saw the close, and kills the worker on the next.  The real worker meets
the same limits on keep-alive connections and is never killed for its
late report that the connection is done.
"""
import os
import re
import shutil
import signal
import socket
import tempfile
import time
import unittest

from sealmd_fixture import BUILD, Daemon, RawConn, uuid4
from test_hostile_worker import EVIL, REAL, repoint

WAIT = 15                       # seconds; any single wait in this file
# The worker's own timeouts, small so that the broker's limits can be.
FAST = {"header_timeout_ms": 1000, "body_timeout_ms": 1000,
        "idle_timeout_ms": 1000}
OWNER_IDLE_MS = 4000            # header + body + 2 * idle
CAP = 5                         # owner and guest operations
PW = "/openstack/latest/password"


def owner_raw(d, timeout=WAIT):
    """A RawConn on the owner socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(d.socket)
    c = RawConn.__new__(RawConn)
    c.sock, c.timeout, c.buf, c.eof = s, timeout, b"", False
    return c


def get(path, close=False):
    return (f"GET {path} HTTP/1.1\r\nHost: x\r\n" +
            ("Connection: close\r\n" if close else "") + "\r\n").encode()


class Base(unittest.TestCase):
    def wait_re(self, d, pattern, start=0, timeout=WAIT):
        deadline = time.time() + timeout
        while True:
            m = re.compile(pattern, re.M).search(d.log(), start)
            if m or time.time() >= deadline:
                return m
            self.assertIsNone(d.proc.poll(), "the broker died:\n" +
                              d.log()[-4000:])
            time.sleep(0.05)


class HeldByHostileWorker(Base):
    """The evil worker holds an owner connection idle, asks too much on
    one, and replays a guest's signature too often on its connection."""

    # (scenario, listener, why it is closed, type of the op that kills)
    SCENARIOS = (("owner-idle", "owner", "idle too long", 32),
                 ("owner-requests", "owner", "request limit reached", 32),
                 ("guest-requests", "guest", "request limit reached", 14))

    @classmethod
    def setUpClass(cls):
        if not os.access(EVIL, os.X_OK):
            raise unittest.SkipTest(f"{EVIL} not built: make {EVIL}")
        state = tempfile.mkdtemp(prefix="sealmd-limits-")
        cls.dir = os.path.join(state, "evil")
        os.mkdir(cls.dir, 0o700)
        shutil.copy2(EVIL, os.path.join(cls.dir, "evil-worker"))
        shutil.copy2(REAL, os.path.join(cls.dir, "sealmd-worker"))
        cls.link = os.path.join(cls.dir, "worker")
        os.symlink("sealmd-worker", cls.link)
        limits = dict(FAST, owner_conn_idle_ms=OWNER_IDLE_MS,
                      owner_conn_requests=CAP, guest_conn_requests=CAP)
        cls.d = Daemon(limits=limits, state=state, worker_path=cls.link)
        # The real worker is killed to start the evil one, which the
        # broker kills in turn.
        cls.d.expect_worker_deaths()
        try:
            cls.d.start()
        except Exception:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_held_connections(self):
        d = self.d
        target = uuid4()
        self.assertEqual(d.register(target, "proj-t")[0], 201)
        lines = [f"hold {OWNER_IDLE_MS + 2500}", f"cap {CAP}",
                 f"target {target}", "tenant proj-t",
                 f"sig {d.sign(target)}"]
        lines += [f"run {s[0]}" for s in self.SCENARIOS]
        with open(os.path.join(self.dir, "evil-scenarios"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(self.dir, "evil-next"), "w") as f:
            f.write("0\n")
        repoint(self.link, "evil-worker")
        pos = len(d.log())
        real = d.worker_pid()
        # Only a child of our daemon's launcher.
        with open(f"/proc/{real}/stat") as f:
            self.assertEqual(int(f.read().rsplit(")", 1)[1].split()[1]),
                             d.launcher_pid())
        os.kill(real, signal.SIGKILL)
        n = len(self.SCENARIOS)
        for k, (name, where, why, optype) in enumerate(self.SCENARIOS):
            # Relayed by the broker from the worker's log pipe.
            m = self.wait_re(d, rf"^<\d>sealmd-worker: <\d>evil-worker"
                             rf"\[(\d+)\]: scenario {name} "
                             rf"\({k + 1} of {n}\)$", pos)
            self.assertIsNotNone(m, d.log()[pos:])
            pid = int(m.group(1))
            if k == n - 1:
                repoint(self.link, "sealmd-worker")
            if where == "owner":
                s = owner_raw(d)
            else:
                s = d.conn(timeout=WAIT)
            try:
                closed = self.wait_re(
                    d, rf"^<\d>sealmd: {where}:\S+: connection (\d+) "
                    rf"\([^)]*\): {why}; closed by the broker$", pos)
                self.assertIsNotNone(closed, f"{name}:\n" + d.log()[pos:])
                connid = closed.group(1)
                kill = self.wait_re(
                    d, rf"^<\d>sealmd: killing worker {pid}: (.*)$", pos)
                self.assertIsNotNone(kill, f"{name}:\n" + d.log()[pos:])
                # Closed by the limit, before the worker was killed.
                self.assertLess(closed.start(), kill.start())
                self.assertEqual(kill.group(1), f"message type {optype} on "
                                 f"unknown connection {connid}",
                                 d.log()[pos:])
                # The caller's end reads as closed, with nothing sent.
                self.assertEqual(s.sock.recv(100), b"")
            finally:
                s.close()
            self.assertIsNotNone(self.wait_re(
                d, rf"^<\d>sealmd: worker {pid} killed by signal 9", pos))
            # Nothing answered past the limit, the socket did close.
            self.assertNotRegex(d.log()[pos:], rf"evil-worker\[{pid}\]: "
                                r"scenario \S+: (NOT refused|broker "
                                r"answered|broker sent|channel closed)")
            pos = kill.end()
        m = self.wait_re(d, r"^<\d>sealmd: worker (\d+) ready$", pos)
        self.assertIsNotNone(m, d.log()[pos:])
        self.assertEqual(d.owner("GET", "/instances")[0], 200)


class RealWorker(Base):
    """The limits on the real worker: closed, never killed."""

    def start(self, **limits):
        self.d = Daemon(limits=dict(FAST, rate=0, **limits))
        self.addCleanup(self.d.cleanup)
        self.d.start()
        return self.d

    def assert_not_killed(self, d, pid):
        self.assertNotRegex(d.log(), r"killing worker")
        self.assertEqual(d.worker_pid(), pid)

    def test_guest_request_limit_keepalive(self):
        d = self.start(guest_conn_requests=3)
        iid = uuid4()
        self.assertEqual(d.register(iid, "p")[0], 201)
        hdrs = "".join(f"{k}: {v}\r\n" for k, v in
                       d.proxy_headers(iid, "p").items())
        req = (f"GET {PW} HTTP/1.1\r\nHost: x\r\n{hdrs}\r\n").encode()
        pid = d.worker_pid()
        with d.conn() as c:
            for _ in range(3):
                c.send(req)
                r = c.read_response()
                self.assertIsNotNone(r)
                self.assertEqual(r.status, 200)
            c.send(req)
            self.assertIsNone(c.read_response(timeout=WAIT))
            self.assertTrue(c.eof)
        self.assertTrue(d.wait_log(r"guest:\S+: connection \d+ \([^)]*\): "
                                   r"request limit reached; closed by the "
                                   r"broker", timeout=WAIT), d.log())
        # The worker's late "done" for it killed nobody; it still serves.
        self.assertEqual(d.guest("GET", PW,
                                 headers=d.proxy_headers(iid, "p"))[0], 200)
        time.sleep(1)
        self.assert_not_killed(d, pid)

    def test_guest_lifetime(self):
        d = self.start(guest_conn_lifetime_ms=3000)
        iid = uuid4()
        self.assertEqual(d.register(iid, "p")[0], 201)
        hdrs = "".join(f"{k}: {v}\r\n" for k, v in
                       d.proxy_headers(iid, "p").items())
        req = (f"GET {PW} HTTP/1.1\r\nHost: x\r\n{hdrs}\r\n").encode()
        pid = d.worker_pid()
        answered = 0
        with d.conn() as c:
            # Busy, never idle: only the lifetime can end it.
            for _ in range(int(WAIT / 0.3)):
                try:
                    c.send(req)
                except OSError:
                    break
                r = c.read_response(timeout=WAIT)
                if r is None:
                    break
                self.assertEqual(r.status, 200)
                answered += 1
                time.sleep(0.3)
            self.assertTrue(c.eof or c.read_response(timeout=1) is None)
        self.assertGreater(answered, 1)
        self.assertTrue(d.wait_log(r"guest:\S+: connection \d+ \([^)]*\): "
                                   r"lifetime over; closed by the broker",
                                   timeout=WAIT), d.log())
        time.sleep(1)
        self.assert_not_killed(d, pid)

    def test_owner_wait_ends_before_lifetime(self):
        """A wait longer than the connection has left is answered, empty,
        before the broker closes the connection."""
        d = self.start(owner_conn_lifetime_ms=5000)
        iid = uuid4()
        self.assertEqual(d.register(iid, "p")[0], 201)
        pid = d.worker_pid()
        c = owner_raw(d, timeout=WAIT)
        try:
            c.send(get(f"/servers/{iid}/os-server-password?wait=600"))
            r = c.read_response(timeout=WAIT + 5)
            self.assertIsNotNone(r, "no answer before the lifetime ended:"
                                 "\n" + d.log())
            self.assertEqual(r.status, 200)
            self.assertIn(b'"password"', r.body)
            self.assertTrue(c.closed(timeout=WAIT))
        finally:
            c.close()
        self.assert_not_killed(d, pid)


if __name__ == "__main__":
    unittest.main()
