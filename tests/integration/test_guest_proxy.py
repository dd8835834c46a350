# SPDX-License-Identifier: ISC
"""Guest side behind the neutron metadata proxy (nova-compat §2, §3, §4.1),
in sealmd's hardened form (§10): routing, identity headers and the
password handler, against the real daemon."""
import base64
import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
import unittest

from sealmd_fixture import Daemon, canary, remember_secret, uuid4

EC2_ROOT = (b"1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n"
            b"2007-12-15\n2008-02-01\n2008-09-01\n2009-04-04\nlatest")
OS_VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15",
               "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27",
               "2020-10-14", "2025-04-04"]
PW_VERSIONS = OS_VERSIONS[1:] + ["latest"]
LATEST_LISTING = (b"meta_data.json\npassword\nvendor_data.json\n"
                  b"network_data.json\nvendor_data2.json")
LISTINGS = {
    "2012-08-10": b"meta_data.json",
    "2013-04-04": b"meta_data.json\npassword",
    "2013-10-17": b"meta_data.json\npassword\nvendor_data.json",
    "2015-10-15": b"meta_data.json\npassword\nvendor_data.json\n"
                  b"network_data.json",
    "2016-06-30": b"meta_data.json\npassword\nvendor_data.json\n"
                  b"network_data.json",
    "2016-10-06": LATEST_LISTING,
    "2020-10-14": LATEST_LISTING,
    "latest": LATEST_LISTING,
}
TXT = "text/plain; charset=UTF-8"
PW = "/openstack/latest/password"
# A syntactically valid OpenSSH public key line (ed25519, arbitrary bytes).
ED_BLOB = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" +
                           bytes(range(32))).decode()
ED_KEY = f"ssh-ed25519 {ED_BLOB} alice@example"


def no_location(hdrs):
    for k in hdrs:
        if k.lower() == "location":
            raise AssertionError(f"Location header in answer: {hdrs}")


class ProxyBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def g(self, method, path, body=None, headers=None):
        st, hdrs, data = self.d.guest(method, path, body=body,
                                      headers=headers)
        no_location(hdrs)
        return st, hdrs, data

    def new(self, project="proj-a", **kw):
        iid = uuid4()
        self.assertEqual(self.d.register(iid, project, **kw)[0], 201)
        return iid, self.d.proxy_headers(iid, project)

    def assert_pw(self, h, value, path=PW):
        st, hdrs, body = self.g("GET", path, headers=h)
        self.assertEqual((st, body), (200, value))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")


