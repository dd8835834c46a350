# SPDX-License-Identifier: ISC
"""A late answer never reaches a newer connection that has the old one's
id (issue 14).  Connection ids are a 16-bit generation and a slot, so the
65,535th connection after one, in the same slot, has its id again; an
answer the store still owed the old connection went to the new one.

The store owes an answer for as long as this test likes: the PostgreSQL
row of the instance is locked by the test, and the daemon's sessions may
wait for it (statement_timeout=30min, which sealmd's own bound on a
wait follows).  With max_conns = 1 every guest
connection takes slot 0 of the broker and of the worker, and the
broker refuses (503, no id spent) one that comes before the last is
done, so the test knows exactly how many ids it has spent."""
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from sealmd_fixture import VALGRIND, TOP, Daemon, pg_bin, pg_sql, uuid4

PGTEST = os.path.join(TOP, "tests", "pgtest.sh")
PW = "/openstack/latest/password"
WRAP = 65535            # generations 1..65535, then 1 again
BUSY = b"HTTP/1.1 503 "
LINGER0 = struct.pack("ii", 1, 0)


def post(value):
    return (f"POST {PW} HTTP/1.1\r\nHost: x\r\nContent-Length: "
            f"{len(value)}\r\n\r\n{value}").encode()


class StaleAnswer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir("/usr/lib/postgresql"):
            raise unittest.SkipTest("NO POSTGRESQL SERVER: the store must "
                                    "hold a write for as long as the test "
                                    "takes (make deps)")
        cls.pgdir = tempfile.mkdtemp(prefix="sealmd-pg-")
        subprocess.run([PGTEST, "start", cls.pgdir], check=True,
                       timeout=120)
        pg_sql(cls.pgdir, "CREATE DATABASE ids")
        cls.iid = uuid4()
        cls.d = Daemon(
            guests=(("direct", "127.0.0.1"),),
            instances=({"id": cls.iid, "project": "ids",
                        "addresses": ["127.0.0.1"]},),
            limits={"rate": 0, "max_conns": 1},
            conninfo=f"host={cls.pgdir} user=sealmd dbname=ids "
                     "options='-c statement_timeout=30min'").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        subprocess.run([PGTEST, "stop", cls.pgdir], timeout=120)
        shutil.rmtree(cls.pgdir, ignore_errors=True)

    def lock_row(self, table="instances", column="id", iid=None):
        """A session that holds the instance's rows: writes wait."""
        p = subprocess.Popen(
            [pg_bin("psql"), "-h", self.pgdir, "-U", "sealmd", "-d", "ids",
             "-qAt", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        p.stdin.write(f"BEGIN; SELECT 'locked' FROM {table} WHERE {column} "
                      f"= '{iid or self.iid}' LIMIT 1 FOR UPDATE;\n"
                      .encode())
        p.stdin.flush()
        self.assertEqual(p.stdout.readline().strip(), b"locked")
        return p

    def unlock(self, p):
        p.stdin.write(b"COMMIT;\n")
        p.stdin.close()
        p.wait(60)

    def writer_waits(self):
        for _ in range(200):
            if pg_sql(self.pgdir, "SELECT count(*) FROM pg_stat_activity "
                      "WHERE application_name = 'sealmd' AND "
                      "wait_event_type = 'Lock'", "ids").strip() != "0":
                return
            time.sleep(0.05)
        self.fail("the daemon's write never waited for the lock")

    def pass_one(self, data=None):
        """One guest connection the broker passes to the worker; with
        data, it stays open and is returned.  None: refused as busy."""
        s = socket.create_connection(("127.0.0.1", self.d.ports[0]),
                                     timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
        if data is not None:
            s.sendall(data)
            r, _, _ = select.select([s], [], [], 0.5)
            if r and s.recv(len(BUSY), socket.MSG_PEEK).startswith(BUSY):
                s.close()
                return None
            return s
        s.shutdown(socket.SHUT_WR)
        got = s.recv(len(BUSY))
        s.close()
        return None if got else True

    def read_status(self, s):
        s.settimeout(30)
        out = b""
        while b"\r\n\r\n" not in out:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        return out.split(b"\r\n")[0]

    @unittest.skipIf(VALGRIND, "SKIPPED UNDER VALGRIND: 65,535 connections "
                     "through a broker under valgrind take too long; the "
                     "release and ASan runs have this test")
    def test_late_answer_never_reaches_the_next_holder_of_its_id(self):
        lock = self.lock_row()
        try:
            # X: a POST whose write waits for the lock; then X hangs up.
            x = self.pass_one(post("first"))
            self.assertIsNotNone(x, "the first connection was refused")
            self.writer_waits()
            x.close()
            # Spend every other generation of slot 0.
            spent, refused = 0, 0
            deadline = time.time() + 1800
            while spent < WRAP - 1:
                self.assertLess(time.time(), deadline, f"{spent} passed")
                self.assertLess(refused, WRAP, "refused too often")
                if self.pass_one():
                    spent += 1
                else:
                    refused += 1
            # X': X's id again, with a POST of its own.
            for _ in range(100):
                time.sleep(0.05)
                x2 = self.pass_one(post("second"))
                if x2 is not None:
                    break
            self.assertIsNotNone(x2, "X' was refused every time")
        finally:
            self.unlock(lock)
        # X's write commits first; X' must get its own answer: 409.
        status = self.read_status(x2)
        x2.close()
        self.assertEqual(status, b"HTTP/1.1 409 Conflict",
                         "X' got the answer of X's write")
        # Until X' is done, a new connection is refused as busy.
        for _ in range(100):
            st, _, body = self.d.guest("GET", PW)
            if st != 503:
                break
            time.sleep(0.05)
        self.assertEqual((st, body), (200, b"first"))
        self.assertEqual(self.d.worker_deaths(), [])

    def test_one_time_value_taken_for_a_closed_connection_goes_back(self):
        """The owner of a one-time read hangs up while the store takes
        the value: it is written back, not lost."""
        iid = uuid4()
        self.assertEqual(self.d.owner("PUT", f"/instances/{iid}", {
            "project_id": "ids", "addresses": ["127.0.0.2"],
            "one_time_read": True})[0], 201)
        self.assertEqual(self.d.guest("POST", PW, body=b"kept",
                                      source="127.0.0.2")[0], 200)
        lock = self.lock_row("password_chunks", "instance_id", iid)
        try:
            o = socket.socket(socket.AF_UNIX)
            o.settimeout(10)
            o.connect(self.d.socket)
            o.sendall(f"GET /servers/{iid}/os-server-password HTTP/1.1"
                      "\r\nHost: x\r\n\r\n".encode())
            self.writer_waits()
            o.close()
            # Until the broker has seen it go, the take's answer would be
            # the worker's to drop.
            for _ in range(200):
                st, body = self.d.owner("GET", "/metrics")
                if re.search(rb'(?m)^sealmd_connections_open\{role="owner"'
                             rb'\} 1$', body):
                    break
                time.sleep(0.05)
            else:
                self.fail("the owner connection stayed open")
        finally:
            self.unlock(lock)
        self.assertTrue(self.d.wait_log(
            rf"op=pw\.one_time_restore .*instance={iid} status=200", 30))
        self.assertNotRegex(self.d.log(),
                            rf"op=pw\.one_time_clear .*instance={iid}")
        self.assertEqual(self.d.owner("GET", f"/servers/{iid}/"
                                      "os-server-password"),
                         (200, {"password": "kept"}))
        self.assertRegex(self.d.audit_log(),
                         rf"op=pw\.one_time_clear .*instance={iid}")


if __name__ == "__main__":
    unittest.main()
