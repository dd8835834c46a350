# SPDX-License-Identifier: ISC
"""Several nodes on one PostgreSQL store: two real sealmd daemons share a
throwaway cluster (tests/pgtest.sh) started for this module.

What a shared store promises: a value posted on one node reads back on the
other; set-once holds across nodes, whatever the timing; an owner's clear
on one node is seen on the other at once; a database restart under load
gives only 200s and 503s, every 200 reads back afterwards, and sealmd
reconnects by itself.
"""
import json
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

from sealmd_fixture import (BUILD, Daemon, SEALMD, TOP, canary, cleanup_all,
                            pg_bin, pg_sql, remember_secret, uuid4)

PGTEST = os.path.join(TOP, "tests", "pgtest.sh")
PW = "/openstack/latest/password"
PROJECT = "proj-pg"


class Cluster:
    """The module's throwaway cluster; one fresh database per test."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sealmd-pg-")
        subprocess.run([PGTEST, "start", self.dir], check=True, timeout=120)
        self.n = 0

    def sql(self, sql, db="postgres"):
        return pg_sql(self.dir, sql, db)

    def newdb(self):
        self.n += 1
        name = f"it{os.getpid()}_{self.n}"
        self.sql(f"CREATE DATABASE {name}")
        return f"host={self.dir} user=sealmd dbname={name}"

    def restart(self):
        subprocess.run([PGTEST, "restart", self.dir], check=True,
                       timeout=120)

    def stop(self):
        subprocess.run([PGTEST, "stop", self.dir], timeout=120)


CLUSTER = None


def setUpModule():
    global CLUSTER
    CLUSTER = Cluster()


def tearDownModule():
    if CLUSTER is not None:
        CLUSTER.stop()


class TwoNodes(unittest.TestCase):

    def setUp(self):
        self.conninfo = CLUSTER.newdb()
        self.a = Daemon(conninfo=self.conninfo).start()
        self.b = Daemon(conninfo=self.conninfo, share=self.a).start()

    def tearDown(self):
        cleanup_all(self.a, self.b)

    def fresh(self):
        iid = uuid4()
        self.assertIn(self.a.register(iid, PROJECT)[0], (200, 201))
        return iid

    def post(self, node, iid, value):
        return node.guest("POST", PW, body=value.encode(),
                          headers=node.proxy_headers(iid, PROJECT))[0]

    def get(self, node, iid):
        st, _, body = node.guest("GET", PW,
                                 headers=node.proxy_headers(iid, PROJECT))
        return st, body.decode()

    def test_post_on_a_reads_on_b(self):
        iid = self.fresh()
        v = canary("pg-ab")
        self.assertEqual(self.post(self.a, iid, v), 200)
        self.assertEqual(self.get(self.b, iid), (200, v))
        st, js = self.b.owner("GET", f"/servers/{iid}/os-server-password")
        self.assertEqual((st, js["password"]), (200, v))
        self.assertIn("store postgresql", self.a.log() + "postgresql")
        st, js = self.b.owner("GET", "/status")
        self.assertEqual((st, js["store"], js["store_state"]),
                         (200, "postgresql", "ok"))

    def counts(self, node):
        st, js = node.owner("GET", "/status")
        self.assertEqual(st, 200)
        st, text = node.owner("GET", "/metrics")
        self.assertEqual(st, 200)
        m = re.search(rb"^sealmd_instances_registered (\d+)$", text, re.M)
        self.assertIsNotNone(m, "no instance gauge in /metrics")
        self.assertEqual(int(m.group(1)), js["instances"])
        return js["instances"], js["passwords"]

    def test_counts_follow_writes_on_both_nodes(self):
        """The counts GET /status and GET /metrics give, on either node,
        follow what both nodes write: single and batch registrations, a
        value, a delete with its value (kept by the store, not by a
        node, so a per-node count would fail here)."""
        db = self.conninfo.rsplit("=", 1)[1]
        ids = [self.fresh() for _ in range(3)]
        batch = [uuid4() for _ in range(5)]
        body = "".join(json.dumps({"id": i, "project_id": PROJECT}) + "\n"
                       for i in batch)
        st, _, _ = self.b.owner_full(
            "POST", "/instances:batch", body=body,
            headers={"Content-Type": "application/x-ndjson"})
        self.assertEqual(st, 200)
        self.assertEqual(self.post(self.b, ids[0], canary("pg-n")), 200)
        self.assertEqual(self.post(self.a, batch[0], canary("pg-n")), 200)
        self.assertEqual(self.b.owner("DELETE", f"/instances/{ids[1]}")[0],
                         204)
        self.assertEqual(self.a.owner("DELETE", f"/instances/{batch[0]}")[0],
                         204)
        want = (int(CLUSTER.sql("SELECT count(*) FROM instances", db=db)),
                int(CLUSTER.sql("SELECT count(DISTINCT instance_id) FROM "
                                "password_chunks", db=db)))
        self.assertEqual(want, (6, 1))
        self.assertEqual(self.counts(self.a), want)
        self.assertEqual(self.counts(self.b), want)

    def test_set_once_across_nodes(self):
        """50 rounds of simultaneous POSTs on A and B for one fresh
        instance: exactly one 200 and one 409 each round."""
        for rnd in range(50):
            iid = self.fresh()
            vals = [remember_secret(f"pg-race-{rnd}-{n}-{uuid4()}")
                    for n in ("a", "b")]
            res = [None, None]
            gate = threading.Barrier(2, timeout=10)

            def go(i, node):
                gate.wait()
                res[i] = self.post(node, iid, vals[i])

            ts = [threading.Thread(target=go, args=(0, self.a)),
                  threading.Thread(target=go, args=(1, self.b))]
            for t in ts:
                t.start()
            for t in ts:
                t.join(30)
            self.assertEqual(sorted(res), [200, 409], f"round {rnd}")
            winner = vals[res.index(200)]
            self.assertEqual(self.get(self.a, iid), (200, winner))
            self.assertEqual(self.get(self.b, iid), (200, winner))

    def test_owner_clear_on_b_seen_on_a(self):
        iid = self.fresh()
        v = canary("pg-clear")
        self.assertEqual(self.post(self.a, iid, v), 200)
        self.assertEqual(self.get(self.a, iid), (200, v))
        st, _ = self.b.owner("DELETE", f"/servers/{iid}/os-server-password")
        self.assertEqual(st, 204)
        self.assertEqual(self.get(self.a, iid), (200, ""))
        st, js = self.a.owner("GET", f"/servers/{iid}/os-server-password")
        self.assertEqual((st, js["password"]), (200, ""))
        # Cleared, the instance takes a new value again, on either node.
        v2 = canary("pg-clear2")
        self.assertEqual(self.post(self.a, iid, v2), 200)
        self.assertEqual(self.get(self.b, iid), (200, v2))

    def test_waiter_on_a_gets_a_post_on_b(self):
        """An owner waiting on A (?wait=600) gets the value a guest posts
        on B, long before its deadline: B's commit tells A (NOTIFY), the
        only way A can learn of it, since nothing polls on a timer
        (test_waiters: no_timed_poll_on_a_shared_store)."""
        iid = self.fresh()
        v = canary("pg-wait")
        res = {}

        def wait():
            res["a"] = self.a.owner(
                "GET", f"/servers/{iid}/os-server-password?wait=600")

        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.5)
        self.assertNotIn("a", res, "answered before the POST")
        self.assertEqual(self.post(self.b, iid, v), 200)
        t.join(60)
        self.assertFalse(t.is_alive(), "the waiter on A was not woken")
        self.assertEqual(res["a"], (200, {"password": v}))

    def test_registration_on_b_seen_on_a(self):
        iid = uuid4()
        self.assertIn(self.b.register(iid, PROJECT, ["10.9.8.7"])[0],
                      (200, 201))
        st, js = self.a.owner("GET", f"/instances/{iid}")
        self.assertEqual((st, js["addresses"]), (200, ["10.9.8.7"]))
        # The address is one store's: another instance cannot take it.
        self.assertEqual(self.a.register(uuid4(), PROJECT,
                                         ["10.9.8.7"])[0], 409)

    def test_restart_under_load(self):
        """PostgreSQL restarts in the middle of a POST load on A: only
        200s and 503s, every 200 reads back afterwards, and A reconnects
        without a restart of its own."""
        iids = [self.fresh() for _ in range(300)]
        acked, seen, stop = {}, set(), threading.Event()

        def load():
            for iid in iids:
                if stop.is_set():
                    break
                v = remember_secret(f"pg-load-{uuid4()}")
                st = self.post(self.a, iid, v)
                seen.add(st)
                if st == 200:
                    acked[iid] = v

        t = threading.Thread(target=load)
        t.start()
        deadline = time.time() + 30
        while len(acked) < 20 and time.time() < deadline:
            time.sleep(0.01)
        CLUSTER.restart()
        t.join(120)
        stop.set()
        self.assertFalse(t.is_alive())
        self.assertTrue(seen <= {200, 503}, seen)
        self.assertGreater(len(acked), 20)
        # Back by itself: poll the owner status for a bounded time.
        deadline = time.time() + 30
        while time.time() < deadline:
            st, js = self.a.owner("GET", "/status")
            if st == 200 and js.get("store_state") == "ok":
                break
            time.sleep(0.2)
        # Each reader thread finds its own session dead on its next read
        # and may answer 503 (retry later) while it reconnects, with a
        # backoff: read back as a client would, retrying 503 for a while.
        for iid, v in acked.items():
            for node in (self.a, self.b):
                deadline = time.time() + 15
                got = self.get(node, iid)
                while got[0] == 503 and time.time() < deadline:
                    time.sleep(0.2)
                    got = self.get(node, iid)
                self.assertEqual(got, (200, v), iid)
        self.assertTrue(self.a.wait_log("store postgresql: connected "
                                        "again", 5), self.a.log())



def until(node, pattern, timeout=30):
    """The first match of pattern in node's log, within timeout s."""
    for _ in range(int(timeout * 20)):
        m = re.search(pattern, node.log())
        if m:
            return m
        time.sleep(0.05)
    return None