class Routing(ProxyBase):
    def test_root_without_identity_any_method(self):
        for path in ("/", "/foo/../", "/foo/..", "//", "/./",
                     "/openstack/..", "/?x=1"):
            st, hdrs, body = self.g("GET", path)
            self.assertEqual((st, body), (200, EC2_ROOT), path)
            self.assertEqual(hdrs.get("Content-Type"), TXT)
        for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"):
            st, _, body = self.g(m, "/", body=b"ignored" if m in
                                 ("POST", "PUT") else None)
            self.assertEqual((st, body), (200, EC2_ROOT), m)
        st, _, body = self.g("HEAD", "/")
        self.assertEqual((st, body), (200, b""))

    def test_root_ignores_bad_identity(self):
        # "/" never identifies the caller, so bad headers cannot hurt.
        h = self.d.proxy_headers(uuid4(), "nobody", sig="0" * 64)
        st, _, body = self.g("GET", "/", headers=h)
        self.assertEqual((st, body), (200, EC2_ROOT))

    def test_openstack_versions(self):
        _, h = self.new()
        today = time.strftime("%Y-%m-%d", time.gmtime())
        want = "\n".join([v for v in OS_VERSIONS if v <= today] +
                         ["latest"]).encode()
        for path in ("/openstack", "/openstack/", "//openstack//",
                     "/openstack/latest/.."):
            st, hdrs, body = self.g("GET", path, headers=h)
            self.assertEqual((st, body), (200, want), path)
            self.assertEqual(hdrs.get("Content-Type"), TXT)
        # Identity is needed below "/".
        self.assertEqual(self.g("GET", "/openstack")[0], 400)

    def test_version_listings(self):
        _, h = self.new()
        for v, want in LISTINGS.items():
            for path in (f"/openstack/{v}", f"/openstack/{v}/"):
                st, hdrs, body = self.g("GET", path, headers=h)
                self.assertEqual((st, body), (200, want), path)
                self.assertEqual(hdrs.get("Content-Type"), TXT)
        # The method is not checked for non-password paths.
        st, _, body = self.g("POST", "/openstack/latest", body=b"x",
                             headers=h)
        self.assertEqual((st, body), (200, LATEST_LISTING))
        st, _, body = self.g("DELETE", "/openstack/2013-04-04", headers=h)
        self.assertEqual((st, body), (200, LISTINGS["2013-04-04"]))

    def test_unknown_paths_404(self):
        _, h = self.new()
        for path in ("/openstack/9999-99-99", "/openstack/9999-99-99/password",
                     "/openstack/2012-08-10/password",
                     "/openstack/latest/password/x",
                     "/openstack/latest/meta_data.json/x",
                     "/latest/password", "/2013-04-04/password",
                     "/openstack/latest/user_data",
                     "/openstack/2012-08-10/vendor_data.json",
                     "/openstack/2013-04-04/vendor_data.json",
                     "/openstack/2013-10-17/network_data.json",
                     "/openstack/2016-06-30/vendor_data2.json",
                     "/OpenStack/latest/password",
                     "/openstack/LATEST/password",
                     "/openstack/latest/Password",
                     "/openstack/latest/PASSWORD",
                     "/openstack/2013-4-4/password",
                     "/ec2/latest/password", "/nothing"):
            st, _, _ = self.g("GET", path, headers=h)
            self.assertEqual(st, 404, path)
            # And the same paths still identify first (Nova's order).
            self.assertEqual(self.g("GET", path)[0], 400, path)
        # A POST to a path that is not the password stores nothing.
        for path in ("/openstack/2012-08-10/password",
                     "/openstack/latest/password/x", "/latest/password",
                     "/openstack/latest/Password"):
            st, _, _ = self.g("POST", path, body=b"not-stored", headers=h)
            self.assertEqual(st, 404, path)
        for path in ("/openstack/latest", "/openstack/latest/meta_data.json",
                     "/openstack/latest/vendor_data.json", "/"):
            self.assertEqual(self.g("POST", path, body=b"not-stored",
                                    headers=h)[0], 200, path)
        self.assert_pw(h, b"")

    def test_password_at_every_version_from_grizzly(self):
        value = canary("versions")
        _, h = self.new()
        self.assertEqual(self.g("POST", "/openstack/2013-04-04/password",
                                body=value.encode(), headers=h)[0], 200)
        for v in PW_VERSIONS:
            self.assert_pw(h, value.encode(), f"/openstack/{v}/password")

    def test_path_normalisation_and_query(self):
        value = canary("paths")
        _, h = self.new()
        self.assertEqual(self.g("POST", "//openstack//latest//password",
                                body=value.encode(), headers=h)[0], 200)
        for path in ("//openstack//latest//password",
                     "/openstack/x/../latest/password",
                     "/openstack/latest/password/",
                     "/openstack/./latest/./password",
                     "/a/b/../../openstack/latest/password",
                     "/../openstack/latest/password",
                     "/openstack/latest/password?x=1",
                     "/openstack/latest/password?",
                     "/openstack/latest/password/?a=b&c=../..",
                     "/openstack/latest/%70assword",
                     "/openstack%2Flatest%2Fpassword"):
            self.assert_pw(h, value.encode(), path)

    def test_meta_data_json(self):
        iid, h = self.new("proj-meta", keys={"alice": ED_KEY},
                          hostname="vm-1.example.org")
        for v in ("2012-08-10", "2013-04-04", "latest"):
            st, hdrs, body = self.g("GET", f"/openstack/{v}/meta_data.json",
                                    headers=h)
            self.assertEqual(st, 200)
            self.assertEqual(hdrs.get("Content-Type"), "application/json")
            md = json.loads(body)
            self.assertEqual(md["uuid"], iid)
            self.assertEqual(md["name"], "vm-1.example.org")
            self.assertEqual(md["hostname"], "vm-1.example.org")
            self.assertEqual(md["project_id"], "proj-meta")
            self.assertEqual(md["public_keys"], {"alice": ED_KEY})
            self.assertEqual(md["keys"], [{"name": "alice", "type": "ssh",
                                           "data": ED_KEY}])
        # No hostname, no keys.
        iid2, h2 = self.new("proj-meta")
        md = json.loads(self.g("GET", "/openstack/latest/meta_data.json",
                               headers=h2)[2])
        self.assertEqual(md["uuid"], iid2)
        self.assertEqual(md["public_keys"], {})
        self.assertEqual(md["keys"], [])
        self.assertEqual(md["project_id"], "proj-meta")

    def test_vendor_and_network_data(self):
        _, h = self.new()
        for v in ("2013-10-17", "latest"):
            st, hdrs, body = self.g("GET", f"/openstack/{v}/vendor_data.json",
                                    headers=h)
            self.assertEqual((st, json.loads(body)), (200, {}))
            self.assertEqual(hdrs.get("Content-Type"), "application/json")
        st, _, body = self.g("GET", "/openstack/latest/vendor_data2.json",
                             headers=h)
        self.assertEqual((st, json.loads(body)), (200, {}))
        st, hdrs, body = self.g("GET", "/openstack/latest/network_data.json",
                                headers=h)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body),
                         {"links": [], "networks": [], "services": []})
        self.assertEqual(hdrs.get("Content-Type"), "application/json")


