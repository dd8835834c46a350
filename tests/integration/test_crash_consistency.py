# SPDX-License-Identifier: ISC
"""Crash consistency: kill -9 the broker (and, separately, the worker) at
random moments while 8 threads POST passwords for distinct instances, then
check that nothing acknowledged was lost and nothing partial exists.

Cycles: SEALMD_SOAK_CYCLES (default 25) for each of the two tests.  `make
soak` runs 500:
    SEALMD_SOAK_CYCLES=500 python3 tests/integration/run.py \\
        test_crash_consistency.py

Invariants, checked after every restart through the owner API (every
instance is read back while there are fewer than FULL_MAX, which holds
for the default 25 cycles; past that, this cycle's instances, 500 others
at random, and all of them every 25th cycle and at the end):
- every registration that got 201 exists;
- every POST that got 200 reads back byte-exact;
- a POST whose answer was lost (connection died) reads back either empty
  or byte-exact, never anything else; once seen after a broker crash, that
  outcome never changes in a later cycle;
- no instance was posted a value it did not get: every non-empty value is
  self-verifying (it embeds its own length and SHA-256 prefix), so a
  prefix, a torn chunk or a value of another instance is caught;
- the store opens without repair: the daemon starts on the crashed state
  directory as it was left, answers /status, and SQLite's integrity_check
  (read-only, while it runs) says ok.
"""
import hashlib
import http.client
import os
import random
import shutil
import signal
import sqlite3
import string
import tempfile
import threading
import time
import unittest

from sealmd_fixture import STORE_NAME, Daemon, remember_secret, uuid4

PW = "/openstack/latest/password"
CYCLES = int(os.environ.get("SEALMD_SOAK_CYCLES", "25"))
THREADS = 8
PER_THREAD = 12         # fresh instances per thread per cycle
FULL_MAX = 3000         # read back every instance while the ledger is small
ALPHABET = (string.ascii_letters + string.digits + "+/=").encode()


def make_value(rng):
    """v1:<len>:<sha256 of payload, 16 hex>:<payload>, 26..1020 bytes."""
    total = rng.randint(26, 1020)
    plen = total - len(b"v1:0000:0123456789abcdef:")
    payload = bytes(rng.choice(ALPHABET) for _ in range(plen))
    h = hashlib.sha256(payload).hexdigest()[:16].encode()
    v = b"v1:%04d:%s:%s" % (total, h, payload)
    assert len(v) == total
    return v


def value_ok(v):
    parts = v.split(b":", 3)
    if len(parts) != 4 or parts[0] != b"v1" or not parts[1].isdigit():
        return False
    return int(parts[1]) == len(v) and \
        hashlib.sha256(parts[3]).hexdigest()[:16].encode() == parts[2]