class ManyWaitersAcrossNodes(unittest.TestCase):
    """More owners wait on node A than one resync turn reads (64), each
    for its own instance, and a guest posts on node B for the 36 that
    come after the first 64 in A's table: B's commits tell A, which must
    read each of those waiters' values, not only the first 64.  An honest
    worker holds at most 32 owner
    connections, so the hostile worker (tests/evil, scenario
    waiters-shared) makes the 100 waiting GETs on one connection."""
    N = 100
    FIRST = 64          # WAITERS_POLL_MAX: left without a value

    def setUp(self):
        evil = os.path.join(BUILD, "tests", "evil-worker")
        if not os.access(evil, os.X_OK):
            self.fail(f"{evil} not built: make {evil}")
        state = tempfile.mkdtemp(prefix="sealmd-pgwait-")
        self.dir = os.path.join(state, "evil")
        os.mkdir(self.dir, 0o700)
        shutil.copy2(evil, os.path.join(self.dir, "evil-worker"))
        shutil.copy2(os.path.join(BUILD, "sealmd-worker"),
                     os.path.join(self.dir, "sealmd-worker"))
        self.link = os.path.join(self.dir, "worker")
        os.symlink("sealmd-worker", self.link)
        ci = CLUSTER.newdb()
        self.a = Daemon(conninfo=ci, state=state, worker_path=self.link)
        # The hostile worker is swapped in, and killed when it is done.
        self.a.expect_worker_deaths().start()
        self.b = Daemon(conninfo=ci, share=self.a).start()

    def tearDown(self):
        cleanup_all(self.a, self.b)

    def repoint(self, target):
        tmp = self.link + ".new"
        os.symlink(target, tmp)
        os.replace(tmp, self.link)

    def test_more_than_a_poll_turn_all_served(self):
        a, b = self.a, self.b
        base = uuid4()[:24]
        ids = [f"{base}{i:012x}" for i in range(self.N)]
        for iid in ids:
            self.assertEqual(b.register(iid, PROJECT)[0], 201)
        with open(os.path.join(self.dir, "evil-scenarios"), "w") as f:
            f.write(f"waitbase {base}\nwaitn {self.N}\n"
                    f"waitgot {self.N - self.FIRST}\nrun waiters-shared\n")
        with open(os.path.join(self.dir, "evil-next"), "w") as f:
            f.write("0\n")
        self.repoint("evil-worker")
        old = a.worker_pid()
        with open(f"/proc/{old}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        self.assertEqual(ppid, a.launcher_pid(), "not our daemon's worker")
        os.kill(old, signal.SIGKILL)
        m = until(a, r"evil-worker\[(\d+)\]: scenario waiters-shared "
                  r"\(1 of 1\)")
        self.assertIsNotNone(m, a.log())
        pid = m.group(1)
        self.repoint("sealmd-worker")
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(a.socket)     # the owner connection it waits on
            self.assertIsNotNone(until(
                a, rf"evil-worker\[{pid}\]: scenario waiters-shared: "
                rf"{self.N} waiting"), a.log())
            for iid in ids[self.FIRST:]:
                self.assertEqual(b.guest("POST", PW, body=f"v-{iid}".encode(),
                                         headers=b.proxy_headers(
                                             iid, PROJECT))[0], 200)
            m = until(a, rf"evil-worker\[{pid}\]: scenario waiters-shared: "
                      rf"(\d+) of {self.N - self.FIRST} answered", 60)
            self.assertIsNotNone(m, a.log())
            self.assertEqual(int(m.group(1)), self.N - self.FIRST)
        self.assertIsNotNone(until(a, rf"killing worker {pid}: unknown "
                                   r"message type 9999"), a.log())
        self.assertIsNotNone(until(a, rf"worker (?!{pid}\b)(?!{old}\b)"
                                   r"\d+ ready"), a.log())


class HeldLock:
    """A psql session holding an exclusive lock on table until release()
    writes COMMIT to it: no timing involved."""

    def __init__(self, db, table):
        self.p = subprocess.Popen(
            [pg_bin("psql"), "-h", CLUSTER.dir, "-U", "sealmd", "-d", db,
             "-q"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.p.stdin.write(f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE "
                           "MODE;\n".encode())
        self.p.stdin.flush()
        deadline = time.time() + 10
        while time.time() < deadline and CLUSTER.sql(
                "SELECT count(*) FROM pg_locks WHERE mode = "
                f"'AccessExclusiveLock' AND relation = '{table}'::regclass",
                db=db) != "1\n":
            time.sleep(0.05)

    def release(self):
        self.p.stdin.write(b"COMMIT;\n")
        self.p.stdin.close()
        self.p.wait(30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.p.stdin.closed:
            self.p.stdin.close()
        self.p.wait(30)


def wait_blocked(db, n=1):
    """Until n sessions of db wait on a lock."""
    deadline = time.time() + 10
    while time.time() < deadline and CLUSTER.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            f"'{db}' AND wait_event_type = 'Lock'") != f"{n}\n":
        time.sleep(0.05)


class SlowDatabase(unittest.TestCase):
    """A read stuck behind a lock held in the database does not stall the
    event loop: new connections, and reads of other tables on the other
    reader threads, are answered meanwhile.  Each test has a daemon on a
    database of its own (db), with one instance (iid) registered."""

    def setUp(self):
        conninfo = CLUSTER.newdb()
        self.db = conninfo.rsplit("=", 1)[1]
        self.d = Daemon(conninfo=conninfo, limits={"max_conns": 2000})
        self.d.start()
        self.iid = uuid4()
        self.assertIn(self.d.register(self.iid, PROJECT)[0], (200, 201))
        self.h = self.d.proxy_headers(self.iid, PROJECT)

    def tearDown(self):
        self.d.stop()
        self.d.cleanup()

    def test_stuck_read_stalls_nothing_else(self):
        d = self.d
        v = canary("pg-slow")
        self.assertEqual(d.guest("POST", PW, body=v.encode(),
                                 headers=self.h)[0], 200)
        with HeldLock(self.db, "password_chunks") as lock:
            res = {}
            t = threading.Thread(target=lambda: res.update(
                get=d.guest("GET", PW, headers=self.h)))
            t.start()
            wait_blocked(self.db)
            # Meanwhile: a new connection, and a read of other tables.
            st, _, _ = d.guest("GET", "/")
            self.assertEqual(st, 200)
            st, js = d.owner("GET", f"/instances/{self.iid}")
            self.assertEqual((st, js["project_id"]), (200, PROJECT))
            self.assertNotIn("get", res, "answered before the lock went")
            lock.release()
            t.join(30)
        self.assertEqual((res["get"][0], res["get"][2]), (200, v.encode()))

    def test_statement_timeout_gives_503(self):
        """A read that waits on the database longer than the statement
        timeout (5 s) is answered 503, not held for ever."""
        d = self.d
        with HeldLock(self.db, "password_chunks") as lock:
            self.assertEqual(d.guest("GET", PW, headers=self.h)[0], 503)
            self.assertTrue(d.wait_log("statement timeout", 5), d.log())
            lock.release()
        self.assertEqual(d.guest("GET", PW, headers=self.h)[0], 200)

    def test_reader_queue_full_gives_503(self):
        """With every reader stuck, requests beyond the reader queue
        (1024) are answered 503 at once; the queued ones are served when
        the database is back."""
        n = 1100
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n + 200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 200, hard),
                                                        hard))
        d, socks, status = self.d, [], {}
        sel = selectors.DefaultSelector()
        req = (f"GET {PW} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in self.h.items())
               + "\r\n").encode()

        def collect(until_n, seconds):
            deadline = time.time() + seconds
            while len(status) < until_n and time.time() < deadline:
                for key, _ in sel.select(0.2):
                    try:
                        data = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    key.data.extend(data)
                    if not data:
                        sel.unregister(key.fileobj)
                        status[key.fileobj] = int(
                            bytes(key.data).split(b" ", 2)[1])

        try:
            with HeldLock(self.db, "password_chunks") as lock:
                for _ in range(n):
                    s = socket.create_connection(("127.0.0.1", d.ports[0]),
                                                 timeout=10)
                    s.sendall(req)
                    s.setblocking(False)
                    socks.append(s)
                    sel.register(s, selectors.EVENT_READ, bytearray())
                # 4 stuck on the lock, 1024 queued: the rest refused now.
                collect(n - 4 - 1024, 30)
                early = list(status.values())
                self.assertGreaterEqual(len(early), n - 4 - 1024)
                self.assertEqual(set(early), {503})
                lock.release()
            collect(n, 60)
            self.assertEqual(len(status), n)
            late = list(status.values())
            self.assertTrue(set(late) <= {200, 503}, set(late))
            self.assertGreaterEqual(late.count(200), 1000)
            self.assertNotIn("not read ahead", d.log())
        finally:
            for s in socks:
                s.close()

    def test_refused_requests_read_nothing(self):
        """A request refused before its lookup (a bad signature) is
        answered while every lookup waits on the database."""
        d = self.d
        with HeldLock(self.db, "instances") as lock:
            res = {}
            t = threading.Thread(target=lambda: res.update(
                get=d.guest("GET", PW, headers=self.h)))
            t.start()
            wait_blocked(self.db)
            bad = d.proxy_headers(self.iid, PROJECT, sig="0" * 64)
            self.assertEqual(d.guest("GET", PW, headers=bad)[0], 403)
            self.assertNotIn("get", res)
            lock.release()
            t.join(30)
        self.assertEqual(res["get"][0], 200)


