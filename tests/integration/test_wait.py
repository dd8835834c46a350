# SPDX-License-Identifier: ISC
"""Waiting instead of polling (issue 9): an owner GET with ?wait=N is
answered as soon as the guest posts, or empty when the time runs out."""
import re
import socket
import threading
import time
import unittest

from sealmd_fixture import Daemon, uuid4

PW = "/openstack/latest/password"


class Wait(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(limits={"rate": 0}).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def make(self, **extra):
        iid = uuid4()
        self.d.owner("PUT", f"/instances/{iid}", {"project_id": "w", **extra})
        return iid, self.d.proxy_headers(iid, "w")

    def waiters(self, iid, n, wait):
        out, lock = [], threading.Lock()

        def run():
            t0 = time.time()
            r = self.d.owner("GET", f"/servers/{iid}/os-server-password"
                             f"?wait={wait}")
            with lock:
                out.append((r, time.time() - t0))
        ts = [threading.Thread(target=run) for _ in range(n)]
        for t in ts:
            t.start()
        return ts, out

    def test_many_waiters_answered_by_one_post(self):
        iid, h = self.make()
        ts, out = self.waiters(iid, 20, 30)
        time.sleep(0.5)
        self.assertEqual(out, [], "answered before the POST")
        self.assertEqual(self.d.guest("POST", PW, body=b"posted",
                                      headers=h)[0], 200)
        for t in ts:
            t.join(10)
        self.assertEqual(len(out), 20)
        for (st, js), took in out:
            self.assertEqual((st, js), (200, {"password": "posted"}))
            self.assertLess(took, 5)

    def test_time_runs_out_empty(self):
        iid, _ = self.make()
        t0 = time.time()
        st, js = self.d.owner("GET", f"/servers/{iid}/os-server-password"
                              "?wait=1")
        took = time.time() - t0
        self.assertEqual((st, js), (200, {"password": ""}))
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 3)

    def test_already_set_answers_at_once(self):
        iid, h = self.make()
        self.d.guest("POST", PW, body=b"there", headers=h)
        t0 = time.time()
        self.assertEqual(self.d.owner("GET", f"/servers/{iid}/"
                                      "os-server-password?wait=30"),
                         (200, {"password": "there"}))
        self.assertLess(time.time() - t0, 2)

    def test_bad_wait_400_and_other_params_ignored(self):
        iid, _ = self.make()
        base = f"/servers/{iid}/os-server-password"
        for q in ("?wait=601", "?wait=x", "?wait=", "?wait=1&wait=2",
                  "?wait=-1"):
            self.assertEqual(self.d.owner("GET", base + q)[0], 400, q)
        self.assertEqual(self.d.owner("GET", base + "?all_tenants=1")[0],
                         200)

    def test_hung_up_waiter_is_forgotten(self):
        iid, h = self.make()
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.d.socket)
        s.sendall(f"GET /servers/{iid}/os-server-password?wait=30 HTTP/1.1"
                  "\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.3)
        s.close()
        time.sleep(0.3)
        self.assertEqual(self.d.guest("POST", PW, body=b"later",
                                      headers=h)[0], 200)
        self.assertEqual(self.d.owner("GET", f"/servers/{iid}/"
                                      "os-server-password")[1],
                         {"password": "later"})
        self.assertIsNone(self.d.proc.poll())
        self.assertNotRegex(self.d.log(), r"killing worker")

    def test_one_time_value_goes_to_one_waiter(self):
        iid, h = self.make(one_time_read=True)
        ts, out = self.waiters(iid, 3, 30)
        time.sleep(0.5)
        self.d.guest("POST", PW, body=b"once", headers=h)
        for t in ts:
            t.join(10)
        vals = sorted(js["password"] for (st, js), _ in out)
        self.assertEqual(vals, ["", "", "once"])

    def test_one_time_value_outlives_a_dead_waiter(self):
        """A waiter whose worker died is gone with its connection: the
        guest's POST must not hand the one-time value to nobody."""
        iid, h = self.make(one_time_read=True)
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.d.socket)
        s.sendall(f"GET /servers/{iid}/os-server-password?wait=600 "
                  "HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.3)
        old = self.d.kill_worker()
        pat = rf"worker (?!{old}\b)(\d+) ready"
        for _ in range(100):
            if re.search(pat, self.d.log()):
                break
            time.sleep(0.1)
        self.assertRegex(self.d.log(), pat)
        # The owner's socket died with the worker that held it.
        try:
            self.assertEqual(s.recv(100), b"")
        except ConnectionResetError:
            pass
        s.close()
        self.assertEqual(self.d.guest("POST", PW, body=b"kept",
                                      headers=h)[0], 200)
        clear = rf"op=pw\.one_time_clear .*instance={iid}"
        self.assertNotRegex(self.d.audit_log(), clear)
        self.assertEqual(self.d.owner("GET", f"/servers/{iid}/"
                                      "os-server-password"),
                         (200, {"password": "kept"}))
        self.assertRegex(self.d.audit_log(), clear)


class WaiterGauge(unittest.TestCase):
    """The waiter table as /metrics shows it (sealmd_owner_waiters): an
    owner who hangs up leaves no waiter behind, and the others are still
    served."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(limits={"rate": 0}).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def waiting(self):
        st, _, body = self.d.owner_full("GET", "/metrics")
        self.assertEqual(st, 200)
        m = re.search(rb"^sealmd_owner_waiters (\d+)$", body, re.M)
        self.assertIsNotNone(m, "no sealmd_owner_waiters in /metrics")
        return int(m.group(1))

    def until(self, n):
        for _ in range(200):
            if self.waiting() == n:
                return
            time.sleep(0.05)
        self.assertEqual(self.waiting(), n)

    def test_hang_up_removes_its_waiter(self):
        iid = uuid4()
        self.assertEqual(self.d.register(iid, "g")[0], 201)
        self.assertEqual(self.waiting(), 0)
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(self.d.socket)
            s.sendall(f"GET /servers/{iid}/os-server-password?wait=600 "
                      "HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            socks.append(s)
        self.until(3)
        socks.pop(0).close()
        self.until(2)
        socks.pop(0).shutdown(socket.SHUT_RDWR)
        self.until(1)
        self.assertEqual(self.d.guest("POST", PW, body=b"late", headers=self
                                      .d.proxy_headers(iid, "g"))[0], 200)
        data = b""
        for _ in range(100):
            if b"late" in data:
                break
            data += socks[0].recv(4096)
        self.assertRegex(data, rb"^HTTP/1.1 200 ")
        self.assertIn(b'{"password":"late"}', data)
        self.until(0)


if __name__ == "__main__":
    unittest.main()
