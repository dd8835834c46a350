# SPDX-License-Identifier: ISC
"""Database failover, as the README's HA recipe runs it: a PostgreSQL
primary with a synchronous streaming standby, both throwaway clusters on
unix sockets in temporary directories (tests/pgtest.sh), and one sealmd
whose conninfo lists both with target_session_attrs=read-write.

The primary is killed (SIGKILL, every process of it) in the middle of a
guest POST load and the standby promoted, as Patroni, repmgr or an
operator's pg_ctl promote would: every 200 reads back, a retry after a
503 gets 409 only when an earlier attempt committed (and then it is that
attempt's value that reads back), and writes succeed on the new primary
without a restart of sealmd.  Then the old primary comes back writable on
its old timeline (split brain in miniature): sealmd must not use it.
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from sealmd_fixture import (Daemon, TOP, pg_sql, remember_secret, uuid4)

PGTEST = os.path.join(TOP, "tests", "pgtest.sh")
PW = "/openstack/latest/password"
PROJECT = "proj-fo"


def pgtest(*args):
    subprocess.run([PGTEST, *args], check=True, timeout=120)


def until(what, seconds=60):
    """what() until it is true, for at most seconds; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        v = what()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Pair:
    """A primary (a) and its synchronous streaming standby (b)."""

    def __init__(self, case):
        """case: the test, which stops both clusters when it ends, set
        up or not."""
        self.a = tempfile.mkdtemp(prefix="sealmd-pga-")
        self.b = tempfile.mkdtemp(prefix="sealmd-pgb-")
        case.addCleanup(self.stop)
        pgtest("start", self.a)
        pgtest("standby", self.a, self.b)
        self.assert_sql(self.a, "SELECT state FROM pg_stat_replication",
                        "streaming")
        # Synchronous once it streams: from now a commit on a waits for b.
        pg_sql(self.a, "ALTER SYSTEM SET synchronous_standby_names = '*'")
        pg_sql(self.a, "SELECT pg_reload_conf()")
        self.assert_sql(self.a, "SELECT sync_state FROM "
                        "pg_stat_replication", "sync")
        self.db = f"fo{os.getpid()}"
        pg_sql(self.a, f"CREATE DATABASE {self.db}")
        self.conninfo = (f"host={self.a},{self.b} user=sealmd "
                         f"dbname={self.db} target_session_attrs=read-write")

    @staticmethod
    def assert_sql(host, sql, want, db="postgres"):
        got = until(lambda: pg_sql(host, sql, db).strip() == want)
        if not got:
            raise AssertionError(f"{host}: {sql}: not {want}: "
                                 f"{pg_sql(host, sql, db)!r}")

    def sql(self, host, sql):
        return pg_sql(host, sql, self.db).strip()

    @staticmethod
    def processes(host, sig):
        """Send sig to a cluster's postmaster and every process it
        started, by pid; the postmaster's pid."""
        with open(os.path.join(host, "data", "postmaster.pid")) as f:
            pm = int(f.readline())
        os.kill(pm, signal.SIGSTOP)     # it starts no process from now
        kids = []
        for p in os.listdir("/proc"):
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pm:
                kids.append(int(p))
        for pid in kids + [pm]:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return pm

    @staticmethod
    def kill(host):
        """SIGKILL a whole cluster, as a crash of its machine would; the
        time it was done."""
        pm = Pair.processes(host, signal.SIGKILL)
        t = time.monotonic()
        until(lambda: not alive(pm), 30)
        return t

    def stop(self):
        for h in (self.a, self.b):
            subprocess.run([PGTEST, "stop", h], timeout=120,
                           stderr=subprocess.DEVNULL)