class Identity(ProxyBase):
    def why(self, body):
        # webob's text/plain layout: "<code> <title>\n\n<explanation>\n\n   "
        return body.split(b"\n\n")[1].decode()

    def test_missing_headers_in_novas_order(self):
        iid, full = self.new("proj-id")
        I, S, T = ("X-Instance-ID", "X-Instance-ID-Signature", "X-Tenant-ID")
        miss_i = "X-Instance-ID header is missing from request."
        miss_s = "X-Instance-ID-Signature header is missing from request."
        miss_t = "X-Tenant-ID header is missing from request."
        cases = [((), miss_i), ((S,), miss_i), ((T,), miss_i),
                 ((S, T), miss_i), ((I,), miss_s), ((I, T), miss_s),
                 ((I, S), miss_t)]
        for path in (PW, "/openstack/latest", "/openstack"):
            for keep, want in cases:
                h = {k: full[k] for k in keep}
                st, hdrs, body = self.g("GET", path, headers=h)
                self.assertEqual(st, 400, (path, keep))
                self.assertEqual(self.why(body), want, (path, keep))
                if path == PW:
                    self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        # Presence is checked before the signature and the instance: a
        # missing tenant wins over a bad signature or an unknown id.
        h = {I: uuid4(), S: "0" * 64}
        st, _, body = self.g("GET", PW, headers=h)
        self.assertEqual((st, self.why(body)), (400, miss_t))
        other = uuid4()
        h = {I: other, S: self.d.sign(other)}
        self.assertEqual(self.g("POST", PW, body=b"x", headers=h)[0], 400)

    def test_bad_signatures_403(self):
        iid, h = self.new("proj-sig")
        good = h["X-Instance-ID-Signature"]
        other = uuid4()
        bad = ["0" * 64, "", good.upper(), self.d.sign(other), good[:-1],
               good + "0", good[:-1] + ("0" if good[-1] != "0" else "1"),
               " " + good[1:], "x" * 200, good + good]
        for sig in bad:
            hh = dict(h, **{"X-Instance-ID-Signature": sig})
            for m, body in (("GET", None), ("POST", b"nope")):
                st, hdrs, _ = self.g(m, PW, body=body, headers=hh)
                self.assertEqual(st, 403, (m, sig))
                self.assertEqual(hdrs.get("Cache-Control"), "no-store")
            self.assertEqual(self.g("GET", "/openstack/latest",
                                    headers=hh)[0], 403, sig)
        # A wrong secret (the signature of this very id, other key).
        wrong = hmac.new(b"not-the-secret", iid.encode(),
                         hashlib.sha256).hexdigest()
        hh = dict(h, **{"X-Instance-ID-Signature": wrong})
        self.assertEqual(self.g("GET", PW, headers=hh)[0], 403)
        # Nothing was stored by the refused POSTs.
        self.assert_pw(h, b"")

    def test_non_ascii_signature_403(self):
        iid, h = self.new("proj-sig8")
        for sig in ("é" * 32).encode(), b"\xff" * 64, b"\x80" * 10, \
                (h["X-Instance-ID-Signature"][:-2] + "é").encode():
            req = (b"GET " + PW.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                   b"X-Instance-ID: " + iid.encode() + b"\r\n"
                   b"X-Tenant-ID: proj-sig8\r\n"
                   b"X-Instance-ID-Signature: " + sig + b"\r\n"
                   b"Connection: close\r\n\r\n")
            r, closed = self.d.exchange(req)
            self.assertIsNotNone(r, sig)
            self.assertEqual(r.status, 403, sig)
            self.assertIsNone(r.header("Location"))
        # The daemon is still fine.
        self.assert_pw(h, b"")

    def test_unknown_instance_and_wrong_tenant_404(self):
        iid, h = self.new("proj-t")
        for unknown in (uuid4(), "z-z-z-z", "a" * 64):
            hh = self.d.proxy_headers(unknown, "proj-t")
            for m in ("GET", "POST"):
                st, hdrs, _ = self.g(m, PW, body=b"x" if m == "POST"
                                     else None, headers=hh)
                self.assertEqual(st, 404, (unknown, m))
                self.assertEqual(hdrs.get("Cache-Control"), "no-store")
            self.assertEqual(self.g("GET", "/openstack/latest",
                                    headers=hh)[0], 404)
        for tenant in ("proj-other", "PROJ-T", "proj-t-", "proj-", "",
                       "p" * 64, "proj-t" * 20):
            hh = dict(h, **{"X-Tenant-ID": tenant})
            self.assertEqual(self.g("GET", PW, headers=hh)[0], 404, tenant)
            self.assertEqual(self.g("POST", PW, body=b"x", headers=hh)[0],
                             404, tenant)
        # None of those POSTs stored anything.
        self.assert_pw(h, b"")

    def test_x_forwarded_for_optional_not_used(self):
        value = canary("xff")
        _, h = self.new("proj-xff")
        for xff in ("10.0.0.7", "10.0.0.7, 1.2.3.4", "garbage"):
            st, _, body = self.g("GET", PW,
                                 headers=dict(h, **{"X-Forwarded-For": xff}))
            self.assertEqual((st, body), (200, b""))
        st, _, _ = self.g("POST", PW, body=value.encode(),
                          headers=dict(h, **{"X-Forwarded-For": "10.9.9.9"}))
        self.assertEqual(st, 200)
        self.assert_pw(h, value.encode())


