# SPDX-License-Identifier: ISC
"""sealmdctl's issue-9 commands against the real daemon: key ls, rotate,
rewrap --wait, retire; get --wait; verify with the candidate on stdin.
Exit codes as everywhere: 0 ok, 1 failure, 2 usage."""
import json
import threading
import time
import unittest

from sealmd_fixture import Daemon, uuid4

PW = "/openstack/latest/password"
FAST = "mode = verifier\nverifier_ops = 1\nverifier_mem = 8388608"


class CtlBase(unittest.TestCase):
    daemon_args = {}

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(limits={"rate": 0}, **cls.daemon_args).start()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def run_ok(self, *args, stdin=None):
        r = self.d.ctl(*args, stdin=stdin)
        self.assertEqual(r.returncode, 0, (args, r.stderr))
        return r.stdout.decode()

    def make(self):
        iid = uuid4()
        self.assertEqual(self.d.register(iid, "c")[0], 201)
        return iid, self.d.proxy_headers(iid, "c")

    def post(self, h, value):
        self.assertEqual(self.d.guest("POST", PW, body=value,
                                      headers=h)[0], 200)


class CtlKeys(CtlBase):
    daemon_args = {"keep_state": True}

    def test_ring_commands(self):
        iids = []
        for i in range(12):
            iid, h = self.make()
            self.post(h, f"v{i}".encode())
            iids.append(iid)
        out = self.run_ok("key", "ls")
        self.assertIn("1    12  (newest)", out)
        self.assertIn("rewrap: idle", out)
        newest = self.d.owner("GET", "/keys")[1]["newest"]
        out = self.run_ok("key", "rotate")
        self.assertIn(f"{newest + 1}    0  (newest)", out)
        st = json.loads(self.run_ok("--json", "status"))
        self.assertEqual(st["key_values"], {str(newest): 12,
                                            str(newest + 1): 0})
        # Key 1 still seals values: retire is refused, exit 1, and says so.
        r = self.d.ctl("key", "retire", str(newest))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"409", r.stderr)
        r = self.d.ctl("key", "retire", "999")
        self.assertEqual((r.returncode, b"404" in r.stderr), (1, True))
        out = self.run_ok("--json", "key", "rewrap", "--wait", "60")
        self.assertIn('"running":false', out)
        js = self.d.owner("GET", "/keys")[1]
        self.assertEqual(js["rewrap"]["running"], False)
        self.assertEqual([k for k in js["keys"] if k["id"] == newest],
                         [{"id": newest, "values": 0}])
        self.run_ok("key", "retire", str(newest))
        self.assertNotIn(newest, [k["id"] for k in
                                  self.d.owner("GET", "/keys")[1]["keys"]])
        for i, iid in enumerate(iids):
            self.assertEqual(self.run_ok("get", iid), f"v{i}\n")

    def test_usage(self):
        for args in (("key",), ("key", "nope"), ("key", "retire"),
                     ("key", "retire", "0"), ("key", "retire", "01"),
                     ("key", "retire", "x"), ("key", "retire", "4294967296"),
                     ("key", "ls", "extra"), ("key", "rotate", "--wait", "5"),
                     ("--wait", "5", "get", uuid4()),
                     ("get", uuid4(), "--wait", "601"),
                     ("get", uuid4(), "--wait", "-1"),
                     ("get", uuid4(), "--wait", ""),
                     ("get", uuid4(), "--wait"),
                     ("clear", uuid4(), "--wait", "1"),
                     ("verify",), ("verify", "not-a-uuid")):
            r = self.d.ctl(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(r.stdout, b"", args)


class CtlWait(CtlBase):
    def test_get_wait_answers_on_post(self):
        iid, h = self.make()
        t = threading.Timer(1.0, self.post, (h, b"late value"))
        t.start()
        t0 = time.monotonic()
        out = self.run_ok("get", iid, "--wait", "20")
        t.join()
        self.assertEqual(out, "late value\n")
        self.assertLess(time.monotonic() - t0, 15)

    def test_get_wait_times_out_with_exit_1(self):
        iid, _ = self.make()
        t0 = time.monotonic()
        r = self.d.ctl("get", iid, "--wait", "1")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"no value after 1 seconds", r.stderr)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        # Without --wait, no value is not a failure (as before).
        self.assertEqual(self.run_ok("get", iid), "")


class CtlVerify(CtlBase):
    daemon_args = {"extra_store": FAST}

    def test_verify_from_stdin(self):
        iid, h = self.make()
        secret = b"correct horse \xc3\xa9"
        self.post(h, secret)
        self.assertEqual(self.run_ok("verify", iid, stdin=secret + b"\n"),
                         "match\n")
        r = self.d.ctl("verify", iid, stdin=secret + b"x\n")
        self.assertEqual((r.returncode, r.stdout), (1, b""))
        self.assertIn(b"no match", r.stderr)
        self.assertNotIn(secret, r.stderr)
        r = self.d.ctl("verify", iid, stdin=b"")
        self.assertEqual(r.returncode, 1)
        r = self.d.ctl("verify", iid, stdin=b"x" * 1021)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"longer than 1020", r.stderr)
        other, _ = self.make()
        r = self.d.ctl("verify", other, stdin=b"anything")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no password is set", r.stderr)
        self.assertNotIn(secret, self.d.all_logs())


if __name__ == "__main__":
    unittest.main()
