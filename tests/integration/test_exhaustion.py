# SPDX-License-Identifier: ISC
"""Resource exhaustion on the guest listener: slowloris, idle and half-open
connections against a legitimate client, the connection cap, the worker's
memory under load, and the per-source rate limit.

Every loop here is bounded in count and in time; traffic goes to 127.0.0.1
only (and from 127.0.0.2 for the rate limit's second source).
"""
import os
import random
import resource
import selectors
import socket
import subprocess
import threading
import time
import unittest

from sealmd_fixture import SANITIZE, VALGRIND, Daemon, SEALMD, canary, uuid4

PW = "/openstack/latest/password"
GET_ROOT = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

# worker/http.h and worker/worker.h: the caps on one guest connection.
HTTP_HEAD_MAX = 2 * 4 + 8192 + 2 + 16384 + 2   # leading CRLFs included
GUEST_BODY_MAX = 4096
GUEST_OUT_MAX = 16384
WCONN_SLOT = 496            # sizeof(struct wconn) on x86_64, Debian 12


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except PermissionError:
        # The worker is not dumpable: its /proc fd list is root's.
        if os.geteuid() != 0:
            raise unittest.SkipTest("not root: the worker's fds are "
                                    "root's to read")
        raise
    except OSError:
        return -1


class Slowloris(unittest.TestCase):
    """500 slowloris connections (one header byte per ~0.5 s each), 100
    idle ones and 100 half-open ones (SHUT_WR after a partial head) for
    about 12 s, while a legitimate client keeps asking.

    Limits: max_conns = 2048, well above the ~700 attack connections, so
    this test is about the phase timeouts, not the cap (that is
    ConnectionCap below).  header_timeout_ms = 3000: the worker's header
    deadline runs from a head's first byte and trickling does not extend
    it, so every slowloris connection must get 408 and a close within
    about 3 s; in a 12 s window each attacker slot is reaped and reopened
    three or four times, which shows the reaping works under load rather
    than once.  A legitimate client sends its head at once and is never
    near that deadline.
    """
    N_SLOW, N_IDLE, N_HALF = 500, 100, 100
    DURATION = 12.0
    HEADER_MS = 3000

    @classmethod
    def setUpClass(cls):
        cls.nofile = raise_nofile(4096)
        cls.d = Daemon(limits={"max_conns": 2048,
                               "header_timeout_ms": cls.HEADER_MS,
                               "body_timeout_ms": 3000,
                               "idle_timeout_ms": 3000}).start()
        cls.iid, cls.project = uuid4(), "proj-exhaust"
        assert cls.d.register(cls.iid, cls.project)[0] == 201
        cls.value = canary("exhaustion").encode()
        st, _, _ = cls.d.guest("POST", PW, body=cls.value,
                               headers=cls.d.proxy_headers(cls.iid,
                                                           cls.project))
        assert st == 200, st

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def legit_client(self, stop, results, timeout=2.0, count=400):
        """Fresh connections, ~10 requests/s, each with a timeout."""
        hdrs = self.d.proxy_headers(self.iid, self.project)
        n = 0
        while not stop.is_set() and n < count:
            n += 1
            t0 = time.monotonic()
            try:
                if n % 3 == 0:
                    with self.d.conn(timeout=timeout) as c:
                        c.send(GET_ROOT)
                        r = c.read_response(timeout=timeout)
                        ok = r is not None and r.status == 200
                        what = r and r.status
                else:
                    st, _, body = self.d.guest("GET", PW, headers=hdrs)
                    ok = (st, body) == (200, self.value)
                    what = st
            except OSError as e:
                ok, what = False, repr(e)
            results.append((ok, time.monotonic() - t0, what))
            time.sleep(0.1)

    def test_slowloris_idle_half_open(self):
        d = self.d
        wpid = d.worker_pid()
        self.assertIsNotNone(wpid)
        need = self.N_SLOW + self.N_IDLE + self.N_HALF + 200
        self.assertGreaterEqual(self.nofile, need,
                                f"RLIMIT_NOFILE {self.nofile} < {need}")
        time.sleep(0.3)
        base_rss, base_fds = vm_rss_kib(wpid), fd_count(wpid)
        # The latency limit under attack is relative to the same client's
        # latency before it, in this build on this machine now: 2 s, or
        # 50 times the quiet median where that is longer (ASan, valgrind,
        # a loaded host).
        quiet = []
        self.legit_client(threading.Event(), quiet, timeout=30, count=9)
        self.assertTrue(all(r[0] for r in quiet), quiet)
        quiet_median = sorted(r[1] for r in quiet)[len(quiet) // 2]
        lat_limit = max(2.0, 50 * quiet_median)

        sel = selectors.DefaultSelector()
        port = d.ports[0]
        # sock -> dict(kind, opened, first_byte, next_send, sent)
        conns = {}
        stats = {"slow_opened": 0, "slow_408": 0, "slow_closed": 0,
                 "idle_opened": 0, "idle_closed": 0, "half_opened": 0,
                 "half_closed": 0, "max_slow_life": 0.0, "refused": 0}
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "

        def open_one(kind, now):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                stats["refused"] += 1
                return
            s.setblocking(False)
            st = {"kind": kind, "opened": now, "first": None, "sent": 0,
                  "next": now + random.uniform(0, 0.5), "got": b""}
            if kind == "half":
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ab")
                s.shutdown(socket.SHUT_WR)
            conns[s] = st
            sel.register(s, selectors.EVENT_READ)
            stats[kind + "_opened"] += 1

        def closed(s, now):
            st = conns.pop(s)
            sel.unregister(s)
            s.close()
            stats[st["kind"] + "_closed"] += 1
            if st["kind"] == "slow":
                if st["got"].startswith(b"HTTP/1.1 408"):
                    stats["slow_408"] += 1
                if st["first"] is not None:
                    stats["max_slow_life"] = max(stats["max_slow_life"],
                                                 now - st["first"])
            # Keep the pressure on while the attack lasts.
            return st["kind"]

        stop = threading.Event()
        results = []
        legit = None
        rss_peak, fds_peak = base_rss, base_fds
        t_start = time.monotonic()
        end = t_start + self.DURATION
        reopen = []          # (when, kind)
        try:
            now = time.monotonic()
            for kind, n in (("slow", self.N_SLOW), ("idle", self.N_IDLE),
                            ("half", self.N_HALF)):
                for _ in range(n):
                    open_one(kind, now)
            legit = threading.Thread(target=self.legit_client,
                                     args=(stop, results, lat_limit),
                                     daemon=True)
            legit.start()
            next_sample = 0.0
            loops = 0
            while loops < 100000:
                loops += 1
                now = time.monotonic()
                if now >= end:
                    break
                for key, _ in sel.select(timeout=0.02):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if data:
                        conns[s]["got"] += data
                        continue
                    kind = closed(s, now)
                    # Half-open ones churn fast: reopen after a pause.
                    reopen.append((now + (0.5 if kind == "half" else 0.05),
                                   kind))
                for s, st in list(conns.items()):
                    if st["kind"] != "slow" or st["next"] > now:
                        continue
                    byte = head[st["sent"]:st["sent"] + 1] or b"a"
                    try:
                        s.send(byte)
                    except (BlockingIOError, OSError):
                        continue
                    if st["first"] is None:
                        st["first"] = now
                    st["sent"] += 1
                    st["next"] = now + 0.5
                due = [k for w, k in reopen if w <= now]
                reopen = [(w, k) for w, k in reopen if w > now]
                for kind in due:
                    open_one(kind, now)
                if now >= next_sample:
                    rss_peak = max(rss_peak, vm_rss_kib(wpid))
                    fds_peak = max(fds_peak, fd_count(wpid))
                    next_sample = now + 0.25
        finally:
            stop.set()
            if legit is not None:
                legit.join(10)
            for s in list(conns):
                sel.unregister(s)
                s.close()
            sel.close()

        took = time.monotonic() - t_start
        lat = [r[1] for r in results]
        bad = [r for r in results if not r[0]]
        print(f"\nslowloris: {took:.1f} s; {stats}; worker fds "
              f"{base_fds} -> peak {fds_peak}; VmRSS {base_rss} KiB -> "
              f"peak {rss_peak} KiB; legit {len(results)} requests, "
              f"{len(bad)} failed, max latency "
              f"{max(lat) if lat else 0:.3f} s (quiet median "
              f"{quiet_median:.4f} s, limit {lat_limit:.1f} s)", flush=True)

        # The legitimate client was served throughout, and promptly.
        self.assertGreaterEqual(len(results), 30)
        self.assertEqual(bad, [], "legitimate requests failed under load")
        self.assertLess(max(lat), lat_limit)
        # The load was real: the worker held the attack connections.
        self.assertGreaterEqual(fds_peak - base_fds, self.N_SLOW)
        self.assertEqual(stats["refused"], 0)
        # Slowloris connections were reaped: 408 and a close within the
        # header timeout (plus the 200 ms sweep and some scheduling).
        self.assertGreaterEqual(stats["slow_closed"], self.N_SLOW)
        self.assertGreaterEqual(stats["slow_408"], self.N_SLOW)
        self.assertLess(stats["max_slow_life"], self.HEADER_MS / 1000 + 1.5)
        # Idle connections were closed by the header timeout too, and
        # half-open ones at once (EOF before a complete head).
        self.assertGreaterEqual(stats["idle_closed"], self.N_IDLE)
        self.assertGreaterEqual(stats["half_closed"], self.N_HALF)

        # Memory bound.  Per connection the worker can hold at most its
        # slot (struct wconn), an input buffer capped at HTTP_HEAD_MAX +
        # GUEST_BODY_MAX and an output buffer capped at GUEST_OUT_MAX:
        #   per_conn = 496 + 24588 + 4096 + 16384 = 45564 bytes
        #   bound    = baseline VmRSS + peak connections * per_conn
        # Allocation is lazy, so the real figure is far below: measured on
        # this machine, a 1-byte slowloris costs ~16 KiB (the first read
        # reserves CONN_READ_MAX = 16 KiB; freed buffers are zeroed, so
        # they stay resident for reuse), i.e. ~12 MiB at ~700
        # connections, against a bound of ~30 MiB.  Exceeding the bound
        # means some buffer is not capped.
        per_conn = WCONN_SLOT + HTTP_HEAD_MAX + GUEST_BODY_MAX + GUEST_OUT_MAX
        peak_conns = fds_peak - base_fds
        bound_kib = base_rss + peak_conns * per_conn // 1024
        print(f"memory: peak {rss_peak} KiB, bound {bound_kib} KiB "
              f"({peak_conns} connections x {per_conn} B + {base_rss} KiB)",
              flush=True)
        if SANITIZE:
            # ASan keeps freed memory in quarantine and adds shadow pages:
            # the bound holds for the release build only.
            print("memory: bound NOT CHECKED in the ASan build", flush=True)
        else:
            self.assertLess(rss_peak, bound_kib)

        # Afterwards: every connection is released and nothing restarted.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and \
                fd_count(wpid) > base_fds + 2:
            time.sleep(0.1)
        self.assertLessEqual(fd_count(wpid), base_fds + 2,
                             "worker still holds attack connections")
        self.assertEqual(d.worker_pid(), wpid)
        self.assertNotRegex(d.log(), r"killing worker|worker \d+ (exited|"
                                     r"killed)")
        st, _, body = d.guest("GET", PW,
                              headers=d.proxy_headers(self.iid,
                                                      self.project))
        self.assertEqual((st, body), (200, self.value))


class ConnectionCap(unittest.TestCase):
    """max_conns = 20: the 21st connection gets 503 from the broker and is
    closed; closing some makes room again."""
    CAP = 20

    @classmethod
    def setUpClass(cls):
        # Long header timeout: the idle connections must outlive the test.
        cls.d = Daemon(limits={"max_conns": cls.CAP,
                               "header_timeout_ms": 20000,
                               "idle_timeout_ms": 20000}).start()
        time.sleep(0.2)
        # stdio, the channel and epoll: what the worker holds when idle.
        try:
            cls.base_fds = fd_count(cls.d.worker_pid())
        except unittest.SkipTest:
            cls.d.cleanup()     # tearDownClass does not run after a skip
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def fill(self):
        # Start from an empty worker: the previous test's connections may
        # still be on their way out.
        self.assertTrue(self.settle(0), "connections left over")
        held = []
        for _ in range(self.CAP):
            held.append(socket.create_connection(
                ("127.0.0.1", self.d.ports[0]), timeout=5))
        # The broker counts a connection once it has accepted it; let it.
        self.assertTrue(self.settle(self.CAP), "connections not accepted")
        return held

    def over_cap(self):
        """One more connection: (first answer, closed right after it)."""
        with self.d.conn(timeout=3) as c:
            c.send(GET_ROOT)
            r = c.read_response(timeout=3)
            if r is None:
                return None, c.eof
            return r, (c.closed(timeout=2) if r.status == 503 else None)

    def settle(self, want_conns):
        """Wait until the worker holds exactly want_conns connections."""
        wpid = self.d.worker_pid()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if fd_count(wpid) - self.base_fds == want_conns:
                return True
            time.sleep(0.05)
        return False

    def test_cap_503_then_recovers(self):
        if VALGRIND:
            self.skipTest("SKIPPED (loudly): timing-bound, and the broker "
                          "runs tens of times slower under valgrind")
        d = self.d
        held = self.fill()
        try:
            r, closed = self.over_cap()
            self.assertIsNotNone(r, "nothing from the 21st connection")
            self.assertEqual(r.status, 503)
            self.assertEqual(r.header("Connection"), "close")
            self.assertTrue(closed)
            self.assertTrue(d.wait_log(r"connection limit 20 reached", 2))
            # The held connections are still served.
            held[0].sendall(GET_ROOT)
            held[0].settimeout(3)
            self.assertTrue(held[0].recv(4096).startswith(
                b"HTTP/1.1 200 "))
            # Close five; the worker tells the broker, room comes back.
            for s in held[-5:]:
                s.close()
            del held[-5:]
            deadline = time.monotonic() + 3
            r = None
            while time.monotonic() < deadline:
                r, _ = self.over_cap()
                if r is not None and r.status == 200:
                    break
                time.sleep(0.1)
            self.assertIsNotNone(r)
            self.assertEqual(r.status, 200, "no room after closing five")
            # Five free slots (once that probe is gone): five more fit,
            # each is served, and the next is refused again.
            self.assertTrue(self.settle(self.CAP - 5))
            more = [socket.create_connection(("127.0.0.1", d.ports[0]),
                                             timeout=5) for _ in range(5)]
            held += more
            self.assertTrue(self.settle(self.CAP))
            for s in more:
                s.settimeout(3)
                s.sendall(GET_ROOT)
                self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 "))
            r, closed = self.over_cap()
            self.assertEqual(r and r.status, 503)
            self.assertTrue(closed)
        finally:
            for s in held:
                s.close()
        self.assertNotRegex(d.log(), r"killing worker")

    def test_owner_api_not_locked_out_by_guests(self):
        """Guests holding every one of max_conns must not lock the
        operator out of the owner API (sealmdctl status, get, clear): the
        owner socket has connections of its own (BROKER_OWNER_CONNS)."""
        held = self.fill()
        try:
            try:
                st, js = self.d.owner("GET", "/status")
            except OSError as e:
                st, js = None, repr(e)
            self.assertEqual(st, 200, f"owner API while guests hold every "
                             f"connection slot: {st} {js!r}")
            # ...and the guests are still held to their cap.
            r, closed = self.over_cap()
            self.assertEqual(r and r.status, 503)
        finally:
            for s in held:
                s.close()


class RateLimit(unittest.TestCase):
    """[limits] rate = requests per second per source, burst = bucket size:
    per peer address in direct mode, per verified instance in proxy mode
    (after the signature check).  Over the limit: 429."""
    RATE, BURST = 1, 4

    def test_config_accepts_rate(self):
        """A configuration that refuses rate = 5 is a regression, not a
        reason to skip the tests below (they once skipped on it)."""
        d = Daemon(limits={"rate": 5, "burst": 5})
        self.addCleanup(d.cleanup)
        r = subprocess.run([SEALMD, "-n", "-c", d.conf],
                           capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))

    def quick(self, d, n, source=None, headers=None):
        """n requests as fast as possible on fresh connections."""
        out = []
        for _ in range(n):
            st, _, _ = d.guest("GET", PW, source=source, headers=headers)
            out.append(st)
        return out

    def test_direct_mode_per_address(self):
        d = Daemon(guests=(("direct", "127.0.0.1"),),
                   limits={"rate": self.RATE, "burst": self.BURST}).start()
        try:
            a, b = uuid4(), uuid4()
            self.assertEqual(d.register(a, "proj-rl-a", ["127.0.0.1"])[0],
                             201)
            self.assertEqual(d.register(b, "proj-rl-b", ["127.0.0.2"])[0],
                             201)
            got = self.quick(d, self.BURST + 1, source="127.0.0.1")
            self.assertEqual(got, [200] * self.BURST + [429], got)
            # Another source address has its own bucket.
            self.assertEqual(self.quick(d, self.BURST, source="127.0.0.2"),
                             [200] * self.BURST)
            # '/' is answered without identification: not limited.
            st, _, _ = d.guest("GET", "/", source="127.0.0.1")
            self.assertEqual(st, 200)
            # One token comes back per second.
            time.sleep(1.0 / self.RATE + 0.3)
            self.assertEqual(self.quick(d, 1, source="127.0.0.1"), [200])
            self.assertEqual(self.quick(d, 1, source="127.0.0.1"), [429])
            self.assertRegex(d.audit_log(), r"op=guest\.\S+ .*status=429")
        finally:
            d.cleanup()

    def test_proxy_mode_per_instance_after_signature(self):
        d = Daemon(limits={"rate": self.RATE, "burst": self.BURST}).start()
        try:
            a, b = uuid4(), uuid4()
            self.assertEqual(d.register(a, "proj-rl-a")[0], 201)
            self.assertEqual(d.register(b, "proj-rl-b")[0], 201)
            ha = d.proxy_headers(a, "proj-rl-a")
            hb = d.proxy_headers(b, "proj-rl-b")
            # Forged requests for b are refused by the signature check
            # before the bucket: they cannot spend b's tokens.
            forged = d.proxy_headers(b, "proj-rl-b", sig="0" * 64)
            self.assertEqual(self.quick(d, 3 * self.BURST, headers=forged),
                             [403] * (3 * self.BURST))
            got = self.quick(d, self.BURST + 1, headers=ha)
            self.assertEqual(got, [200] * self.BURST + [429], got)
            # Same source address, other instance: its own bucket.
            self.assertEqual(self.quick(d, self.BURST, headers=hb),
                             [200] * self.BURST)
            # A POST over the limit is refused, and stores nothing.
            value = canary("ratelimit").encode()
            st, _, _ = d.guest("POST", PW, body=value, headers=ha)
            self.assertEqual(st, 429)
            self.assertEqual(d.owner("GET",
                                     f"/servers/{a}/os-server-password"),
                             (200, {"password": ""}))
            time.sleep(1.0 / self.RATE + 0.3)
            st, _, _ = d.guest("POST", PW, body=value, headers=ha)
            self.assertEqual(st, 200)
            self.assertEqual(d.owner("GET",
                                     f"/servers/{a}/os-server-password"),
                             (200, {"password": value.decode()}))
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
