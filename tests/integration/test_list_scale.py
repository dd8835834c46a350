# SPDX-License-Identifier: ISC
"""GET /instances with a large registry (issue 16): the worker holds one
page at a time, so its memory does not grow with the registry, and
sealmdctl list follows the pages to the end.  The store is seeded with
SQLite directly: registering through the API would take minutes."""
import http.client
import json
import socket
import sqlite3
import time
import unittest

from sealmd_fixture import SANITIZE, STORE_NAME, VALGRIND, Daemon, uuid4

N = 200000
# Peak worker memory during the listings may exceed what it was before
# by this much at most: one page of 1000 is well under 1 MiB, the whole
# registry built at once (as before) about 130 MiB.
SLACK_KIB = 8 * 1024


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@unittest.skipIf(STORE_NAME != "sqlite",
                 "SKIPPED: seeds a SQLite store directly")
class LargeListing(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # A connection may ask few operations: a page of 1000 costs 16
        # (one per 64 instances), so following pages needs a connection
        # per page, never one for the whole walk.
        cls.d = Daemon(limits={"owner_conn_requests": 32})
        try:
            cls.seed()
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def seed(cls):
        cls.d.start()
        first = uuid4()
        if cls.d.register(first, "seed")[0] != 201:
            raise AssertionError("seed registration failed")
        cls.d.stop()
        ids = [first] + [uuid4() for _ in range(N - 1)]
        now = int(time.time())
        db = sqlite3.connect(cls.d.db)
        try:
            with db:
                db.executemany(
                    "INSERT INTO instances (id, project, hostname, created)"
                    " VALUES (?, ?, '', ?)",
                    ((iid, f"p{i % 97}", now) for i, iid in
                     enumerate(ids[1:], 1)))
        finally:
            db.close()
        cls.ids = sorted(ids)
        cls.project = {iid: "seed" if iid == first else f"p{i % 97}"
                       for i, iid in enumerate(ids)}
        cls.d.start(timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_pages_bounded_memory(self):
        d = self.d
        pid = d.worker_pid()
        # Warm up: the first page is answered once before measuring.
        st, js = d.owner("GET", "/instances?limit=1000")
        self.assertEqual(st, 200)
        self.assertEqual(len(js["instances"]), 1000)
        before = vm(pid, "VmHWM")

        # The unpaged GET is a first page of 1000, with a next link.
        st, js = d.owner("GET", "/instances")
        self.assertEqual(st, 200)
        self.assertEqual([e["id"] for e in js["instances"]], self.ids[:1000])
        self.assertEqual(js["next"], "/instances?limit=1000&marker=%s" %
                         self.ids[999])

        got, path = [], "/instances"
        for _ in range(N // 1000 + 2):
            st, js = d.owner("GET", path)
            self.assertEqual(st, 200, path)
            got += [(e["id"], e["project_id"]) for e in js["instances"]]
            if "next" not in js:
                break
            path = js["next"]
        self.assertEqual(got, [(i, self.project[i]) for i in self.ids])

        r = d.ctl("list")
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        want = "".join(f"{i} {self.project[i]}\n" for i in self.ids)
        self.assertEqual(r.stdout.decode(), want)
        r = d.ctl("--json", "list")
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        js = json.loads(r.stdout)
        self.assertEqual(list(js), ["instances"])
        self.assertEqual([(e["id"], e["project_id"]) for e in
                          js["instances"]],
                         [(i, self.project[i]) for i in self.ids])

        self.assertEqual(d.worker_pid(), pid)
        after = vm(pid, "VmHWM")
        print(f"\n  worker VmHWM {before} KiB before, {after} KiB after "
              f"listing {N} instances 3 times; VmRSS now "
              f"{vm(pid, 'VmRSS')} KiB", flush=True)
        if SANITIZE or VALGRIND:
            # ASan's quarantine keeps what the worker freed (hundreds of
            # MiB here): the bound is the release build's to show.
            print("  worker memory bound NOT CHECKED in this build",
                  flush=True)
        else:
            self.assertLess(after, before + SLACK_KIB)
        self.assertEqual(d.worker_deaths(), [])

    def test_keepalive_walk_meets_request_limit(self):
        # On one keep-alive connection the pages share its 32 operations:
        # two pages of 1000 (16 each) are answered, the third is not run
        # and the connection closes (README: about 256 pages at 4096).
        conn = http.client.HTTPConnection("localhost")
        conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock.settimeout(10)
        conn.sock.connect(self.d.socket)
        try:
            path = "/instances"
            for page in range(2):
                conn.request("GET", path)
                r = conn.getresponse()
                js = json.loads(r.read())
                self.assertEqual((r.status, len(js["instances"])),
                                 (200, 1000), page)
                self.assertEqual(js["instances"][-1]["id"],
                                 self.ids[1000 * page + 999])
                path = js["next"]
            conn.request("GET", path)
            with self.assertRaises((http.client.RemoteDisconnected,
                                    ConnectionResetError)):
                conn.getresponse()
        finally:
            conn.close()
        self.d.wait_log(r"request limit reached; closed by the broker")
        self.assertEqual(self.d.worker_deaths(), [])


if __name__ == "__main__":
    unittest.main()