class Reload(unittest.TestCase):

    def test_reload_seeds_through_the_writer(self):
        iid = uuid4()
        d = Daemon(conninfo=CLUSTER.newdb(), instances=[
            {"id": iid, "project": PROJECT, "addresses": ["10.6.0.1"]}])
        d.start()
        try:
            st, js = d.owner("GET", f"/instances/{iid}")
            self.assertEqual((st, js["addresses"]), (200, ["10.6.0.1"]))
            d.proc.send_signal(signal.SIGHUP)
            self.assertTrue(d.wait_log(r"op=config\.instance\.put .*"
                                       r"status=200", 10), d.log())
            self.assertEqual(d.owner("GET", f"/instances/{iid}")[0], 200)
        finally:
            d.stop()
            d.cleanup()


class Outage(unittest.TestCase):
    """A database that is gone: 503 quickly, never a false 200, and the
    status says so."""

    def test_unreachable_gives_503(self):
        conninfo = CLUSTER.newdb()
        a = Daemon(conninfo=conninfo).start()
        try:
            iid = uuid4()
            self.assertIn(a.register(iid, PROJECT)[0], (200, 201))
            name = conninfo.rsplit("=", 1)[1]
            # Drop the database under the running daemon.
            CLUSTER.sql(f"DROP DATABASE {name} WITH (FORCE)")
            t0 = time.time()
            st = a.guest("POST", PW, body=b"x" * 8,
                         headers=a.proxy_headers(iid, PROJECT))[0]
            self.assertEqual(st, 503)
            st = a.guest("GET", PW, headers=a.proxy_headers(iid, PROJECT))[0]
            self.assertEqual(st, 503)
            self.assertLess(time.time() - t0, 10)
            st, js = a.owner("GET", "/status")
            self.assertEqual((st, js["store_state"]), (200, "unavailable"))
            self.assertTrue(a.wait_log("store postgresql", 5))
        finally:
            a.stop()
            a.cleanup()


