# SPDX-License-Identifier: ISC
"""The owner API on the unix socket (README, "The owner API and
sealmdctl"; nova-compat §6):
registration, listing, Nova's os-server-password, status, errors, and
SO_PEERCRED authorisation."""
import base64
import json
import grp
import os
import pwd
import shutil
import socket
import stat
import subprocess
import unittest

from sealmd_fixture import (IS_ROOT, SEALMDCTL, STORE_NAME, Daemon,
                            PeersAllowedCase, canary, uuid4)

PW = "/openstack/latest/password"
ED_BLOB = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" +
                           bytes(32)).decode()
ED_KEY = f"ssh-ed25519 {ED_BLOB} bob@example"


def pwpath(iid):
    return f"/servers/{iid}/os-server-password"


def as_peer(sock, uid, gid, requests):
    """Send each raw request on its own connection to sock from a child
    running as uid/gid with no supplementary group; return each answer's
    status line and body as "STATUS|BODY"."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into unittest
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            out = []
            for req in requests:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                try:
                    s.connect(sock)
                    s.sendall(req)
                    data = b""
                    for _ in range(100):
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    out.append(data.split(b"\r\n", 1)[0].decode() +
                               "|" + data.split(b"\r\n\r\n", 1)[-1]
                               .decode("utf-8", "replace"))
                except OSError as e:
                    out.append(f"ERR {e}")
                finally:
                    s.close()
            os.write(w, json.dumps(out).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"client as uid {uid} failed: {data!r}")
    return json.loads(data)


def ctl_as(d, uid, gid, *args):
    """Run sealmdctl as uid/gid: a copy in d.state, which the caller has
    opened to others, as the clone's own directory may not be (/root)."""
    ctl = os.path.join(d.state, "sealmdctl")
    if not os.path.exists(ctl):
        shutil.copy(SEALMDCTL, ctl)
        os.chmod(ctl, 0o755)
    return subprocess.run([ctl, "-s", d.socket, *args], capture_output=True,
                          timeout=30, user=uid, group=gid, extra_groups=[],
                          cwd="/")


class OwnerBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def o(self, method, path, body=None, headers=None):
        """(status, parsed JSON or None, headers, raw body)"""
        st, hdrs, raw = self.d.owner_full(method, path, body=body,
                                          headers=headers)
        self.assertNotIn("location", {k.lower() for k in hdrs})
        js = None
        if raw:
            self.assertEqual(hdrs.get("Content-Type"), "application/json",
                             (method, path, raw))
            js = json.loads(raw)
        return st, js, hdrs, raw

    def assert_error(self, method, path, status, body=None):
        st, js, _, _ = self.o(method, path, body=body)
        self.assertEqual(st, status, (method, path, body))
        self.assertIsInstance(js, dict, (method, path))
        self.assertEqual(list(js), ["error"], js)
        self.assertIsInstance(js["error"], str)
        self.assertTrue(js["error"])
        return js