class Failover(unittest.TestCase):

    def setUp(self):
        self.pair = Pair(self)
        self.d = Daemon(conninfo=self.pair.conninfo)
        self.addCleanup(self.d.cleanup)     # before the pair stops
        self.d.start()

    def post(self, iid, value):
        return self.d.guest("POST", PW, body=value.encode(),
                            headers=self.d.proxy_headers(iid, PROJECT))[0]

    def stored(self, iid):
        # A reader thread may still be reconnecting after the failover:
        # 503 (try again later) is retried for a while, as a client would.
        deadline = time.time() + 15
        while True:
            st, js = self.d.owner("GET",
                                  f"/servers/{iid}/os-server-password")
            if st != 503 or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(st, 200, iid)
        return js["password"]

    def fail_over(self):
        """Kill the primary, promote the standby: the time of the kill
        and how long the promotion took."""
        t_kill = Pair.kill(self.pair.a)
        pgtest("promote", self.pair.b)
        return t_kill, time.monotonic() - t_kill

    def test_failover_under_load(self):
        guests, per = 4, 150
        iids = [[uuid4() for _ in range(per)] for _ in range(guests)]
        for row in iids:
            for iid in row:
                self.assertEqual(self.d.register(iid, PROJECT)[0], 201)
        # iid: [(value, status, sent at)], in order, for every attempt.
        tries, stop = {}, threading.Event()
        lock = threading.Lock()

        def guest(row):
            """POST each instance's value; after a 503, again with a new
            one, as cloudbase-init retries (bounded)."""
            for iid in row:
                for n in range(200):
                    if stop.is_set() and n == 0:
                        return
                    v = remember_secret(f"fo-{iid}-{n}-{uuid4()}")
                    t = time.monotonic()
                    st = self.post(iid, v)
                    with lock:
                        tries.setdefault(iid, []).append((v, st, t))
                    if st != 503:
                        break
                    time.sleep(0.05)

        def acked(after=0.0):
            with lock:
                return sum(1 for a in tries.values() for _, st, t in a
                           if st == 200 and t > after)

        ts = [threading.Thread(target=guest, args=(row,)) for row in iids]
        for t in ts:
            t.start()
        try:
            self.assertTrue(until(lambda: acked() >= 30), "no load")
            t_kill, promote_s = self.fail_over()
            # Writes again on the new primary, sealmd as it was.
            self.assertTrue(until(lambda: acked(t_kill) >= 30, 90),
                            self.d.log())
        finally:
            stop.set()
            for t in ts:
                t.join(120)
        self.assertFalse(any(t.is_alive() for t in ts))
        self.assertIsNone(self.d.proc.poll(), "sealmd restarted")
        self.assertEqual(self.pair.sql(self.pair.b,
                                       "SELECT pg_is_in_recovery()"), "f")

        first = min(t for a in tries.values() for _, st, t in a
                    if st == 200 and t > t_kill)
        sys.stderr.write(f"\n  failover: first write {first - t_kill:.2f} s "
                         f"after the kill (promotion {promote_s:.2f} s); "
                         f"{acked()} values acknowledged, "
                         f"{sum(len(a) for a in tries.values())} POSTs\n")
        retried = 0
        for iid, a in tries.items():
            stats = [st for _, st, _ in a]
            self.assertTrue(set(stats) <= {200, 409, 503}, (iid, stats))
            # Only the last attempt may be other than 503.
            self.assertNotIn(200, stats[:-1], (iid, stats))
            self.assertNotIn(409, stats[:-1], (iid, stats))
            got = self.stored(iid)
            if stats[-1] == 200:
                self.assertEqual(got, a[-1][0], (iid, stats))
            elif stats[-1] == 409:
                # Only an earlier attempt, cut off but committed.
                retried += 1
                self.assertIn(got, [v for v, _, _ in a[:-1]], (iid, stats))
            else:
                self.assertIn(got, [""] + [v for v, _, _ in a],
                              (iid, stats))
        if retried:
            sys.stderr.write(f"  failover: {retried} retries answered 409 "
                             "with the cut-off attempt's value\n")

    def post_until(self, iid, value, seconds=60):
        """POST until an answer other than 503, bounded; that answer."""
        return until(lambda: (lambda st: st if st != 503 else None)(
            self.post(iid, value)), seconds)

    def test_former_primary_refused(self):
        """After a failover, the old primary comes back writable on its
        old timeline, first in the conninfo, and sealmd's connections
        are cut: it must connect to the new primary, not the old, and
        with the new one gone it writes nowhere (503)."""
        pair, d = self.pair, self.d
        ids = [uuid4() for _ in range(4)]
        for iid in ids:
            self.assertEqual(d.register(iid, PROJECT)[0], 201)
        self.assertEqual(self.post(ids[0], "before"), 200)
        self.fail_over()
        self.assertEqual(self.post_until(ids[1], "after"), 200, d.log())
        # Split brain in miniature: the old primary, writable again.
        pgtest("serve", pair.a, "-c", "synchronous_standby_names=''")
        self.assertEqual(pair.sql(pair.a, "SELECT pg_is_in_recovery()"),
                         "f")
        pair.sql(pair.b, "SELECT pg_terminate_backend(pid) FROM "
                 "pg_stat_activity WHERE application_name = 'sealmd'")
        v = remember_secret(f"fo-fence-{uuid4()}")
        self.assertEqual(self.post_until(ids[2], v), 200, d.log())
        self.assertEqual(self.stored(ids[2]), v)
        self.assertEqual(self.stored(ids[1]), "after")
        q = f"SELECT count(*) FROM password_chunks WHERE " \
            f"instance_id = '{ids[2]}'"
        self.assertEqual(pair.sql(pair.b, q), "1")
        self.assertEqual(pair.sql(pair.a, q), "0")
        self.assertTrue(d.wait_log("refused a writable server on timeline "
                                   "1: timeline 2 was seen"), d.log())
        # The new primary gone too: the old one is all there is.
        Pair.kill(pair.b)
        self.assertEqual(self.post(ids[3], "nowhere"), 503)
        q = "SELECT count(*) FROM password_chunks"
        self.assertEqual(pair.sql(pair.a, q), "1")      # "before" only
        st, js = d.owner("GET", "/status")
        self.assertEqual((st, js["store_state"]), (200, "unavailable"))

    def test_commit_without_standby(self):
        """The synchronous standby gone, a COMMIT waits for it, and the
        server's statement timeout does not end that wait: sealmd gives
        up on its own bound (503) instead of holding the request, and
        what it cut off commits once the standby is back, so the retry
        gets 409 and the first value reads back."""
        pair, d = self.pair, self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, PROJECT)[0], 201)
        Pair.kill(pair.b)
        v1 = remember_secret(f"fo-cut-{uuid4()}")
        self.assertEqual(self.post(iid, v1), 503)
        self.assertTrue(d.wait_log("no answer in time, connection "
                                   "dropped"), d.log())
        pgtest("serve", pair.b)
        Pair.assert_sql(pair.a, "SELECT sync_state FROM "
                        "pg_stat_replication", "sync")
        v2 = remember_secret(f"fo-retry-{uuid4()}")
        self.assertEqual(self.post_until(iid, v2), 409, d.log())
        self.assertEqual(self.stored(iid), v1)

    def test_sigterm_database_unreachable(self):
        """SIGTERM with a POST waiting on a COMMIT (no standby) and a GET
        waiting on a frozen primary: sealmd still exits 0 within the
        drain bound (5 s), and a little more for the exit itself."""
        pair, d = self.pair, self.d
        d.expect_worker_deaths()        # killed when the drain is over
        ids = [uuid4() for _ in range(2)]
        for iid in ids:
            self.assertEqual(d.register(iid, PROJECT)[0], 201)
        Pair.kill(pair.b)
        res = {}

        def ask(key, *args, **kw):
            """No answer is expected: the daemon stops first."""
            try:
                res[key] = d.guest(*args, **kw)[0]
            except OSError as e:
                res[key] = e

        post = threading.Thread(target=ask, args=(
            "post", "POST", PW), kwargs={
                "body": remember_secret(f"fo-t-{uuid4()}").encode(),
                "headers": d.proxy_headers(ids[0], PROJECT)})
        post.start()
        Pair.assert_sql(pair.a, "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event = 'SyncRep'", "1")
        pm = Pair.processes(pair.a, signal.SIGSTOP)
        try:
            get = threading.Thread(target=ask, args=("get", "GET", PW),
                                   kwargs={"headers": d.proxy_headers(
                                       ids[1], PROJECT)})
            get.start()
            time.sleep(0.5)
            self.assertEqual(res, {}, "answered with the database frozen")
            t0 = time.monotonic()
            d.proc.send_signal(signal.SIGTERM)
            try:
                rc = d.proc.wait(60)
            except subprocess.TimeoutExpired:
                rc = None
            took = time.monotonic() - t0
        finally:
            Pair.processes(pair.a, signal.SIGCONT)
            os.kill(pm, signal.SIGCONT)
        post.join(30)
        get.join(30)
        self.assertEqual(rc, 0, d.log())
        limit = 5 + max(1.0, 2 * d.start_seconds)
        self.assertLess(took, limit, f"exit took {took:.2f} s; started in "
                        f"{d.start_seconds:.2f} s\n" + d.log())
        self.assertTrue(d.wait_log("drain time over"), d.log())
        sys.stderr.write(f"\n  SIGTERM, database unreachable: exit 0 "
                         f"after {took:.2f} s\n")


if __name__ == "__main__":
    unittest.main()
