# SPDX-License-Identifier: ISC
"""Bulk registration (README, "The owner API and sealmdctl"):
POST /instances:batch takes NDJSON, one registration per line, and
stores every entry or none; sealmdctl instance import sends a file in
such batches."""
import http.client
import json
import os
import socket
import threading
import unittest

from sealmd_fixture import Daemon, uuid4

BATCH = "/instances:batch"


def ndjson(entries):
    return "".join(json.dumps(e) + "\n" for e in entries).encode()


def entry(iid, n, **extra):
    e = {"id": iid, "project_id": "proj-b",
         "addresses": [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"]}
    e.update(extra)
    return e


class Batch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A batch is one operation however many entries it has.
        cls.d = Daemon(limits={"owner_conn_requests": 4}).start()
        cls.net = 0

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def entries(self, n):
        """n fresh entries on addresses no other test uses."""
        type(self).net += 1
        base = type(self).net << 12
        return [entry(uuid4(), base + i) for i in range(n)]

    def post(self, body):
        st, hdrs, raw = self.d.owner_full(
            "POST", BATCH, body=body,
            headers={"Content-Type": "application/x-ndjson"})
        js = json.loads(raw) if raw else None
        return st, js

    def stored(self, iid):
        return self.d.owner("GET", f"/instances/{iid}")[0] == 200

    def test_register_and_update(self):
        es = self.entries(300)
        st, js = self.post(ndjson(es))
        self.assertEqual((st, js), (200, {"registered": 300, "created": 300,
                                          "updated": 0}))
        st, got = self.d.owner("GET", f"/instances/{es[7]['id']}")
        self.assertEqual(st, 200)
        self.assertEqual((got["project_id"], got["addresses"]),
                         ("proj-b", es[7]["addresses"]))
        # Again, one changed, and a blank line: updates.
        es[7]["hostname"] = "seven.example"
        st, js = self.post(ndjson(es[:10]) + b"\n  \n")
        self.assertEqual((st, js), (200, {"registered": 10, "created": 0,
                                          "updated": 10}))
        self.assertEqual(self.d.owner("GET", f"/instances/{es[7]['id']}")
                         [1]["hostname"], "seven.example")
        audit = [ln for ln in self.d.audit_log().splitlines()
                 if "op=owner.instance.batch" in ln]
        self.assertEqual(sum(f"instance={e['id']} status=201" in ln
                             for e in es for ln in audit), 300)

    def test_bad_entry_keeps_none(self):
        es = self.entries(5)
        body = ndjson(es[:2]).decode() + "\n" + json.dumps(
            {"id": es[2]["id"], "project_id": "bad project!"}) + "\n" + \
            "not json\n" + ndjson(es[3:]).decode()
        st, js = self.post(body.encode())
        self.assertEqual(st, 400, js)
        self.assertEqual(js["error"], "2 of 6 entries are invalid; none was "
                         "registered")
        self.assertEqual([(e["line"], e.get("id")) for e in js["errors"]],
                         [(4, es[2]["id"]), (5, None)])
        self.assertIn("project_id", js["errors"][0]["error"])
        for e in es:
            self.assertFalse(self.stored(e["id"]), e)

    def test_missing_id_and_twice(self):
        es = self.entries(3)
        es[2]["id"] = es[0]["id"]
        del es[1]["id"]
        st, js = self.post(ndjson(es))
        self.assertEqual(st, 400, js)
        self.assertEqual([(e["line"], e.get("id")) for e in js["errors"]],
                         [(2, None), (3, es[0]["id"])])
        self.assertFalse(self.stored(es[0]["id"]))

    def test_conflict_in_batch(self):
        es = self.entries(4)
        es[3]["addresses"] = es[1]["addresses"]
        st, js = self.post(ndjson(es))
        self.assertEqual(st, 409, js)
        self.assertEqual([(e["line"], e["id"]) for e in js["errors"]],
                         [(4, es[3]["id"])])
        for e in es:
            self.assertFalse(self.stored(e["id"]), e)
        audit = self.d.audit_log().splitlines()
        self.assertTrue(any(f"instance={es[3]['id']} status=409" in ln
                            for ln in audit))
        self.assertTrue(any(f"instance={es[0]['id']} status=424" in ln
                            for ln in audit))

    def test_conflict_with_stored(self):
        es = self.entries(3)
        other = uuid4()
        st, _ = self.d.register(other, "proj-b", es[2]["addresses"])
        self.assertEqual(st, 201)
        st, js = self.post(ndjson(es))
        self.assertEqual(st, 409, js)
        self.assertEqual([(e["line"], e["id"]) for e in js["errors"]],
                         [(3, es[2]["id"])])
        self.assertFalse(self.stored(es[0]["id"]))
        self.assertTrue(self.stored(other))

    def test_unserved_network(self):
        es = self.entries(3)
        es[1]["addresses"] = ["10.250.0.1@nowhere"]
        st, js = self.post(ndjson(es))
        self.assertEqual(st, 400, js)
        self.assertEqual([(e["line"], e["id"]) for e in js["errors"]],
                         [(2, es[1]["id"])])
        self.assertFalse(self.stored(es[0]["id"]))

    def test_one_operation_each(self):
        """Three batches of 1000 on one connection whose limit is 4
        operations."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.d.socket)
        conn = http.client.HTTPConnection("localhost")
        conn.sock = s
        try:
            for _ in range(3):
                conn.request("POST", BATCH, body=ndjson(self.entries(1000)))
                r = conn.getresponse()
                self.assertEqual((r.status, json.loads(r.read())
                                  ["registered"]), (200, 1000))
        finally:
            conn.close()

    def test_concurrent_batches(self):
        """Batches from several clients at once take turns on the
        channel: all are answered, none is lost."""
        groups = [self.entries(500) for _ in range(4)]
        out = []
        ts = [threading.Thread(target=lambda g=g: out.append(
            self.post(ndjson(g)))) for g in groups]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(sorted(st for st, _ in out), [200] * 4, out)
        for g in groups:
            self.assertTrue(self.stored(g[-1]["id"]))

    def test_ctl_import(self):
        """sealmdctl instance import: batches of 1000, each whole or not
        at all; a bad line names its line in the file, the exit status
        says something failed, and the other batches are in."""
        es = self.entries(2500)
        es[1500]["project_id"] = "no spaces allowed"
        lines = [json.dumps(e) for e in es]
        lines.insert(10, "")            # blank lines are skipped
        path = os.path.join(self.d.state, "import.ndjson")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = self.d.ctl("instance", "import", path)
        self.assertEqual(r.returncode, 1, r)
        err = r.stderr.decode()
        self.assertIn(f"import.ndjson:1502: {es[1500]['id']}: project_id",
                      err)
        self.assertIn("lines 1002 to 2001: none of these 1000 registered",
                      err)
        self.assertEqual(r.stdout.decode(),
                         "registered 1500 (1500 created, 0 updated), "
                         "1000 failed\n")
        self.assertTrue(self.stored(es[0]["id"]))
        self.assertFalse(self.stored(es[1499]["id"]))
        self.assertTrue(self.stored(es[2499]["id"]))
        # Fixed, from stdin: all in, the first 1500 updated.
        es[1500]["project_id"] = "proj-b"
        r = self.d.ctl("--json", "instance", "import", "-",
                       stdin=ndjson(es))
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(json.loads(r.stdout), {
            "registered": 2500, "created": 1000, "updated": 1500,
            "failed": 0})

    def test_limits(self):
        es = self.entries(1001)
        st, js = self.post(ndjson(es))
        self.assertEqual(st, 413, js)
        self.assertEqual(js, {"error": "at most 1000 entries per request"})
        self.assertFalse(self.stored(es[0]["id"]))
        st, js = self.post(ndjson(es[:1000]))
        self.assertEqual((st, js["registered"]), (200, 1000))
        st, js = self.post(b"\n\n")
        self.assertEqual(st, 400, js)
        # Past the body limit: refused on its Content-Length, unread.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.d.socket)
            s.sendall(b"POST /instances:batch HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 4194305\r\n\r\n")
            head = s.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 413 "), head)
        # The limit itself is taken.
        big = ndjson(es[:1000])
        big += b" " * (4 * 1024 * 1024 - len(big))
        st, js = self.post(big)
        self.assertEqual((st, js["registered"]), (200, 1000))
        st, _, _ = self.d.owner_full("PUT", BATCH, body=b"")
        self.assertEqual(st, 405)


if __name__ == "__main__":
    unittest.main()
