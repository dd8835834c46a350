# SPDX-License-Identifier: ISC
"""Expiry and one-time reads (issue 9): after its TTL a value is gone for
good, a one-time value is read exactly once, and each event is audited."""
import threading
import time
import unittest

from sealmd_fixture import Daemon, uuid4

PW = "/openstack/latest/password"


class Expiry(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(limits={"rate": 0},
                        extra_store="password_ttl = 2").start()
        self.addCleanup(self.d.cleanup)

    def make(self, **extra):
        iid = uuid4()
        body = {"project_id": "life", **extra}
        self.assertEqual(self.d.owner("PUT", f"/instances/{iid}", body)[0],
                         201)
        return iid, self.d.proxy_headers(iid, "life")

    def test_default_ttl_then_gone_for_good(self):
        iid, h = self.make()
        self.assertEqual(self.d.guest("POST", PW, body=b"short-lived",
                                      headers=h)[0], 200)
        self.assertEqual(self.d.guest("GET", PW, headers=h)[2], b"short-lived")
        time.sleep(2.2)
        self.assertEqual(self.d.guest("GET", PW, headers=h)[2], b"")
        self.assertEqual(self.d.owner("GET", f"/servers/{iid}/"
                                      "os-server-password")[1],
                         {"password": ""})
        self.assertEqual(self.d.guest("POST", PW, body=b"second",
                                      headers=h)[0], 200)
        self.assertEqual(self.d.guest("GET", PW, headers=h)[2], b"second")
        self.assertTrue(self.d.wait_log(rf"op=pw.expire .*instance={iid} "
                                        r"status=200"))

    def test_instance_ttl_overrides_default(self):
        forever, h1 = self.make(password_ttl=0)
        quick, h2 = self.make(password_ttl=1)
        st, js = self.d.owner("GET", f"/instances/{forever}")
        self.assertEqual(js["password_ttl"], 0)
        for h in (h1, h2):
            self.assertEqual(self.d.guest("POST", PW, body=b"v",
                                          headers=h)[0], 200)
        time.sleep(2.2)
        self.assertEqual(self.d.guest("GET", PW, headers=h1)[2], b"v")
        self.assertEqual(self.d.guest("GET", PW, headers=h2)[2], b"")

    def test_sweep_deletes_unread_values(self):
        iid, h = self.make(password_ttl=1)
        self.assertEqual(self.d.guest("POST", PW, body=b"unread",
                                      headers=h)[0], 200)
        # No read at all: the periodic sweep (every 5 s) removes it.
        self.assertTrue(self.d.wait_log(rf"op=pw.expire .*instance={iid}",
                                        timeout=8), self.d.log())
        st, js = self.d.owner("GET", "/status")
        self.assertEqual(js["passwords"], 0)


class OneTime(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(limits={"rate": 0}).start()
        self.addCleanup(self.d.cleanup)

    def test_read_once_then_gone(self):
        iid = uuid4()
        self.assertEqual(self.d.owner("PUT", f"/instances/{iid}", {
            "project_id": "once", "one_time_read": True})[0], 201)
        h = self.d.proxy_headers(iid, "once")
        self.assertEqual(self.d.guest("POST", PW, body=b"read-me-once",
                                      headers=h)[0], 200)
        path = f"/servers/{iid}/os-server-password"
        self.assertEqual(self.d.owner("GET", path),
                         (200, {"password": "read-me-once"}))
        self.assertEqual(self.d.owner("GET", path), (200, {"password": ""}))
        self.assertEqual(self.d.guest("GET", PW, headers=h)[2], b"")
        self.assertEqual(self.d.guest("POST", PW, body=b"again",
                                      headers=h)[0], 200)
        self.assertRegex(self.d.audit_log(),
                         rf"op=pw.one_time_clear .*instance={iid}")

    def test_concurrent_reads_get_it_exactly_once(self):
        iid = uuid4()
        self.d.owner("PUT", f"/instances/{iid}", {
            "project_id": "once", "one_time_read": True})
        h = self.d.proxy_headers(iid, "once")
        self.assertEqual(self.d.guest("POST", PW, body=b"only-one",
                                      headers=h)[0], 200)
        path = f"/servers/{iid}/os-server-password"
        got, lock = [], threading.Lock()

        def read():
            r = self.d.owner("GET", path)
            with lock:
                got.append(r)
        ts = [threading.Thread(target=read) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        self.assertEqual(len(got), 8)
        self.assertTrue(all(st == 200 for st, _ in got))
        vals = [js["password"] for _, js in got]
        self.assertEqual(vals.count("only-one"), 1, vals)
        self.assertEqual(vals.count(""), 7, vals)

    def test_default_off_and_deployment_wide(self):
        iid = uuid4()
        self.d.owner("PUT", f"/instances/{iid}", {"project_id": "n"})
        h = self.d.proxy_headers(iid, "n")
        self.d.guest("POST", PW, body=b"stays", headers=h)
        path = f"/servers/{iid}/os-server-password"
        for _ in range(2):
            self.assertEqual(self.d.owner("GET", path)[1],
                             {"password": "stays"})
        d = Daemon(limits={"rate": 0}, extra_store="one_time_read = yes")
        d.start()
        try:
            iid2 = uuid4()
            d.owner("PUT", f"/instances/{iid2}", {"project_id": "n"})
            d.guest("POST", PW, body=b"once",
                    headers=d.proxy_headers(iid2, "n"))
            p2 = f"/servers/{iid2}/os-server-password"
            self.assertEqual(d.owner("GET", p2)[1], {"password": "once"})
            self.assertEqual(d.owner("GET", p2)[1], {"password": ""})
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