class Instances(OwnerBase):
    def test_put_create_then_replace(self):
        iid = uuid4()
        body = {"project_id": "proj-o1", "addresses": ["10.0.0.1"]}
        st, js, _, _ = self.o("PUT", f"/instances/{iid}", body)
        self.assertEqual((st, js), (201, {"id": iid}))
        st, js, _, _ = self.o("GET", f"/instances/{iid}")
        self.assertEqual(st, 200)
        self.assertEqual(js["id"], iid)
        self.assertEqual(js["project_id"], "proj-o1")
        self.assertEqual(js["addresses"], ["10.0.0.1"])
        self.assertEqual(js["hostname"], "")
        self.assertEqual(js["public_keys"], {})
        created = js["created"]
        self.assertIsInstance(created, int)
        body = {"project_id": "proj-o2", "hostname": "host-2.example",
                "addresses": ["10.0.0.2", "fd00::2"],
                "public_keys": {"bob": ED_KEY}}
        st, js, _, _ = self.o("PUT", f"/instances/{iid}", body)
        self.assertEqual((st, js), (200, {"id": iid}))
        st, js, _, _ = self.o("GET", f"/instances/{iid}")
        self.assertEqual(js, {"id": iid, "project_id": "proj-o2",
                              "hostname": "host-2.example",
                              "addresses": ["10.0.0.2", "fd00::2"],
                              "public_keys": {"bob": ED_KEY},
                              "created": created})
        # The replaced address is free again.
        other = uuid4()
        self.assertEqual(self.d.register(other, "p", ["10.0.0.1"])[0], 201)

    def test_uppercase_id_is_canonicalised(self):
        iid = uuid4()
        self.assertEqual(self.d.register(iid.upper(), "proj-up")[0], 201)
        st, js, _, _ = self.o("GET", f"/instances/{iid}")
        self.assertEqual((st, js["id"]), (200, iid))
        st, js, _, _ = self.o("GET", f"/instances/{iid.upper()}")
        self.assertEqual((st, js["id"]), (200, iid))

    def test_replace_keeps_password(self):
        iid = uuid4()
        self.assertEqual(self.d.register(iid, "proj-keep")[0], 201)
        v = canary("owner-keep")
        h = self.d.proxy_headers(iid, "proj-keep")
        self.assertEqual(self.d.guest("POST", PW, body=v.encode(),
                                      headers=h)[0], 200)
        self.assertEqual(self.d.register(iid, "proj-keep",
                                         hostname="renamed")[0], 200)
        st, js, _, _ = self.o("GET", pwpath(iid))
        self.assertEqual((st, js), (200, {"password": v}))

    def test_list_pages(self):
        d = self.d
        mine = set()
        for i in range(150):
            iid = uuid4()
            self.assertEqual(d.register(iid, f"proj-list-{i % 3}")[0], 201)
            mine.add((iid, f"proj-list-{i % 3}"))
        st, js, _, _ = self.o("GET", "/instances")
        self.assertEqual(st, 200)
        self.assertEqual(list(js), ["instances"])
        got = [(e["id"], e["project_id"]) for e in js["instances"]]
        self.assertEqual(len(got), len(set(got)), "duplicates in listing")
        self.assertTrue(mine <= set(got), mine - set(got))
        ids = [e[0] for e in got]
        self.assertEqual(ids, sorted(ids))
        st, status, _, _ = self.o("GET", "/status")
        self.assertEqual(status["instances"], len(got))
        for e in js["instances"]:
            self.assertEqual(sorted(e), ["id", "project_id"])

    def test_delete_removes_password(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-del", ["10.0.9.9"])[0], 201)
        h = d.proxy_headers(iid, "proj-del")
        v = canary("owner-del")
        self.assertEqual(d.guest("POST", PW, body=v.encode(), headers=h)[0],
                         200)
        st, js, hdrs, raw = self.o("DELETE", f"/instances/{iid}")
        self.assertEqual((st, raw), (204, b""))
        self.assertIsNone(hdrs.get("Content-Length"))
        self.assertEqual(self.o("GET", f"/instances/{iid}")[0], 404)
        self.assertEqual(self.o("GET", pwpath(iid))[0], 404)
        self.assertEqual(d.guest("GET", PW, headers=h)[0], 404)
        self.assertEqual(self.o("DELETE", f"/instances/{iid}")[0], 404)
        # Re-registered: no password, and its address was freed.
        self.assertEqual(d.register(iid, "proj-del", ["10.0.9.9"])[0], 201)
        st, _, body = d.guest("GET", PW, headers=h)
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(self.o("GET", pwpath(iid))[1], {"password": ""})

    def test_address_taken_409(self):
        a, b = uuid4(), uuid4()
        self.assertEqual(self.d.register(a, "p", ["10.7.0.1"])[0], 201)
        js = self.assert_error("PUT", f"/instances/{b}", 409,
                               {"project_id": "p",
                                "addresses": ["10.7.0.2", "10.7.0.1"]})
        self.assertEqual(self.o("GET", f"/instances/{b}")[0], 404)
        # Also when replacing an existing registration, which stays as is.
        self.assertEqual(self.d.register(b, "p", ["10.7.0.3"])[0], 201)
        self.assert_error("PUT", f"/instances/{b}", 409,
                          {"project_id": "p2", "addresses": ["10.7.0.1"]})
        st, js, _, _ = self.o("GET", f"/instances/{b}")
        self.assertEqual((js["project_id"], js["addresses"]),
                         ("p", ["10.7.0.3"]))

    def test_bad_bodies_400(self):
        iid = uuid4()
        path = f"/instances/{iid}"
        bad = [
            b"", b"{", b"not json", b"[]", b'"str"', b"null", b"42",
            b'{"project_id": "p", "project_id": "q"}',
            {"project_id": "p", "colour": "blue"},
            {"project_id": "p", "password": "x"},
            {"addresses": []},
            {"hostname": "h"},
            {},
            {"project_id": ""},
            {"project_id": "has space"},
            {"project_id": "p" * 65},
            {"project_id": 5},
            {"project_id": None},
            {"project_id": "p\u00e9"},
            {"project_id": "p\u0000q"},
            {"project_id": "p", "addresses": "10.0.0.1"},
            {"project_id": "p", "addresses": ["999.1.1.1"]},
            {"project_id": "p", "addresses": ["10.0.0.01"]},
            {"project_id": "p", "addresses": ["10.0.0"]},
            {"project_id": "p", "addresses": ["FD00::1"]},
            # Link-local needs its interface; nothing else takes one;
            # a network must be a direct section's (there is none here).
            {"project_id": "p", "addresses": ["fe80::1"]},
            {"project_id": "p", "addresses": ["10.0.0.1%eth0"]},
            {"project_id": "p", "addresses": ["fe80::1%eth/0"]},
            {"project_id": "p", "addresses": ["10.0.0.1@nope"]},
            {"project_id": "p", "addresses": ["10.0.0.1/24"]},
            {"project_id": "p", "addresses": ["host.example"]},
            {"project_id": "p", "addresses": [""]},
            {"project_id": "p", "addresses": [7]},
            {"project_id": "p", "addresses": ["10.0.0.1", "10.0.0.1"]},
            {"project_id": "p",
             "addresses": [f"10.8.0.{i}" for i in range(9)]},
            {"project_id": "p", "hostname": "bad host"},
            {"project_id": "p", "hostname": "h" * 256},
            {"project_id": "p", "hostname": "h_x"},
            {"project_id": "p", "public_keys": ["ssh-ed25519 AAAA"]},
            {"project_id": "p", "public_keys": {"k": "nospace"}},
            {"project_id": "p", "public_keys": {"bad name": ED_KEY}},
            {"project_id": "p", "public_keys": {"k": 5}},
            {"project_id": "p", "public_keys": {"k": "ssh-rsa AA\nBB"}},
            {"project_id": "p", "public_keys": {
                f"k{i}": ED_KEY for i in range(5)}},
        ]
        for body in bad:
            self.assert_error("PUT", path, 400, body)
            self.assertEqual(self.o("GET", path)[0], 404, body)
        # Too large for the owner body limit.
        st, _, _, _ = self.o("PUT", path, {"project_id": "p",
                                           "hostname": "h" * 40000})
        self.assertIn(st, (400, 413))
        self.assertEqual(self.o("GET", path)[0], 404)

    def test_good_edge_bodies(self):
        # At the limits, everything is accepted.
        iid = uuid4()
        body = {"project_id": "P" * 64, "hostname": "h" * 255,
                "addresses": [f"10.9.0.{i}" for i in range(8)],
                "public_keys": {f"k{i}": ED_KEY for i in range(4)}}
        st, _, _, _ = self.o("PUT", f"/instances/{iid}", body)
        self.assertEqual(st, 201)
        st, js, _, _ = self.o("GET", f"/instances/{iid}")
        self.assertEqual(js["addresses"], body["addresses"])
        self.assertEqual(js["public_keys"], body["public_keys"])
        self.assertEqual(js["hostname"], "h" * 255)


class ServerPassword(OwnerBase):
    def test_get_clear_repost(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-pw")[0], 201)
        h = d.proxy_headers(iid, "proj-pw")
        st, js, hdrs, _ = self.o("GET", pwpath(iid))
        self.assertEqual((st, js), (200, {"password": ""}))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        v1 = canary("owner-pw1")
        self.assertEqual(d.guest("POST", PW, body=v1.encode(),
                                 headers=h)[0], 200)
        st, js, hdrs, _ = self.o("GET", pwpath(iid))
        self.assertEqual((st, js), (200, {"password": v1}))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        st, js, hdrs, raw = self.o("DELETE", pwpath(iid))
        self.assertEqual((st, raw), (204, b""))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        self.assertEqual(self.o("GET", pwpath(iid))[1], {"password": ""})
        st, _, body = d.guest("GET", PW, headers=h)
        self.assertEqual((st, body), (200, b""))
        # Clearing an unset password is fine too.
        self.assertEqual(self.o("DELETE", pwpath(iid))[0], 204)
        v2 = canary("owner-pw2")
        self.assertEqual(d.guest("POST", PW, body=v2.encode(),
                                 headers=h)[0], 200)
        self.assertEqual(self.o("GET", pwpath(iid))[1], {"password": v2})
        self.assertEqual(d.guest("POST", PW, body=b"x", headers=h)[0], 409)

    def test_password_json_escaping(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-esc")[0], 201)
        v = 'q"\\\n\t\x01\x7f</script>é中😀\x00end'
        self.assertEqual(d.guest("POST", PW, body=v.encode(),
                                 headers=d.proxy_headers(iid, "proj-esc"))[0],
                         200)
        st, js, _, raw = self.o("GET", pwpath(iid))
        self.assertEqual((st, js), (200, {"password": v}))

    def test_unknown_and_invalid_ids(self):
        unknown = uuid4()
        for m, path in (("GET", f"/instances/{unknown}"),
                        ("DELETE", f"/instances/{unknown}"),
                        ("GET", pwpath(unknown)),
                        ("DELETE", pwpath(unknown))):
            self.assert_error(m, path, 404)
        for bad in ("not-a-uuid", "1234", unknown.replace("-", ""),
                    unknown[:-1] + "g", unknown + "0", "z" * 36,
                    unknown[:8] + "_" + unknown[9:]):
            for m, path in (("GET", f"/instances/{bad}"),
                            ("PUT", f"/instances/{bad}"),
                            ("DELETE", f"/instances/{bad}"),
                            ("GET", pwpath(bad)), ("DELETE", pwpath(bad))):
                self.assert_error(m, path, 400,
                                  {"project_id": "p"} if m == "PUT" else None)


class Routes(OwnerBase):
    def test_unknown_routes_404(self):
        iid = uuid4()
        for m, path in (("GET", "/"), ("GET", "/foo"), ("GET", "/instances/"
                        f"{iid}/x"), ("GET", f"/servers/{iid}"),
                        ("GET", f"/servers/{iid}/other"),
                        ("GET", f"/servers/{iid}/os-server-password/x"),
                        ("GET", "/openstack/latest/password"),
                        ("GET", "/Status"), ("GET", "/INSTANCES"),
                        ("POST", "/nothing")):
            self.assert_error(m, path, 404)

    def test_wrong_methods_405(self):
        iid = uuid4()
        for m, path, allow in (
                ("POST", "/instances", "GET"),
                ("PUT", "/instances", "GET"),
                ("DELETE", "/instances", "GET"),
                ("POST", f"/instances/{iid}", "GET, PUT, DELETE"),
                ("PATCH", f"/instances/{iid}", "GET, PUT, DELETE"),
                ("POST", pwpath(iid), "GET, DELETE"),
                ("PUT", pwpath(iid), "GET, DELETE"),
                ("PUT", "/status", "GET"),
                ("DELETE", "/status", "GET")):
            st, js, hdrs, _ = self.o(m, path)
            self.assertEqual(st, 405, (m, path))
            self.assertEqual(list(js), ["error"])
            self.assertEqual(hdrs.get("Allow"), allow, (m, path))

    def test_status(self):
        st, js, _, _ = self.o("GET", "/status")
        self.assertEqual(st, 200)
        for k in ("version", "store"):
            self.assertIsInstance(js[k], str)
            self.assertTrue(js[k])
        for k in ("uptime", "instances", "passwords", "listeners",
                  "worker_pid", "worker_restarts", "key_newest", "keys"):
            self.assertIsInstance(js[k], int, k)
            self.assertGreaterEqual(js[k], 0, k)
        self.assertEqual(js["store"], STORE_NAME)
        self.assertEqual((js["keys"], js["key_newest"]), (1, 1))
        self.assertEqual(js["listeners"], 2)
        self.assertEqual(js["worker_pid"], self.d.worker_pid())
        # The counts follow what happens.
        iid = uuid4()
        self.assertEqual(self.d.register(iid, "proj-st")[0], 201)
        self.assertEqual(self.d.guest(
            "POST", PW, body=canary("status").encode(),
            headers=self.d.proxy_headers(iid, "proj-st"))[0], 200)
        js2 = self.o("GET", "/status")[1]
        self.assertEqual(js2["instances"], js["instances"] + 1)
        self.assertEqual(js2["passwords"], js["passwords"] + 1)

    def test_keep_alive_on_owner_socket(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.d.socket)
        try:
            s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /instances HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            for _ in range(100):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        self.assertEqual(data.count(b"HTTP/1.1 200 OK\r\n"), 2, data[:300])


class ListingPages(unittest.TestCase):
    """GET /instances is assembled from the broker's pages of 64 into the
    client's pages of ?limit= (at most 1000): check the edges."""

    def test_page_boundaries(self):
        d = Daemon().start()
        try:
            self.assertEqual(d.owner("GET", "/instances"),
                             (200, {"instances": []}))
            ids = []
            for n in range(1, 130):
                iid = uuid4()
                ids.append(iid)
                self.assertEqual(d.register(iid, f"p{n}")[0], 201)
                if n in (1, 63, 64, 65, 127, 128, 129):
                    st, js = d.owner("GET", "/instances")
                    got = [e["id"] for e in js["instances"]]
                    self.assertEqual(st, 200)
                    self.assertEqual(got, sorted(ids), n)
            self.assertEqual(d.owner("GET", "/status")[1]["instances"], 129)
            self.check_client_pages(d, sorted(ids))
            self.check_bad_queries(d)
        finally:
            deaths = d.worker_deaths()
            d.cleanup()
        self.assertEqual(deaths, [])

    def walk(self, d, path):
        """Follow the next links from path; returns (ids, page sizes)."""
        ids, sizes = [], []
        for _ in range(200):
            st, js = d.owner("GET", path)
            self.assertEqual(st, 200, (path, js))
            self.assertLessEqual(set(js), {"instances", "next"})
            ids += [e["id"] for e in js["instances"]]
            sizes.append(len(js["instances"]))
            if "next" not in js:
                return ids, sizes
            path = js["next"]
            self.assertEqual(path, "/instances?limit=%d&marker=%s" %
                             (sizes[0], ids[-1]))
        self.fail("next links do not end")

    def check_client_pages(self, d, ids):
        # limit=N pages of N, crossing the broker's pages of 64 or not.
        for n, sizes in ((1000, [129]), (129, [129]), (128, [128, 1]),
                         (64, [64, 64, 1]), (65, [65, 64]), (1, [1] * 129),
                         (50, [50, 50, 29])):
            self.assertEqual(self.walk(d, f"/instances?limit={n}"),
                             (ids, sizes), n)
        # The marker is where the walk left off: it need not exist, and
        # upper case is the same id.
        self.assertEqual(self.walk(d, f"/instances?marker={ids[99]}")[0],
                         ids[100:])
        self.assertEqual(self.walk(
            d, f"/instances?marker={ids[99].upper()}&limit=7")[0], ids[100:])
        self.assertEqual(d.owner("DELETE", f"/instances/{ids[99]}")[0], 204)
        self.assertEqual(self.walk(d, f"/instances?marker={ids[99]}")[0],
                         ids[100:])
        self.assertEqual(d.owner("GET", f"/instances?marker={ids[-1]}"),
                         (200, {"instances": []}))
        # Names other than limit and marker are ignored, as Nova does.
        self.assertEqual(self.walk(d, "/instances?x=1&limit=100&y")[1],
                         [100, 28])

    def check_bad_queries(self, d):
        lim = "limit: 1 to 1000 instances"
        mark = "marker: an instance id (uuid)"
        for q, why in (("limit=0", lim), ("limit=1001", lim),
                       ("limit=-1", lim), ("limit=1e3", lim),
                       ("limit=", lim), ("limit=99999999999999999999", lim),
                       ("limit=5&limit=5", lim), ("limit=%205", lim),
                       ("marker=", mark), ("marker=zzz", mark),
                       ("marker=" + uuid4()[:-1], mark),
                       ("marker=" + uuid4() + "0", mark),
                       ("marker=%s&marker=%s" % (uuid4(), uuid4()), mark)):
            self.assertEqual(d.owner("GET", "/instances?" + q),
                             (400, {"error": why}), q)


class PeerNotAllowed(unittest.TestCase):
    """SO_PEERCRED: a uid that is neither root, the daemon's, nor listed
    gets 403 for every owner operation."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def test_other_uid_gets_403(self):
        if not IS_ROOT:
            self.skipTest("NOT ROOT: cannot switch to uid 65534 to test "
                          "SO_PEERCRED refusal")
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-peer")[0], 201)
        v = canary("peer")
        self.assertEqual(d.guest("POST", PW, body=v.encode(),
                                 headers=d.proxy_headers(iid, "proj-peer"))[0],
                         200)
        # Let uid 65534 reach the socket.
        os.chmod(d.state, 0o711)
        os.chmod(d.socket, 0o666)
        new = uuid4()
        body = json.dumps({"project_id": "evil"}).encode()
        reqs = [f"{m} {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                .encode() + (b"Content-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) +
                             body if m == "PUT" else b"\r\n")
                for m, p in (("GET", "/status"), ("GET", "/instances"),
                             ("GET", f"/instances/{iid}"),
                             ("PUT", f"/instances/{new}"),
                             ("PUT", f"/instances/{iid}"),
                             ("DELETE", f"/instances/{iid}"),
                             ("GET", pwpath(iid)), ("DELETE", pwpath(iid)))]
        try:
            out = as_peer(d.socket, 65534, 65534, reqs)
            # sealmdctl run by that uid: a server error, exit 1.
            for args in (("status",), ("get", iid), ("list",)):
                r = ctl_as(d, 65534, 65534, *args)
                self.assertEqual(r.returncode, 1, (args, r.stderr))
                self.assertIn(b"403", r.stderr)
                self.assertEqual(r.stdout, b"")
        finally:
            os.chmod(d.socket, 0o660)
            os.chmod(d.state, 0o700)
        self.assertEqual(len(out), len(reqs))
        for line in out:
            status, _, body = line.partition("|")
            self.assertEqual(status, "HTTP/1.1 403 Forbidden", out)
            self.assertNotIn(v, body)
            self.assertIn("error", json.loads(body))
        # Nothing changed.
        self.assertEqual(d.owner("GET", f"/instances/{new}")[0], 404)
        st, js = d.owner("GET", f"/instances/{iid}")
        self.assertEqual((st, js["project_id"]), (200, "proj-peer"))
        self.assertEqual(d.owner("GET", pwpath(iid)),
                         (200, {"password": v}))
        # And the socket's own mode keeps others out by default.
        self.assertEqual(stat.S_IMODE(os.stat(d.socket).st_mode), 0o660)

    def test_socket_mode_default(self):
        mode = stat.S_IMODE(os.stat(self.d.socket).st_mode)
        self.assertEqual(mode & 0o007, 0, oct(mode))


class PeerAllowed(PeersAllowedCase):
    """allow_uid and allow_group (sealmd.conf(5) [owner]): a listed uid,
    a member of a listed group by /etc/group's list, and a caller whose
    primary gid is the group's are served; any other uid still gets 403.
    The group is a throwaway one made for the test, listing bin."""
    TAG = "allow"
    WHY = "allow_uid and allow_group"

    def reqs(self):
        return [f"GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                f"\r\n".encode()
                for p in ("/status", f"/instances/{self.iid}",
                          pwpath(self.iid))]

    def assert_served(self, uid, gid):
        out = as_peer(self.d.socket, uid, gid, self.reqs())
        self.assertEqual([o.partition("|")[0] for o in out],
                         ["HTTP/1.1 200 OK"] * 3, out)
        self.assertEqual(json.loads(out[2].partition("|")[2]),
                         {"password": self.value})
        r = ctl_as(self.d, uid, gid, "get", self.iid)
        self.assertEqual((r.returncode, r.stdout.decode().strip()),
                         (0, self.value), r.stderr)

    def assert_refused(self, uid, gid):
        out = as_peer(self.d.socket, uid, gid, self.reqs())
        self.assertEqual([o.partition("|")[0] for o in out],
                         ["HTTP/1.1 403 Forbidden"] * 3, out)
        for o in out:
            self.assertNotIn(self.value, o)
        r = ctl_as(self.d, uid, gid, "get", self.iid)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"403", r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_listed_uid(self):
        self.assert_served(self.LISTED, self.LISTED)

    def test_member_of_listed_group(self):
        pw = pwd.getpwnam(self.MEMBER)
        # Its own primary group, not the listed one: the member list counts.
        self.assertNotEqual(pw.pw_gid, self.gid)
        self.assertIn(self.MEMBER, grp.getgrnam(self.group).gr_mem)
        self.assert_served(pw.pw_uid, pw.pw_gid)

    def test_primary_gid_of_listed_group(self):
        self.assert_served(65534, self.gid)

    def test_others_refused(self):
        self.assert_refused(65534, 65534)
        self.assert_refused(3, 3)       # sys: listed nowhere


if __name__ == "__main__":
    unittest.main()
