# SPDX-License-Identifier: ISC
"""A hostile worker: the broker kills it, restarts, keeps serving, and the
store does not change.

build/tests/evil-worker (tests/evil/evil_worker.c) stands in for the
worker.  Each start plays the next scenario listed in "evil-scenarios"
beside its executable; the test copies it into the daemon's private state
directory so no other run shares that file.  The broker's worker_path is a
symlink the test owns: the broker's inherited seccomp filter lets a worker
exec nothing but that path, so the evil worker cannot hand over to the real
one itself.  The test points the symlink at the real worker to set up, at
the evil one for the run, and back at the real one once the last scenario
has started.
"""
import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import tempfile
import time
import unittest

from sealmd_fixture import BUILD, IS_ROOT, VALGRIND, Daemon, uuid4

EVIL = os.path.join(BUILD, "tests", "evil-worker")
REAL = os.path.join(BUILD, "sealmd-worker")
PROXY, DIRECT = 0, 1            # index into Daemon.ports
OWNER = "owner"                 # the owner socket
BAD_CONNID = 0xdead0001         # EVIL_BAD_CONNID in evil_worker.c
WAIT = 10                       # seconds; any single wait in this file

# (scenario, guest connection it needs, broker's reason for the kill).
# "malformed frame" is every framing error chan_recv refuses.
SCENARIOS = (
    ("unknown-type", None, r"unknown message type 9999"),
    ("bad-len", None, r"malformed frame"),
    ("short-frame", None, r"malformed frame"),
    ("wrong-size", None, r"message type 14: (\d+) bytes, want (\d+)"),
    ("oversized", None, r"malformed frame"),
    ("unknown-conn", None,
     rf"message type 14 on unknown connection {BAD_CONNID}"),
    ("owner-op-on-guest", PROXY,
     r"message type 30 not permitted on a guest connection"),
    ("direct-claim", DIRECT,
     r"message type 16: identity claimed in direct mode"),
    ("bad-digest", PROXY, r"message type 16: chunk digest mismatch"),
    ("short-inner-chunk", PROXY, r"message type 16: short inner chunk"),
    ("unterminated", PROXY, r"message type 14: unterminated identity field"),
    ("init-done-twice", None, r"message type 3: init done twice"),
    ("unexpected-pong", None, r"message type 5: unexpected pong"),
    ("fd-with-init-done", None, r"malformed frame"),
    ("fd-with-conn-done", PROXY, r"malformed frame"),
    ("before-init", None, r"message type 14 before init"),
    ("guest-op-on-owner", OWNER,
     r"message type 14 not permitted on an owner connection"),
    ("owner-bad-naddr", OWNER, r"message type 20: invalid instance"),
    # A full waiter table: 503 (checked below), then an unknown type.
    ("waiters-full", OWNER, r"unknown message type 9999"),
    ("stale-conn", PROXY, r"message type 14 on unknown connection \d+"),
    ("wrong-generation", PROXY,
     r"message type 14 on unknown connection \d+"),
    ("init-done-connid", None, r"message type 3 with a connection id"),
    ("too-many-chunks", PROXY, r"message type 16: bad chunk count"),
    ("long-last-chunk", PROXY, r"message type 16: bad last chunk length"),
    ("bad-utf8", PROXY, r"message type 16: value is not UTF-8"),
    ("bad-flags", PROXY, r"message type 14: unknown identity flags"),
    ("many-fds", None, r"malformed frame"),
    # Bulk registration: the broker keeps count, whatever the worker says.
    ("batch-entry-alone", OWNER,
     r"message type 66: a batch entry outside a batch"),
    ("batch-begin-twice", OWNER, r"message type 64: a batch begun twice"),
    ("batch-over-limit", OWNER, r"message type 66: a batch over its limit"),
    ("batch-wrong-count", OWNER,
     r"message type 68: a batch end with the wrong count"),
    ("exec", None, None),       # killed by the kernel, not the broker
)
# Only the broker's filter stops that exec, and valgrind runs without it.
if VALGRIND:
    SCENARIOS = tuple(s for s in SCENARIOS if s[0] != "exec")
PW_PATH = "/openstack/latest/password"