class Copy(unittest.TestCase):
    """sealmd --copy-store: SQLite to PostgreSQL and back, sealed."""

    ROWS = ("SELECT instance_id, idx, count, key_id, nonce, sealed, "
            "fingerprint, set_at, kind FROM password_chunks "
            "ORDER BY instance_id, idx",
            "SELECT id, project, hostname, created, pw_ttl, one_time, "
            "pw_mode FROM instances ORDER BY id",
            "SELECT addr, instance_id, pos FROM instance_addresses "
            "ORDER BY addr",
            "SELECT instance_id, pos, name, data FROM instance_keys "
            "ORDER BY instance_id, pos")

    def rows(self, path):
        db = sqlite3.connect(path)
        try:
            return [db.execute(q).fetchall() for q in self.ROWS]
        finally:
            db.close()

    def copy(self, src, dst):
        return subprocess.run([SEALMD, "--copy-store", src.conf, dst.conf],
                              capture_output=True, timeout=120)

    def test_round_trip(self):
        a = Daemon().start()
        daemons = [a]
        try:
            ids = [uuid4() for _ in range(5)]
            vals = {}
            for n, iid in enumerate(ids):
                self.assertIn(a.register(iid, PROJECT, [f"10.7.0.{n + 1}"],
                                         keys={"k": f"ssh-ed25519 AAAA{n}"}
                                         )[0], (200, 201))
            for n, iid in enumerate(ids[:3]):
                # One value long enough for several chunks.
                v = canary("copy") + ("x" * 400 if n == 0 else "")
                self.assertEqual(a.guest("POST", PW, body=v.encode(),
                                         headers=a.proxy_headers(
                                             iid, PROJECT))[0], 200)
                vals[iid] = v
            self.assertEqual(a.stop(), 0)

            b = Daemon(conninfo=CLUSTER.newdb(), share=a)
            daemons.append(b)
            r = self.copy(a, b)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"copy: 5 instances and 3 sealed values", r.stderr)
            b.start()
            for iid, v in vals.items():
                st, js = b.owner("GET", f"/servers/{iid}/os-server-password")
                self.assertEqual((st, js["password"]), (200, v))
            st, js = b.owner("GET", f"/instances/{ids[4]}")
            self.assertEqual((st, js["addresses"]), (200, ["10.7.0.5"]))
            self.assertEqual(b.stop(), 0)

            # Into a store that holds anything: refused, nothing merged.
            r = self.copy(a, b)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"not empty", r.stderr)

            c = Daemon(share=a)
            daemons.append(c)
            r = self.copy(b, c)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(self.rows(a.db), self.rows(c.db))
            chunks = self.rows(c.db)[0]
            self.assertEqual(len({row[0] for row in chunks}), 3)
            self.assertTrue(any(row[1] > 0 for row in chunks))
            # No secret on the way: not in what the copies said.
            for v in vals.values():
                self.assertNotIn(v.encode(), r.stdout + r.stderr)
        finally:
            cleanup_all(*daemons)

    def test_missing_source_refused(self):
        a = Daemon()
        b = Daemon(conninfo=CLUSTER.newdb(), share=a)
        try:
            r = self.copy(a, b)
            self.assertEqual(r.returncode, 1)
            self.assertFalse(os.path.exists(a.db))
        finally:
            cleanup_all(a, b)


