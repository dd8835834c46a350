# SPDX-License-Identifier: ISC
"""The basic promise, end to end: set once, read back, sealed at rest."""
import unittest

from sealmd_fixture import Daemon, uuid4


class Smoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_post_get_conflict_owner_read(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-a")[0], 201)
        h = d.proxy_headers(iid, "proj-a")
        path = "/openstack/latest/password"
        st, hdrs, body = d.guest("GET", path, headers=h)
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        st, _, body = d.guest("POST", path, body=b"smoke-canary-1", headers=h)
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(d.guest("GET", path, headers=h)[2], b"smoke-canary-1")
        self.assertEqual(d.guest("POST", path, body=b"x", headers=h)[0], 409)
        st, js = d.owner("GET", f"/servers/{iid}/os-server-password")
        self.assertEqual((st, js), (200, {"password": "smoke-canary-1"}))
        files = d.raw_files()
        self.assertTrue(files)
        for blob in files.values():
            self.assertNotIn(b"smoke-canary-1", blob)


if __name__ == "__main__":
    unittest.main()
