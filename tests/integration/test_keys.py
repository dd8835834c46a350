"""Key rotation (issue 9): rotate, rewrap in bounded batches while the
daemon serves, retire only unused keys, and a kill -9 in the middle of a
rewrap leaves every value openable."""
import os
import random
import signal
import time
import unittest

from sealmd_fixture import Daemon, uuid4

PW = "/openstack/latest/password"


class Rotation(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(guests=(("proxy", "127.0.0.1"),),
                        limits={"rate": 0}, keep_state=True).start()
        self.addCleanup(self.cleanup)
        self.values = {}

    def cleanup(self):
        self.d.keep_state = False
        self.d.cleanup()

    def post(self, n):
        for _ in range(n):
            iid = uuid4()
            self.assertEqual(self.d.register(iid, "rot")[0], 201)
            v = f"value-{iid}".encode()
            h = self.d.proxy_headers(iid, "rot")
            self.assertEqual(self.d.guest("POST", PW, body=v,
                                          headers=h)[0], 200)
            self.values[iid] = v

    def keys(self):
        st, js = self.d.owner("GET", "/keys")
        self.assertEqual(st, 200)
        return js

    def all_open(self):
        for iid, v in self.values.items():
            st, js = self.d.owner("GET", f"/servers/{iid}/os-server-password")
            self.assertEqual((st, js), (200, {"password": v.decode()}), iid)

    def wait_rewrap(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            js = self.keys()
            if not js["rewrap"]["running"]:
                return js
            time.sleep(0.05)
        self.fail("rewrap did not finish")

    def test_rotate_rewrap_retire(self):
        self.post(40)
        js = self.keys()
        self.assertEqual((js["newest"], js["keys"]),
                         (1, [{"id": 1, "values": 40}]))
        st, js = self.d.owner("POST", "/keys/rotate")
        self.assertEqual((st, js["newest"]), (200, 2))
        self.assertTrue(os.path.exists(os.path.join(self.d.state, "keys",
                                                    "2")))
        self.assertEqual(os.stat(os.path.join(
            self.d.state, "keys", "2")).st_mode & 0o777, 0o600)
        self.post(5)                   # new values use key 2 at once
        js = self.keys()
        self.assertEqual(js["keys"], [{"id": 1, "values": 40},
                                      {"id": 2, "values": 5}])
        # Key 1 still seals values; key 2 is the newest.
        self.assertEqual(self.d.owner("DELETE", "/keys/1")[0], 409)
        self.assertEqual(self.d.owner("DELETE", "/keys/2")[0], 409)
        self.assertEqual(self.d.owner("DELETE", "/keys/7")[0], 404)
        self.assertEqual(self.d.owner("DELETE", "/keys/x")[0], 400)
        self.assertEqual(self.d.owner("POST", "/keys/rewrap")[0], 200)
        # Guests are served while it runs.
        some = next(iter(self.values))
        self.assertEqual(self.d.guest("GET", PW, headers=self.d.proxy_headers(
            some, "rot"))[2], self.values[some])
        js = self.wait_rewrap()
        self.assertEqual(js["keys"], [{"id": 1, "values": 0},
                                      {"id": 2, "values": 45}])
        self.assertEqual(js["rewrap"]["resealed"], 40)
        self.all_open()
        self.assertEqual(self.d.owner("DELETE", "/keys/1")[0], 204)
        self.assertFalse(os.path.exists(os.path.join(self.d.state, "keys",
                                                     "1")))
        self.assertEqual(self.keys()["keys"], [{"id": 2, "values": 45}])
        self.all_open()
        # And after a restart, with key 1 gone for good.
        self.d.stop()
        self.d = Daemon(state=self.d.state, keep_state=True,
                        limits={"rate": 0}).start()
        self.all_open()

    def test_kill_during_rewrap_loses_nothing(self):
        self.post(120)
        self.assertEqual(self.d.owner("POST", "/keys/rotate")[0], 200)
        rnd = random.Random(os.getpid())
        for cycle in range(3):
            self.assertEqual(self.d.owner("POST", "/keys/rewrap")[0], 200)
            time.sleep(rnd.uniform(0.0, 0.05))
            os.kill(self.d.proc.pid, signal.SIGKILL)
            self.d.proc.wait(10)
            self.d.stop()
            self.d = Daemon(state=self.d.state, keep_state=True,
                            limits={"rate": 0}).start()
            self.all_open()
        self.assertEqual(self.d.owner("POST", "/keys/rewrap")[0], 200)
        js = self.wait_rewrap()
        self.assertEqual(js["keys"][-1], {"id": 2, "values": 120})
        self.all_open()


if __name__ == "__main__":
    unittest.main()