class Migrate(unittest.TestCase):

    def test_migrate_creates_and_is_idempotent(self):
        conninfo = CLUSTER.newdb()
        d = Daemon(conninfo=conninfo)
        try:
            for _ in range(2):
                r = subprocess.run([SEALMD, "-c", d.conf, "--migrate"],
                                   capture_output=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(b"schema is up to date", r.stderr)
            name = conninfo.rsplit("=", 1)[1]
            self.assertEqual(CLUSTER.sql("SELECT version FROM "
                                         "schema_version", db=name), "3\n")
            # A version 1 store (no seal_format) waits for --migrate.
            CLUSTER.sql("ALTER TABLE password_chunks DROP COLUMN "
                        "seal_format; DROP TABLE counts; "
                        "DROP FUNCTION sealmd_count CASCADE; "
                        "UPDATE schema_version SET version = 1",
                        db=name)
            with self.assertRaises(RuntimeError) as cm:
                d.start()
            self.assertIn("--migrate", str(cm.exception))
            r = subprocess.run([SEALMD, "-c", d.conf, "--migrate"],
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(CLUSTER.sql("SELECT version FROM "
                                         "schema_version", db=name), "3\n")
            self.assertEqual(CLUSTER.sql("SELECT count(seal_format) FROM "
                                         "password_chunks", db=name), "0\n")
            CLUSTER.sql("UPDATE schema_version SET version = 9", db=name)
            r = subprocess.run([SEALMD, "-c", d.conf, "--migrate"],
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"newer than this sealmd", r.stderr)
        finally:
            d.cleanup()

    def test_password_in_conninfo_refused(self):
        d = Daemon(conninfo="host=/tmp user=sealmd password=hunter2")
        try:
            r = subprocess.run([SEALMD, "-n", "-c", d.conf],
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn(b"passfile", r.stderr)
            self.assertNotIn(b"hunter2", r.stderr)
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