def gone(pid, timeout=5.0):
    """True once pid has exited (absent, or a zombie nobody reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                return True
        except OSError:         # gone between open and read: ESRCH
            return True
        time.sleep(0.02)
    return False


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


class Ledger:
    """What the client knows about every instance it touched."""

    def __init__(self):
        self.lock = threading.Lock()
        # iid -> dict(project, value, reg: "acked"|"unknown",
        #             post: None|"acked"|"unknown"|"refused:<st>"|
        #                   "seen-empty"|"seen-value")
        self.items = {}

    def add(self, iid, project, value, reg):
        with self.lock:
            self.items[iid] = {"project": project, "value": value,
                               "reg": reg, "post": None}

    def set(self, iid, post):
        with self.lock:
            self.items[iid]["post"] = post


class CrashBase(unittest.TestCase):
    # Once an unanswered POST reads back empty after a restart, it stays
    # empty: the process that might have committed it is gone.  Not so
    # when only the worker died: the broker may still finish the write.
    STABLE_EMPTY = True

    def setUp(self):
        self.rng = random.Random(os.environ.get("SEALMD_SOAK_SEED") or
                                 time.time_ns())
        self.state = tempfile.mkdtemp(prefix="sealmd-crash-")
        self.ledger = Ledger()
        self.d = None
        self.remembered = 0
        self.mid_flight = 0     # cycles whose kill landed mid-posting

    def tearDown(self):
        if self.d is not None:
            self.d.cleanup()
        shutil.rmtree(self.state, ignore_errors=True)

    def start(self):
        self.d = Daemon(state=self.state, keep_state=True).start()
        return self.d

    # --- load --------------------------------------------------------------
    def register_batch(self, n):
        """Fresh instances, registered before the posts start."""
        out = []
        for _ in range(n):
            iid, project = uuid4(), f"proj-crash-{self.rng.randrange(1000)}"
            st, _ = self.d.register(iid, project)
            self.assertEqual(st, 201)
            value = make_value(self.rng)
            if self.remembered < 20:
                remember_secret(value)
                self.remembered += 1
            self.ledger.add(iid, project, value, "acked")
            out.append(iid)
        return out

    def poster(self, port, iids, stop, acked_after, restarted):
        for iid in iids:
            if stop.is_set():
                return
            it = self.ledger.items[iid]
            self.ledger.set(iid, "unknown")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("POST", PW, body=it["value"],
                             headers=self.d.proxy_headers(iid,
                                                          it["project"]))
                st = conn.getresponse().status
            except (OSError, http.client.HTTPException):
                st = None
            finally:
                conn.close()
            if st == 200:
                self.ledger.set(iid, "acked")
                if restarted.is_set():
                    acked_after.append(iid)
            elif st is not None:
                self.ledger.set(iid, f"refused:{st}")
            if st is None:
                time.sleep(0.01)

    def registrar(self, stop, n):
        """Registrations racing the kill: 201 must survive it."""
        for _ in range(n):
            if stop.is_set():
                return
            iid, project = uuid4(), "proj-crash-reg"
            self.ledger.add(iid, project, b"", "unknown")
            try:
                st, _ = self.d.register(iid, project)
            except (OSError, http.client.HTTPException, ValueError):
                st = None
            if st == 201:
                with self.ledger.lock:
                    self.ledger.items[iid]["reg"] = "acked"

    # --- invariants ----------------------------------------------------------
    def check_store_opens(self, d):
        st, js = d.owner("GET", "/status")
        self.assertEqual(st, 200, js)
        self.assertEqual(js["store"], STORE_NAME)
        if STORE_NAME != "sqlite":
            return      # PostgreSQL's own recovery; the reads say the rest
        con = sqlite3.connect(f"file:{d.db}?mode=ro", uri=True, timeout=10)
        try:
            res = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
        self.assertEqual(res, [("ok",)], f"integrity_check: {res}")

    def check(self, cycle, iids):
        d = self.d
        st, listing = d.list_instances()
        self.assertEqual(st, 200)
        present = {e["id"] for e in listing}
        with self.ledger.lock:
            items = dict(self.ledger.items)
        lost = [i for i, it in items.items()
                if it["reg"] == "acked" and i not in present]
        self.assertEqual(lost, [], f"cycle {cycle}: acknowledged "
                         f"registrations lost")
        for iid in iids:
            it = items[iid]
            if iid not in present:
                self.assertEqual(it["reg"], "unknown")
                continue
            st, js = d.owner("GET", f"/servers/{iid}/os-server-password")
            self.assertEqual(st, 200, f"cycle {cycle}: {iid}: {st} {js}")
            got = js["password"].encode()
            post = it["post"]
            where = f"cycle {cycle}: instance {iid} (post {post})"
            if got:
                self.assertTrue(value_ok(got), f"{where}: partial or "
                                f"foreign value of {len(got)} bytes")
            if post in ("acked", "seen-value"):
                self.assertEqual(got, it["value"],
                                 f"{where}: acknowledged value lost")
            elif post == "unknown" or (post == "seen-empty" and
                                       not self.STABLE_EMPTY):
                self.assertIn(got, (b"", it["value"]), where)
                self.ledger.set(iid, "seen-value" if got else "seen-empty")
            else:           # never posted, refused, or seen empty
                self.assertEqual(got, b"", where)

    def sample(self, fresh, cycle):
        """What to read back after a restart: everything while the ledger
        is small (the default 25 cycles stay below FULL_MAX), otherwise
        this cycle's instances, a random 500 of the rest, and everything
        every 25th cycle (for `make soak`)."""
        with self.ledger.lock:
            old = [i for i in self.ledger.items if i not in set(fresh)]
        if len(old) + len(fresh) <= FULL_MAX or cycle % 25 == 0:
            return list(fresh) + old
        return list(fresh) + self.rng.sample(old, min(500, len(old)))

    def run_posts(self, kill, port):
        """8 posting threads and a registrar; kill() is called at a random
        moment; returns (this cycle's iids, acked after restart)."""
        batches = [self.register_batch(PER_THREAD) for _ in range(THREADS)]
        stop, restarted = threading.Event(), threading.Event()
        acked_after = []
        before = set(self.ledger.items)
        threads = [threading.Thread(target=self.poster,
                                    args=(port, b, stop, acked_after,
                                          restarted), daemon=True)
                   for b in batches]
        threads.append(threading.Thread(target=self.registrar,
                                        args=(stop, 10), daemon=True))
        mine = [i for b in batches for i in b]
        # The random moment: once k of this cycle's POSTs have answered,
        # k drawn uniformly, so kills land anywhere in the posting.
        k = self.rng.randrange(len(mine))
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.ledger.lock:
                states = [self.ledger.items[i]["post"] for i in mine]
            if sum(1 for p in states if p not in (None, "unknown")) >= k:
                break
            time.sleep(0.001)
        if "unknown" in states or None in states:
            self.mid_flight += 1
        kill(stop, restarted)
        stop.set()
        for t in threads:
            t.join(15)
            self.assertFalse(t.is_alive(), "a client thread hangs")
        fresh = [i for i in self.ledger.items if i not in before] + \
            [i for b in batches for i in b]
        return fresh, acked_after


class KillBroker(CrashBase):
    def test_kill_broker(self):
        t0 = time.monotonic()
        posted = acked = 0
        for cycle in range(CYCLES):
            d = self.start()
            self.check_store_opens(d)
            if cycle > 0:
                self.check(cycle, self.sample(fresh, cycle))
            wpid = d.worker_pid()
            self.assertEqual(comm(wpid), "sealmd-worker")
            bpid = d.proc.pid

            def kill(stop, restarted):
                d.expect_exit()
                os.kill(bpid, signal.SIGKILL)
                d.proc.wait(10)
                # The worker's channel hits EOF: it must exit by itself.
                self.assertTrue(gone(wpid), f"cycle {cycle}: worker {wpid} "
                                f"outlived its broker")
            fresh, _ = self.run_posts(kill, d.ports[0])
            d.stop()
            self.d = None
            posted += sum(1 for i in fresh
                          if self.ledger.items[i]["post"] is not None)
        d = self.start()
        self.check_store_opens(d)
        self.check("final", list(self.ledger.items))
        acked = sum(1 for it in self.ledger.items.values()
                    if it["post"] in ("acked", "seen-value"))
        print(f"\nkill -9 broker: {CYCLES} cycles ({self.mid_flight} "
              f"killed mid-posting), {posted} posts, {acked} stored, "
              f"{time.monotonic() - t0:.1f} s", flush=True)
        self.assertGreater(acked, CYCLES)
        self.assertGreaterEqual(self.mid_flight, CYCLES // 2,
                                "kills did not land while posting")


class KillWorker(CrashBase):
    STABLE_EMPTY = False

    def test_kill_worker(self):
        t0 = time.monotonic()
        d = self.start().expect_worker_deaths()
        served_after = 0
        for cycle in range(CYCLES):
            wpid = d.worker_pid()
            self.assertEqual(comm(wpid), "sealmd-worker")

            def kill(stop, restarted):
                os.kill(wpid, signal.SIGKILL)
                self.assertTrue(gone(wpid), f"worker {wpid} still there")
                # The broker starts a new one (backoff at most 1 s).
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    new = d.worker_pid()
                    if new is not None and new != wpid:
                        break
                    time.sleep(0.02)
                self.assertNotEqual(d.worker_pid(), wpid,
                                    f"cycle {cycle}: no new worker")
                restarted.set()
                # Let the posters run on the new worker for a while.
                time.sleep(0.3)
            fresh, acked_after = self.run_posts(kill, d.ports[0])
            self.assertTrue(d.wait_log(rf"worker {wpid} killed by signal 9",
                                       2))
            served_after += len(acked_after)
            # Service continues: fresh instances post fine on the new
            # worker, from 8 threads at once.
            again = self.register_batch(THREADS)
            outs = [None] * THREADS

            def post(k, iid):
                it = self.ledger.items[iid]
                outs[k] = d.guest("POST", PW, body=it["value"],
                                  headers=d.proxy_headers(iid,
                                                          it["project"]))[0]
            ts = [threading.Thread(target=post, args=(k, iid))
                  for k, iid in enumerate(again)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(15)
            self.assertEqual(outs, [200] * THREADS, f"cycle {cycle}")
            for iid in again:
                self.ledger.set(iid, "acked")
            self.check(cycle, self.sample(fresh + again, cycle))
            self.check_store_opens(d)
            # Service continues on the same listener.
            st, _, _ = d.guest("GET", "/")
            self.assertEqual(st, 200)
        self.check("final", list(self.ledger.items))
        acked = sum(1 for it in self.ledger.items.values()
                    if it["post"] in ("acked", "seen-value"))
        print(f"\nkill -9 worker: {CYCLES} cycles ({self.mid_flight} "
              f"killed mid-posting), {acked} stored, {served_after} "
              f"acknowledged while the posters ran on a restarted worker, "
              f"{time.monotonic() - t0:.1f} s", flush=True)
        self.assertGreaterEqual(self.mid_flight, CYCLES // 2,
                                "kills did not land while posting")


if __name__ == "__main__":
    unittest.main()