def dump_db(path):
    """Every row of every table, read-only from the live WAL database."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        out = {}
        for (name,) in con.execute("SELECT name FROM sqlite_master "
                                   "WHERE type = 'table' ORDER BY name"):
            rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def repoint(link, target):
    """Atomically make link point at target (a name in the same dir)."""
    tmp = link + ".new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


class HostileWorker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(EVIL, os.X_OK):
            raise unittest.SkipTest(f"{EVIL} not built: make {EVIL}")
        state = tempfile.mkdtemp(prefix="sealmd-evil-")
        cls.dir = os.path.join(state, "evil")
        os.mkdir(cls.dir, 0o700)
        shutil.copy2(EVIL, os.path.join(cls.dir, "evil-worker"))
        shutil.copy2(REAL, os.path.join(cls.dir, "sealmd-worker"))
        cls.link = os.path.join(cls.dir, "worker")
        os.symlink("sealmd-worker", cls.link)
        cls.d = Daemon(guests=(("proxy", "127.0.0.1"),
                               ("direct", "127.0.0.1")),
                       state=state, worker_path=cls.link)
        # Each scenario ends in the broker killing the evil worker.
        cls.d.expect_worker_deaths()
        try:
            cls.d.start()
        except Exception:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    # --- helpers ----------------------------------------------------------
    def wait_re(self, pattern, start=0, timeout=WAIT):
        """First match of pattern in the log after offset start."""
        deadline = time.time() + timeout
        while True:
            m = re.compile(pattern, re.M).search(self.d.log(), start)
            if m or time.time() >= deadline:
                return m
            self.assertIsNone(self.d.proc.poll(), "the broker died:\n" +
                              self.d.log()[-4000:])
            time.sleep(0.02)

    def broker_fd_targets(self):
        """What the broker's fds point at.  The broker is not dumpable:
        only root may look.  Not root, None, and the check says it was
        skipped; as root, a /proc that hides them is an error, never an
        empty list that every fd check would pass."""
        fddir = f"/proc/{self.d.proc.pid}/fd"
        out = []
        try:
            fds = os.listdir(fddir)
        except PermissionError:
            if IS_ROOT:
                raise
            with self.subTest(check="broker fds"):
                self.skipTest("not root: /proc hides the broker's fds")
            return None
        for fd in fds:
            try:
                out.append(os.readlink(os.path.join(fddir, fd)))
            except OSError:
                pass
        return out

    def settled_fd_count(self, at_most=None):
        """The broker's fd count once it holds still.  The broker keeps a
        handle on each connection until the worker reports it done, a
        moment after the client saw its answer."""
        last = None
        for _ in range(50):
            targets = self.broker_fd_targets()
            if targets is None:
                return None
            n = len(targets)
            if n == last and (at_most is None or n <= at_most):
                return n
            last = n
            time.sleep(0.1)
        return last

    def kill_our_worker(self, pid):
        """SIGKILL the broker's current worker, only if it is the child of
        our daemon's launcher."""
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        self.assertEqual(ppid, self.d.launcher_pid(),
                         "not our daemon's worker")
        os.kill(pid, signal.SIGKILL)

    def snapshot(self, ids):
        d = self.d
        st, listing = d.owner("GET", "/instances")
        self.assertEqual(st, 200)
        pws = {i: d.owner("GET", f"/servers/{i}/os-server-password")
               for i in ids}
        return dump_db(d.db), listing, pws

    # --- the test ---------------------------------------------------------
    def test_hostile_worker(self):
        d = self.d
        t0 = time.time()
        # Set up with the real worker: a victim with a multi-chunk
        # password, a proxy target and a direct instance with none.
        victim, target, direct = uuid4(), uuid4(), uuid4()
        self.assertEqual(d.register(victim, "proj-v")[0], 201)
        self.assertEqual(d.register(target, "proj-t")[0], 201)
        self.assertEqual(d.register(direct, "proj-d",
                                    addresses=["127.0.0.1"])[0], 201)
        secret_pw = ("hostile-canary-" + "v" * 600).encode()
        hv = d.proxy_headers(victim, "proj-v")
        self.assertEqual(d.guest("POST", PW_PATH, body=secret_pw,
                                 headers=hv)[0], 200)
        before = self.snapshot((victim, target, direct))
        fds_before = self.settled_fd_count()
        if fds_before is not None:
            # Listeners, channel, store, pipes: never none at all.
            self.assertGreater(fds_before, 3)
        self.assertEqual(before[2][victim],
                         (200, {"password": secret_pw.decode()}))

        # The evil worker's orders.  The value would be accepted as is:
        # a broker that skipped a check would change the store.
        value = ("evil-value-" + "e" * 289).encode()      # 300 bytes
        digest = hashlib.blake2b(value, digest_size=32).hexdigest()
        digest8 = hashlib.blake2b(b"\xff" + value[1:],
                                  digest_size=32).hexdigest()
        canary = os.path.join(self.dir, "passed-fd-canary")
        with open(canary, "w") as f:
            f.write("an fd the broker must not keep\n")
        lines = [f"target {target}", "tenant proj-t",
                 f"sig {d.sign(target)}", f"victim {victim}",
                 f"value {value.decode()}",
                 f"digest {digest}", f"digest8 {digest8}",
                 f"passfd {canary}"]
        lines += [f"run {name}" for name, _, _ in SCENARIOS]
        with open(os.path.join(self.dir, "evil-scenarios"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(self.dir, "evil-next"), "w") as f:
            f.write("0\n")
        repoint(self.link, "evil-worker")

        real_pid = d.worker_pid()
        self.assertIsNotNone(real_pid)
        broker_pid = d.proc.pid
        pos = len(d.log())
        self.kill_our_worker(real_pid)

        n = len(SCENARIOS)
        if VALGRIND:
            print("    exec scenario NOT RUN under valgrind", flush=True)
        observed = []
        evil_pids = set()
        for k, (name, conn, reason) in enumerate(SCENARIOS):
            # Relayed by the broker from the worker's log pipe.
            m = self.wait_re(rf"^<\d>sealmd-worker: <\d>evil-worker"
                             rf"\[(\d+)\]: scenario "
                             rf"{re.escape(name)} \({k + 1} of {n}\)$", pos)
            self.assertIsNotNone(m, f"scenario {name} did not start:\n" +
                                 d.log()[pos - 2000:])
            pid = int(m.group(1))
            evil_pids.add(pid)
            if k == n - 1:
                repoint(self.link, "sealmd-worker")
            s = None
            if conn == OWNER:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(WAIT)
                s.connect(d.socket)
            elif conn is not None:
                s = socket.create_connection(("127.0.0.1", d.ports[conn]),
                                             timeout=WAIT)
            try:
                if reason is None:
                    m = self.wait_re(rf"^<\d>sealmd: worker {pid} killed "
                                     r"by seccomp \(SIGSYS\)$", pos)
                    got = m and "killed by seccomp (SIGSYS)"
                else:
                    m = self.wait_re(rf"^<\d>sealmd: killing worker {pid}: "
                                     r"(.*)$", pos)
                    got = m and m.group(1)
                    # Reap before the next start: one worker at a time.
                    self.wait_re(rf"^<\d>sealmd: worker {pid} killed by "
                                 r"signal 9", pos)
            finally:
                if s is not None:
                    s.close()
            observed.append((name, got))
            with self.subTest(scenario=name):
                self.assertIsNotNone(m, f"no kill for {name}:\n" +
                                     d.log()[pos:])
                if reason is not None:
                    self.assertRegex(got, rf"^{reason}$")
                    rm = re.fullmatch(reason, got)
                self.assertIsNone(d.proc.poll(), "the broker died")
                self.assertNotRegex(d.log()[pos:], rf"evil-worker\[{pid}\]: "
                                    r"scenario \S+: (NOT refused|broker "
                                    r"answered|broker sent|channel closed)")
                if name == "wrong-size":
                    self.assertEqual(int(rm.group(1)), int(rm.group(2)) + 4)
                if name == "waiters-full":
                    self.assertRegex(d.log()[pos:], rf"evil-worker\[{pid}\]"
                                     r": scenario waiters-full: 1024 "
                                     r"waiting, request 1025 refused with "
                                     r"503")
                if name in ("fd-with-init-done", "before-init",
                            "init-done-connid", "many-fds"):
                    # Refused before it ever counted as ready.
                    self.assertNotRegex(d.log()[pos:],
                                        rf"sealmd: worker {pid} ready")
                if name.startswith("fd-with") or name == "many-fds":
                    self.assertNotIn(canary, self.broker_fd_targets() or [])
            pos = m.end() if m else len(d.log())

        # The real worker again: same broker, serving, store unchanged.
        m = self.wait_re(r"^<\d>sealmd: worker (\d+) ready$", pos)
        self.assertIsNotNone(m, "the real worker did not come back:\n" +
                             d.log()[pos:])
        self.assertNotIn(int(m.group(1)), evil_pids)
        self.assertEqual(d.proc.pid, broker_pid)
        self.assertIsNone(d.proc.poll())

        st, hdrs, body = d.guest("GET", PW_PATH, headers=hv)
        self.assertEqual((st, body), (200, secret_pw))
        st, _, body = d.guest("GET", PW_PATH,
                              headers=d.proxy_headers(target, "proj-t"))
        self.assertEqual((st, body), (200, b""))
        st, _, body = d.guest("GET", PW_PATH, port=d.ports[DIRECT])
        self.assertEqual((st, body), (200, b""))
        after = self.snapshot((victim, target, direct))
        self.assertEqual(after[0], before[0], "the store changed")
        self.assertEqual(after[1:], before[1:])
        targets = self.broker_fd_targets()
        if targets is not None:
            self.assertNotIn(canary, targets)
            self.assertEqual(self.settled_fd_count(fds_before), fds_before,
                             "the broker leaks fds")

        # Nothing the evil workers sent reached the audit log as an op.
        run_log = d.log()
        self.assertNotRegex(run_log, rf"guest\.pw\.put[^\n]*{target}")
        self.assertNotRegex(run_log, r"owner\.pw\.clear")
        for name, got in observed:
            print(f"    {name:20s} -> {got}")
        print(f"    {n} scenarios in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    unittest.main()