class EmptySecret(unittest.TestCase):
    """nova-compat §4.1: an empty shared secret still works (the HMAC key
    is b""); Nova only warns at startup, and so does sealmd."""

    def test_empty_secret(self):
        state = tempfile.mkdtemp(prefix="sealmd-it-")
        fd = os.open(os.path.join(state, "proxy_secret"),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        d = Daemon(state=state).start()
        try:
            self.assertEqual(d.secret, b"")
            self.assertRegex(d.log(), r"proxy shared secret is empty")
            iid = uuid4()
            self.assertEqual(d.register(iid, "proj-e")[0], 201)
            sig = hmac.new(b"", iid.encode(), hashlib.sha256).hexdigest()
            h = {"X-Instance-ID": iid, "X-Tenant-ID": "proj-e",
                 "X-Instance-ID-Signature": sig}
            value = canary("empty-secret")
            self.assertEqual(d.guest("POST", PW, body=value.encode(),
                                     headers=h)[0], 200)
            self.assertEqual(d.guest("GET", PW, headers=h)[2],
                             value.encode())
            bad = dict(h, **{"X-Instance-ID-Signature": "0" * 64})
            self.assertEqual(d.guest("GET", PW, headers=bad)[0], 403)
            bad = dict(h, **{"X-Instance-ID-Signature": ""})
            self.assertEqual(d.guest("GET", PW, headers=bad)[0], 403)
        finally:
            deaths = d.worker_deaths()
            d.cleanup()
        self.assertEqual(deaths, [])


class Password(ProxyBase):
    def test_get_unset_post_get_conflict(self):
        value = canary("basic")
        _, h = self.new()
        st, hdrs, body = self.g("GET", PW, headers=h)
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        st, hdrs, body = self.g("POST", PW, body=value.encode(), headers=h)
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        self.assert_pw(h, value.encode())
        for again in (b"other", value.encode(), b""):
            st, hdrs, _ = self.g("POST", PW, body=again, headers=h)
            self.assertEqual(st, 409, again)
            self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        self.assert_pw(h, value.encode())

    def test_concurrent_posts_exactly_one_wins(self):
        _, h = self.new()
        values = [canary(f"race{i}").encode() for i in range(10)]
        results = [None] * 10
        barrier = threading.Barrier(10, timeout=10)

        def post(i):
            try:
                barrier.wait()
                results[i] = self.d.guest("POST", PW, body=values[i],
                                          headers=h)[0]
            except Exception as e:  # reported below
                results[i] = repr(e)

        threads = [threading.Thread(target=post, args=(i,))
                   for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        self.assertEqual(sorted(results, key=str), [200] + [409] * 9,
                         results)
        winner = values[results.index(200)]
        self.assert_pw(h, winner)

    def test_many_connections_each_get_their_own_answers(self):
        """Answers to many connections leave the broker in one turn,
        several to a datagram (chan_pack): each must reach its own
        connection, in its order.  Every connection pipelines a POST of
        its own value, a second POST (409) and a GET of the value."""
        n = 48
        conns, values, reqs = [], [], []
        for i in range(n):
            _, h = self.new()
            value = canary(f"packed{i}")
            hdrs = "".join(f"{k}: {v}\r\n" for k, v in h.items())
            post = (f"POST {PW} HTTP/1.1\r\nHost: x\r\n{hdrs}"
                    f"Content-Length: {len(value)}\r\n\r\n{value}")
            get = f"GET {PW} HTTP/1.1\r\nHost: x\r\n{hdrs}\r\n"
            values.append(value.encode())
            reqs.append((post + post + get).encode())
            conns.append(self.d.conn(timeout=20))
        try:
            for c, r in zip(conns, reqs):
                c.send(r)
            for i, c in enumerate(conns):
                got = [c.read_response() for _ in range(3)]
                self.assertNotIn(None, got, f"connection {i}: {got}")
                self.assertEqual([r.status for r in got], [200, 409, 200],
                                 f"connection {i}")
                self.assertEqual(got[2].body, values[i], f"connection {i}")
        finally:
            for c in conns:
                c.close()

    def test_conflict_checked_before_size(self):
        value = canary("size-order")
        _, h = self.new()
        self.assertEqual(self.g("POST", PW, body=value.encode(),
                                headers=h)[0], 200)
        st, hdrs, _ = self.g("POST", PW, body=b"A" * 5000, headers=h)
        self.assertEqual(st, 409)
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        r, _ = self.d.exchange(self.raw_post(h, b"abc", cl=5000))
        self.assertEqual(r.status, 409)
        r, _ = self.d.exchange(self.raw_post(h, b"\xff\xfe", cl=2),
                               check_close=False)
        self.assertEqual(r.status, 409)
        self.assert_pw(h, value.encode())
        # On an unset password the same requests are too large.
        _, h2 = self.new()
        self.assertEqual(self.g("POST", PW, body=b"A" * 5000,
                                headers=h2)[0], 400)
        r, closed = self.d.exchange(self.raw_post(h2, b"abc", cl=5000))
        self.assertEqual(r.status, 400)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertTrue(closed)
        self.assert_pw(h2, b"")

    def raw_post(self, h, body, cl=None, path=PW, extra=b""):
        head = (f"POST {path} HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                f"X-Instance-ID: {h['X-Instance-ID']}\r\n"
                f"X-Tenant-ID: {h['X-Tenant-ID']}\r\n"
                f"X-Instance-ID-Signature: {h['X-Instance-ID-Signature']}"
                f"\r\n").encode()
        if cl is not None:
            head += f"Content-Length: {cl}\r\n".encode()
        return head + extra + b"\r\n" + body

    def test_size_limit_1020_bytes(self):
        _, h = self.new()
        ok = remember_secret("Z" * 1008 + canary("lim")[-12:])
        self.assertEqual(len(ok), 1020)
        _, h2 = self.new()
        st, _, _ = self.g("POST", PW, body=b"Y" * 1021, headers=h2)
        self.assertEqual(st, 400)
        self.assert_pw(h2, b"")
        st, _, _ = self.g("POST", PW, body=("é" * 510 + "x").encode(),
                          headers=h2)
        self.assertEqual(st, 400)
        self.assert_pw(h2, b"")
        self.assertEqual(self.g("POST", PW, body=ok.encode(),
                                headers=h)[0], 200)
        self.assert_pw(h, ok.encode())
        # 1020 bytes still fits after the failed attempts on h2.
        self.assertEqual(self.g("POST", PW, body=b"Y" * 1020,
                                headers=h2)[0], 200)
        self.assert_pw(h2, b"Y" * 1020)

    def test_content_length_header_counts(self):
        _, h = self.new()
        r, closed = self.d.exchange(self.raw_post(h, b"abc", cl=5000))
        self.assertEqual(r.status, 400)
        self.assertTrue(closed)
        r, closed = self.d.exchange(self.raw_post(h, b"abc", cl=1021))
        self.assertEqual(r.status, 400)
        self.assert_pw(h, b"")
        # The instance can still set its password afterwards.
        self.assertEqual(self.g("POST", PW, body=b"after", headers=h)[0],
                         200)
        self.assert_pw(h, b"after")

    def test_multibyte_round_trips(self):
        for value in ("é" * 510,                       # 1020 bytes
                      "😀" * 255,                      # 4-byte chars
                      "a" + "中" * 339,                # 1018 bytes
                      ("x" * 420 + "é" * 180),         # 600 characters
                      "P@ssw0rd-é中" + canary("mb")):
            remember_secret(value)
            _, h = self.new()
            st, _, _ = self.g("POST", PW, body=value.encode(), headers=h)
            self.assertEqual(st, 200, value[:20])
            self.assert_pw(h, value.encode())
            st, js = self.d.owner(
                "GET", f"/servers/{h['X-Instance-ID']}/os-server-password")
            self.assertEqual((st, js), (200, {"password": value}))

    def test_600_ascii_characters(self):
        value = remember_secret((canary("six") * 40)[:600])
        _, h = self.new()
        self.assertEqual(self.g("POST", PW, body=value.encode(),
                                headers=h)[0], 200)
        self.assert_pw(h, value.encode())

    def test_empty_post_is_a_noop(self):
        _, h = self.new()
        for _ in range(2):
            st, _, body = self.g("POST", PW, body=b"", headers=h)
            self.assertEqual((st, body), (200, b""))
            self.assert_pw(h, b"")
        r, _ = self.d.exchange(self.raw_post(h, b"", cl=0), check_close=False)
        self.assertEqual(r.status, 200)
        self.assert_pw(h, b"")
        value = canary("after-empty")
        self.assertEqual(self.g("POST", PW, body=value.encode(),
                                headers=h)[0], 200)
        self.assert_pw(h, value.encode())

    def test_invalid_utf8_400(self):
        _, h = self.new()
        for body in (b"\xff", b"abc\xc3", b"\xc0\xaf", b"\xed\xa0\x80",
                     b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", b"\x80abc",
                     "é".encode("latin-1") + b"-sealmd"):
            st, hdrs, _ = self.g("POST", PW, body=body, headers=h)
            self.assertEqual(st, 400, body)
            self.assertEqual(hdrs.get("Cache-Control"), "no-store")
            self.assert_pw(h, b"")
        self.assertEqual(self.g("POST", PW, body=b"ok-now", headers=h)[0],
                         200)
        self.assert_pw(h, b"ok-now")

    def test_chunked_post_411(self):
        _, h = self.new()
        req = self.raw_post(h, b"5\r\nhello\r\n0\r\n\r\n",
                            extra=b"Transfer-Encoding: chunked\r\n")
        r, closed = self.d.exchange(req)
        self.assertEqual(r.status, 411)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertTrue(closed)
        self.assert_pw(h, b"")
        # Only the head is needed for the answer: send the chunks later.
        with self.d.conn() as c:
            c.send(self.raw_post(h, b"", extra=b"Transfer-Encoding: "
                                 b"Chunked\r\n"))
            r = c.read_response()
            self.assertEqual(r.status, 411)
            self.assertTrue(c.closed())
        self.assert_pw(h, b"")
        # Identity still comes first.
        hh = dict(h, **{"X-Instance-ID-Signature": "0" * 64})
        r, _ = self.d.exchange(self.raw_post(
            hh, b"0\r\n\r\n", extra=b"Transfer-Encoding: chunked\r\n"))
        self.assertEqual(r.status, 403)

    def test_other_methods_400_after_identity(self):
        _, h = self.new()
        for m in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"):
            st, hdrs, body = self.g(m, PW, body=b"x" if m in
                                    ("PUT", "PATCH") else None, headers=h)
            self.assertEqual(st, 400, m)
            self.assertIn(b"GET and POST only are supported.", body)
            self.assertEqual(hdrs.get("Cache-Control"), "no-store")
            # Identity is checked first.
            self.assertEqual(self.g(m, PW)[0], 400, m)
            bad = dict(h, **{"X-Instance-ID-Signature": "0" * 64})
            self.assertEqual(self.g(m, PW, headers=bad)[0], 403, m)
            unknown = self.d.proxy_headers(uuid4(), "proj-a")
            self.assertEqual(self.g(m, PW, headers=unknown)[0], 404, m)
        st, hdrs, body = self.g("HEAD", PW, headers=h)
        self.assertEqual((st, body), (400, b""))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        # HEAD sends no body even on a raw, kept-alive connection.
        with self.d.conn() as c:
            req = (f"HEAD {PW} HTTP/1.1\r\nHost: x\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode()
            c.send(req + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response(head=True)
            self.assertEqual(r.status, 400)
            r2 = c.read_response()
            self.assertEqual((r2.status, r2.body), (200, EC2_ROOT))
        self.assert_pw(h, b"")

    def test_nul_byte_round_trips(self):
        _, h = self.new()
        st, _, _ = self.g("POST", PW, body=b"a\x00b", headers=h)
        self.assertEqual(st, 200)
        self.assert_pw(h, b"a\x00b")
        st, js = self.d.owner(
            "GET", f"/servers/{h['X-Instance-ID']}/os-server-password")
        self.assertEqual((st, js), (200, {"password": "a\x00b"}))

    def test_cloudbase_init_post_shape(self):
        iid, h = self.new("proj-cbi")
        value = base64.b64encode(canary("cbi").encode() * 8)
        remember_secret(value)
        # cloudbase-init first asks for meta_data.json and the password.
        self.assertEqual(self.g("GET", "/openstack/2013-04-04/meta_data.json",
                                headers=h)[0], 200)
        self.assert_pw(h, b"", "/openstack/2013-04-04/password")
        # requests, relayed by neutron: no Content-Type, Content-Length
        # set, keep-alive, the four proxy headers.
        req = (b"POST /openstack/2013-04-04/password HTTP/1.1\r\n"
               b"Host: 169.254.169.254\r\n"
               b"User-Agent: python-requests/2.28.1\r\n"
               b"Accept-Encoding: gzip, deflate\r\nAccept: */*\r\n"
               b"Connection: keep-alive\r\n"
               b"X-Forwarded-For: 10.0.0.5\r\n"
               b"X-Instance-ID: " + iid.encode() + b"\r\n"
               b"X-Tenant-ID: proj-cbi\r\n"
               b"X-Instance-ID-Signature: " +
               h["X-Instance-ID-Signature"].encode() + b"\r\n"
               b"Content-Length: " + str(len(value)).encode() + b"\r\n\r\n" +
               value)
        with self.d.conn() as c:
            c.send(req)
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b""))
            self.assertEqual(r.header("Cache-Control"), "no-store")
            self.assertIsNone(r.header("Location"))
            # A retry on the same connection is a conflict.
            c.send(req)
            self.assertEqual(c.read_response().status, 409)
        self.assert_pw(h, value, "/openstack/2013-04-04/password")

    def test_identity_checked_before_size(self):
        _, h = self.new()
        bad = dict(h, **{"X-Instance-ID-Signature": "0" * 64})
        self.assertEqual(self.g("POST", PW, body=b"A" * 5000,
                                headers=bad)[0], 403)
        r, _ = self.d.exchange(self.raw_post(bad, b"abc", cl=5000))
        self.assertEqual(r.status, 403)
        unknown = self.d.proxy_headers(uuid4(), "proj-a")
        self.assertEqual(self.g("POST", PW, body=b"A" * 5000,
                                headers=unknown)[0], 404)
        self.assertEqual(self.g("POST", PW, body=b"\xff",
                                headers=unknown)[0], 404)
        self.assertEqual(self.g("POST", PW, body=b"A" * 5000)[0], 400)
        self.assert_pw(h, b"")

    def test_form_encoded_post_stored_verbatim(self):
        # curl -d (OPNsense firstboot): form Content-Type, body verbatim.
        _, h = self.new()
        value = (base64.b64encode(canary("form").encode() * 5) +
                 b"+/=&a=%41 b")
        remember_secret(value)
        st, _, _ = self.g("POST", "/openstack/2013-04-04/password",
                          body=value, headers=dict(h, **{
                              "Content-Type":
                                  "application/x-www-form-urlencoded",
                              "User-Agent": "curl/7.88.1",
                              "Accept": "*/*"}))
        self.assertEqual(st, 200)
        self.assert_pw(h, value)

    def test_header_names_case_insensitive(self):
        value = canary("lowercase")
        iid, h = self.new()
        lower = {k.lower(): v for k, v in h.items()}
        self.assertEqual(self.g("POST", PW, body=value.encode(),
                                headers=lower)[0], 200)
        upper = {k.upper(): v for k, v in h.items()}
        self.assert_pw(upper, value.encode())

    def test_no_location_and_no_redirect_anywhere(self):
        _, h = self.new()
        for path in ("/openstack", "/openstack/latest", "/openstack/latest/",
                     PW, PW + "/", "/x", "//", "/openstack/9999-99-99"):
            for hh in (h, {}):
                st, hdrs, _ = self.g("GET", path, headers=hh)
                self.assertNotIn(st, (301, 302, 303, 307, 308), path)


if __name__ == "__main__":
    unittest.main()
