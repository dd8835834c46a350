# SPDX-License-Identifier: ISC
"""Guest side in direct mode (nova-compat §4.2; README, "What the guest
sees"): the peer address accept() gave the broker is the identity;
headers never change it, and proxied requests are refused."""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import unittest

from sealmd_fixture import IS_ROOT, Daemon, canary, pg_sql, uuid4

PW = "/openstack/latest/password"
EC2_ROOT = (b"1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n"
            b"2007-12-15\n2008-02-01\n2008-09-01\n2009-04-04\nlatest")
A_ADDR, B_ADDR, C_ADDR, NOBODY = ("127.0.0.2", "127.0.0.3", "127.0.0.4",
                                  "127.0.0.9")


class Direct(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(guests=(("direct", "127.0.0.1"),)).start()
        cls.a, cls.b, cls.c = uuid4(), uuid4(), uuid4()
        assert cls.d.register(cls.a, "proj-a", addresses=[A_ADDR],
                              hostname="vm-a")[0] == 201
        assert cls.d.register(cls.b, "proj-b",
                              addresses=[B_ADDR, "10.1.2.3"])[0] == 201
        assert cls.d.register(cls.c, "proj-c", addresses=[C_ADDR])[0] == 201
        cls.va = canary("direct-a").encode()
        cls.vb = canary("direct-b").encode()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def g(self, method, path, source, body=None, headers=None):
        st, hdrs, data = self.d.guest(method, path, body=body,
                                      headers=headers, source=source)
        self.assertNotIn("location", {k.lower() for k in hdrs})
        return st, hdrs, data

    def test_1_each_guest_sees_only_its_own_password(self):
        st, _, body = self.g("GET", PW, A_ADDR)
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(self.g("POST", PW, A_ADDR, body=self.va)[0], 200)
        self.assertEqual(self.g("GET", PW, B_ADDR)[2], b"")
        self.assertEqual(self.g("POST", "/openstack/2013-04-04/password",
                                B_ADDR, body=self.vb)[0], 200)
        st, hdrs, body = self.g("GET", PW, A_ADDR)
        self.assertEqual((st, body), (200, self.va))
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        self.assertEqual(self.g("GET", PW, B_ADDR)[2], self.vb)
        self.assertEqual(self.g("POST", PW, A_ADDR, body=b"again")[0], 409)
        self.assertEqual(self.g("GET", PW, A_ADDR)[2], self.va)
        st, js = self.d.owner("GET", f"/servers/{self.b}/os-server-password")
        self.assertEqual((st, js), (200, {"password": self.vb.decode()}))

    def test_2_identity_headers_are_ignored(self):
        # C claims to be A through every proxy header: still C.
        h = self.d.proxy_headers(self.a, "proj-a")
        self.assertEqual(self.g("GET", PW, C_ADDR, headers=h)[2], b"")
        v = canary("direct-c").encode()
        self.assertEqual(self.g("POST", PW, C_ADDR, body=v, headers=h)[0],
                         200)
        self.assertEqual(self.g("GET", PW, C_ADDR)[2], v)
        st, js = self.d.owner("GET", f"/servers/{self.c}/os-server-password")
        self.assertEqual(js, {"password": v.decode()})
        # A's value was not touched by the claim.
        st, js = self.d.owner("GET", f"/servers/{self.a}/os-server-password")
        self.assertEqual(st, 200)
        self.assertNotEqual(js["password"], v.decode())
        # A bad signature or unknown instance header changes nothing.
        for hh in ({"X-Instance-ID": uuid4(), "X-Tenant-ID": "x",
                    "X-Instance-ID-Signature": "0" * 64},
                   {"X-Instance-ID": "z"}, {"X-Tenant-ID": "proj-c"}):
            st, _, body = self.g("GET", PW, C_ADDR, headers=hh)
            self.assertEqual((st, body), (200, v))
        md = json.loads(self.g("GET", "/openstack/latest/meta_data.json",
                               C_ADDR, headers=h)[2])
        self.assertEqual((md["uuid"], md["project_id"]), (self.c, "proj-c"))

    def test_unregistered_source_404(self):
        for m, path, body in (("GET", PW, None), ("POST", PW, b"x"),
                              ("PUT", PW, None),
                              ("GET", "/openstack", None),
                              ("GET", "/openstack/latest", None),
                              ("GET", "/openstack/latest/meta_data.json",
                               None)):
            st, _, _ = self.g(m, path, NOBODY, body=body)
            self.assertEqual(st, 404, (m, path))
            # Headers cannot make an unknown address known.
            st, _, _ = self.g(m, path, NOBODY, body=body,
                              headers=self.d.proxy_headers(self.a, "proj-a"))
            self.assertEqual(st, 404, (m, path))
        # The listener's own address is not registered either.
        self.assertEqual(self.g("GET", PW, "127.0.0.1")[0], 404)

    def test_forwarded_headers_refused(self):
        for hh in ({"X-Forwarded-For": A_ADDR}, {"X-Forwarded-For": NOBODY},
                   {"Forwarded": f"for={A_ADDR}"},
                   {"x-forwarded-for": "1.2.3.4"},
                   {"FORWARDED": "for=1.2.3.4;proto=http"}):
            for m, body in (("GET", None), ("POST", b"xff-value")):
                st, hdrs, _ = self.g(m, PW, B_ADDR, body=body, headers=hh)
                self.assertEqual(st, 400, (hh, m))
            st, _, _ = self.g("GET", "/openstack/latest", NOBODY, headers=hh)
            self.assertEqual(st, 400, hh)
        # Nothing was stored through the refused POSTs (B was set to vb
        # or is still unset, never "xff-value").
        self.assertNotEqual(self.g("GET", PW, B_ADDR)[2], b"xff-value")

    def test_root_without_registration(self):
        for src in (NOBODY, A_ADDR, "127.0.0.1"):
            for m in ("GET", "POST", "DELETE"):
                st, _, body = self.g(m, "/", src)
                self.assertEqual((st, body), (200, EC2_ROOT), (src, m))
        st, _, body = self.g("GET", "/foo/../", NOBODY)
        self.assertEqual((st, body), (200, EC2_ROOT))

    def test_listings_and_routing_in_direct_mode(self):
        st, _, body = self.g("GET", "/openstack/latest", A_ADDR)
        self.assertEqual((st, body), (200, b"meta_data.json\npassword\n"
                         b"vendor_data.json\nnetwork_data.json\n"
                         b"vendor_data2.json"))
        st, _, body = self.g("GET", "/openstack", A_ADDR)
        self.assertEqual(st, 200)
        self.assertTrue(body.startswith(b"2012-08-10\n"))
        self.assertTrue(body.endswith(b"\nlatest"))
        self.assertEqual(self.g("GET", "/openstack/2012-08-10/password",
                                A_ADDR)[0], 404)
        self.assertEqual(self.g("GET", "/latest/password", A_ADDR)[0], 404)
        self.assertEqual(self.g("DELETE", PW, A_ADDR)[0], 400)
        md = json.loads(self.g("GET", "/openstack/latest/meta_data.json",
                               A_ADDR)[2])
        self.assertEqual((md["uuid"], md["hostname"], md["project_id"]),
                         (self.a, "vm-a", "proj-a"))

    def test_z_deregistered_address_404(self):
        d = self.d
        e = uuid4()
        addr = "127.0.0.5"
        self.assertEqual(d.register(e, "proj-e", addresses=[addr])[0], 201)
        self.assertEqual(self.g("GET", PW, addr)[:1], (200,))
        # Moving the address to another registration moves the identity.
        self.assertEqual(d.register(e, "proj-e", addresses=[])[0], 200)
        self.assertEqual(self.g("GET", PW, addr)[0], 404)
        f = uuid4()
        self.assertEqual(d.register(f, "proj-f", addresses=[addr])[0], 201)
        v = canary("direct-f").encode()
        self.assertEqual(self.g("POST", PW, addr, body=v)[0], 200)
        st, js = d.owner("GET", f"/servers/{f}/os-server-password")
        self.assertEqual(js, {"password": v.decode()})
        st, js = d.owner("GET", f"/servers/{e}/os-server-password")
        self.assertEqual(js, {"password": ""})
        self.assertEqual(d.owner("DELETE", f"/instances/{f}")[0], 204)
        self.assertEqual(self.g("GET", PW, addr)[0], 404)


class MixedListeners(unittest.TestCase):
    """A proxy listener and a direct one on the same daemon."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(guests=(("proxy", "127.0.0.1"),
                               ("direct", "127.0.0.1"))).start()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def test_modes_per_listener(self):
        d = self.d
        self.assertEqual(len(d.ports), 2)
        proxy_port, direct_port = d.ports
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-m",
                                    addresses=["127.0.0.6"])[0], 201)
        h = d.proxy_headers(iid, "proj-m")
        v = canary("mixed").encode()
        # Direct: the address; the proxy headers are ignored.
        self.assertEqual(d.guest("POST", PW, body=v, port=direct_port,
                                 source="127.0.0.6")[0], 200)
        self.assertEqual(d.guest("GET", PW, port=direct_port,
                                 source="127.0.0.7", headers=h)[0], 404)
        # Proxy: the headers; the address alone identifies nobody.
        self.assertEqual(d.guest("GET", PW, port=proxy_port,
                                 source="127.0.0.6")[0], 400)
        st, _, body = d.guest("GET", PW, port=proxy_port, headers=h)
        self.assertEqual((st, body), (200, v))
        # X-Forwarded-For is fine on the proxy listener only.
        xff = dict(h, **{"X-Forwarded-For": "127.0.0.6"})
        self.assertEqual(d.guest("GET", PW, port=proxy_port,
                                 headers=xff)[0], 200)
        self.assertEqual(d.guest("GET", PW, port=direct_port,
                                 source="127.0.0.6", headers=xff)[0], 400)


class Networks(unittest.TestCase):
    """IP@NET matches on the listeners of [guest NET] only, before a
    registration of the bare IP; the same address on two provisioning
    networks is two guests (issue 14, item 3)."""
    META = "/openstack/latest/meta_data.json"

    @classmethod
    def setUpClass(cls):
        # [guest] on .1 (no name), [guest g1] on .2, [guest g2] on .3.
        cls.d = Daemon(guests=(("direct", "127.0.0.1"),
                               ("direct", "127.0.0.2"),
                               ("direct", "127.0.0.3"),
                               ("proxy", "127.0.0.1"))).start()
        cls.a, cls.b, cls.c, cls.e = uuid4(), uuid4(), uuid4(), uuid4()
        for iid, addrs in ((cls.a, ["127.0.0.21@g1"]),
                           (cls.b, ["127.0.0.21@g2"]),
                           (cls.c, ["127.0.0.22"]),
                           (cls.e, ["127.0.0.22@g2", "127.0.0.23"])):
            st, js = cls.d.register(iid, "proj-n", addresses=addrs)
            assert st == 201, (st, js)

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def who(self, source, listener):
        """The instance the guest at source is on listener (0..2)."""
        d = self.d
        st, _, body = d.guest("GET", self.META, source=source,
                              host=f"127.0.0.{listener + 1}",
                              port=d.ports[listener])
        return json.loads(body)["uuid"] if st == 200 else st

    def test_same_address_on_two_networks(self):
        self.assertEqual(self.who("127.0.0.21", 1), self.a)
        self.assertEqual(self.who("127.0.0.21", 2), self.b)
        # Registered on named networks only: nobody on the unnamed one.
        self.assertEqual(self.who("127.0.0.21", 0), 404)

    def test_network_before_bare_address(self):
        self.assertEqual(self.who("127.0.0.22", 2), self.e)
        self.assertEqual(self.who("127.0.0.22", 1), self.c)
        self.assertEqual(self.who("127.0.0.22", 0), self.c)
        self.assertEqual(self.who("127.0.0.23", 1), self.e)

    def test_passwords_stay_apart(self):
        d, va = self.d, canary("net-a").encode()
        self.assertEqual(d.guest("POST", PW, body=va, source="127.0.0.21",
                                 host="127.0.0.2", port=d.ports[1])[0], 200)
        st, _, body = d.guest("GET", PW, source="127.0.0.21",
                              host="127.0.0.3", port=d.ports[2])
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(d.owner("GET", f"/servers/{self.a}/"
                                 "os-server-password"),
                         (200, {"password": va.decode()}))

    def test_registration_rules(self):
        d = self.d
        # One address on one network belongs to one instance.
        st, js = d.register(uuid4(), "proj-n", addresses=["127.0.0.21@g1"])
        self.assertEqual(st, 409, js)
        # A network no direct section has: g3 does not exist, and the
        # proxy section (g3 would be the fourth) is not direct either.
        for net in ("nope", "g3"):
            st, js = d.register(uuid4(), "proj-n",
                                addresses=[f"10.9.0.1@{net}"])
            self.assertEqual(st, 400, js)
            self.assertIn("no [guest NAME] section", js["error"]
                          if isinstance(js, dict) else js)
        # Link-local: the interface is part of the address.
        st, js = d.register(uuid4(), "proj-n", addresses=["fe80::5"])
        self.assertEqual(st, 400)
        self.assertIn("needs its interface", json.dumps(js))
        st, js = d.register(uuid4(), "proj-n", addresses=["10.9.0.1%eth0"])
        self.assertEqual(st, 400)
        self.assertIn("only a link-local", json.dumps(js))
        iid = uuid4()
        addrs = ["fe80::5%eth1", "fe80::5%eth2@g1", "10.9.0.2@g2"]
        self.assertEqual(d.register(iid, "proj-n", addresses=addrs)[0], 201)
        st, js = d.owner("GET", f"/instances/{iid}")
        self.assertEqual((st, js["addresses"]), (200, addrs))
        self.assertEqual(d.register(uuid4(), "proj-n",
                                    addresses=["fe80::5%eth3"])[0], 201)
        self.assertEqual(d.register(uuid4(), "proj-n",
                                    addresses=["fe80::5%eth1"])[0], 409)


class UnscopedLinkLocal(unittest.TestCase):
    """A store written before link-local addresses needed an interface
    may hold a bare fe80:: address.  It identifies nobody now, and the
    daemon names it at start."""

    def sql(self, d, stmt):
        if d.conninfo:
            kv = dict(w.split("=", 1) for w in d.conninfo.split())
            pg_sql(kv["host"], stmt, kv["dbname"])
        else:
            con = sqlite3.connect(d.db, timeout=10)
            with con:
                con.execute(stmt)
            con.close()

    def test_named_at_start(self):
        d = Daemon(guests=(("direct", "127.0.0.1"),))
        try:
            d.start()
            iid = uuid4()
            self.assertEqual(d.register(iid, "p", ["fe80::5%eth0",
                                                   "10.0.0.5"])[0], 201)
            d.stop()
            self.sql(d, "UPDATE instance_addresses SET addr = 'fe80::5' "
                        "WHERE addr = 'fe80::5%eth0'")
            d.start()
            self.assertIn(f"instance {iid}: address fe80::5 is link-local "
                          "without its interface and identifies no guest; "
                          "register it again as fe80::5%INTERFACE", d.log())
            st, js = d.owner("GET", f"/instances/{iid}")
            self.assertEqual((st, js["addresses"]),
                             (200, ["fe80::5", "10.0.0.5"]))
            # Registering it again as it stands is refused, with why.
            st, js = d.register(iid, "p", js["addresses"])
            self.assertEqual(st, 400)
            self.assertIn("needs its interface", json.dumps(js))
        finally:
            d.cleanup()


class SystemdNetworks(unittest.TestCase):
    """Sockets from systemd named guest-direct@NET are listeners of the
    network NET."""

    def sockets(self):
        out = []
        for host in ("127.0.0.1", "127.0.0.2"):
            s = socket.socket()
            s.bind((host, 0))
            s.listen(16)
            out.append(s)
        return out

    def test_named_sockets(self):
        s1, s2 = self.sockets()
        d = Daemon(guests=(("direct", "127.0.0.1"),))
        try:
            d.start(inherit=[(s1, "guest-direct@a"), (s2, "guest-direct@b")])
            self.assertIn("network a, from systemd", d.log())
            x, y = uuid4(), uuid4()
            self.assertEqual(d.register(x, "p", ["127.0.0.31@a"])[0], 201)
            self.assertEqual(d.register(y, "p", ["127.0.0.31@b"])[0], 201)
            self.assertEqual(d.register(uuid4(), "p", ["10.0.0.1@c"])[0],
                             400)
            for i, (sock, iid) in enumerate(((s1, x), (s2, y))):
                st, _, body = d.guest(
                    "GET", "/openstack/latest/meta_data.json",
                    source="127.0.0.31", host=f"127.0.0.{i + 1}",
                    port=sock.getsockname()[1])
                self.assertEqual((st, json.loads(body)["uuid"]), (200, iid))
        finally:
            s1.close()
            s2.close()
            d.cleanup()

    def test_only_direct_sockets_take_a_network(self):
        for name in ("guest-proxy@a", "guest@a", "guest-direct@a%b",
                     "guest-direct@"):
            s1, s2 = self.sockets()
            d = Daemon(guests=(("direct", "127.0.0.1"),))
            try:
                with self.assertRaises(RuntimeError) as cm:
                    d.start(inherit=[(s1, name)])
                self.assertIn("only guest-direct and guest-direct-tls "
                              "take @NETWORK", str(cm.exception))
            finally:
                s1.close()
                s2.close()
                d.cleanup()


NS_CLIENT = r"""
import json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
if "%" in host:
    # fe80::2%v0: from fe80::1 on v0 to fe80::2 on that link.
    host, dev = host.split("%")
    ifi = socket.if_nametoindex(dev)
    s = socket.socket(socket.AF_INET6)
    s.bind(("fe80::1", 0, 0, ifi))
    dst = (host, port, 0, ifi)
else:
    s, dst = socket.socket(), (host, port)
s.settimeout(10)
s.connect(dst)
s.sendall(b"GET /openstack/latest/meta_data.json HTTP/1.1\r\n"
          b"Host: x\r\nConnection: close\r\n\r\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
head, _, body = out.partition(b"\r\n\r\n")
st = int(head.split()[1])
print(json.loads(body)["uuid"] if st == 200 else st)
"""


@unittest.skipUnless(IS_ROOT, "needs root for network namespaces with "
                     "veth links")
class Netns(unittest.TestCase):
    """Network namespaces of our own, named sealmd-it-PID-X, linked by
    veth pairs; sealmd runs in namespace S."""
    PFX = f"sealmd-it-{os.getpid()}-"
    d, made = None, ()

    @classmethod
    def ns(cls, x):
        return cls.PFX + x

    @classmethod
    def build(cls, names, cmds):
        """names: namespaces to add; cmds: (namespace, ip arguments)."""
        cls.d, cls.made = None, []
        steps = [(None, ["netns", "add", cls.ns(n)]) for n in names]
        for ns, c in steps + list(cmds):
            argv = ["ip"] + (["-n", cls.ns(ns)] if ns else []) + c
            r = subprocess.run(argv, capture_output=True, timeout=20)
            if r.returncode != 0:
                raise unittest.SkipTest(f"LOUD SKIP: {' '.join(argv)}: "
                                        f"{r.stderr.decode().strip()}")
            if ns is None:
                cls.made.append(c[-1])

    @classmethod
    def setUpClass(cls):
        """unittest skips tearDownClass when this fails: clean up here."""
        try:
            cls.start()
        except BaseException:
            try:
                cls.tearDownClass()
            finally:
                raise

    @classmethod
    def tearDownClass(cls):
        deaths = []
        if cls.d is not None:
            deaths = cls.d.worker_deaths()
            cls.d.cleanup()
        for n in cls.made:
            subprocess.run(["ip", "netns", "del", n], capture_output=True,
                           timeout=20)
        assert not deaths, f"the worker died: {deaths}"

    def get(self, ns, host, port):
        """Who the guest in namespace ns is, to sealmd at host:port."""
        r = subprocess.run(["ip", "netns", "exec", self.ns(ns),
                            sys.executable, "-c", NS_CLIENT, host,
                            str(port)], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().strip()


def veth(ns, dev, peer, peer_ns=None):
    """A veth pair in ns, its peer moved to peer_ns, both up."""
    out = [(ns, ["link", "add", dev, "type", "veth", "peer", "name",
                 peer])]
    if peer_ns:
        out.append((ns, ["link", "set", peer, "netns",
                         Netns.ns(peer_ns)]))
    return out + [(ns, ["link", "set", dev, "up"]),
                  (peer_ns or ns, ["link", "set", peer, "up"])]


class LinkLocal(Netns):
    """One link-local address, fe80::1, on two links: two guests.  In
    namespace S, two veth pairs, v0-v0p and v1-v1p; the guests are
    fe80::1 on v0 and on v1, and sealmd listens on [::] and sees them
    arrive on v0p and v1p."""

    @classmethod
    def start(cls):
        cmds = []
        for i in (0, 1):
            cmds += veth("S", f"v{i}", f"v{i}p")
            cmds += [("S", ["addr", "add", "fe80::1/64", "dev", f"v{i}",
                            "nodad"]),
                     ("S", ["addr", "add", f"fe80::{2 + i}/64", "dev",
                            f"v{i}p", "nodad"])]
        cls.build(["S"], cmds)
        cls.d = Daemon(guests=(("direct", "[::]"),))
        cls.d.start(netns=cls.ns("S"))
        cls.a, cls.b = uuid4(), uuid4()
        assert cls.d.register(cls.a, "proj-ll",
                              addresses=["fe80::1%v0p"])[0] == 201
        assert cls.d.register(cls.b, "proj-ll",
                              addresses=["fe80::1%v1p"])[0] == 201

    def who(self, link):
        return self.get("S", f"fe80::{2 + link}%v{link}", self.d.ports[0])

    def test_same_address_on_two_links(self):
        self.assertEqual(self.who(0), self.a)
        self.assertEqual(self.who(1), self.b)
        st, js = self.d.owner("DELETE", f"/instances/{self.b}")
        self.assertEqual(st, 204, js)
        # Never the other link's instance, though the address is the same.
        self.assertEqual(self.who(1), "404")
        self.assertEqual(self.who(0), self.a)


class SameIPv4OnTwoLinks(Netns):
    """Two provisioning networks with the same range, 10.9.0.0/24, and
    one guest at 10.9.0.5 on each (namespaces A and B).  sealmd, in S,
    listens on 10.9.0.1:8775 on both links: one [guest] section per
    link with its interface, the second named g1."""

    @classmethod
    def start(cls):
        cmds = []
        for i, g in ((0, "A"), (1, "B")):
            cmds += veth("S", f"v{i}p", f"v{i}", g)
            cmds += [("S", ["addr", "add", "10.9.0.1/24", "dev", f"v{i}p"]),
                     (g, ["addr", "add", "10.9.0.5/24", "dev", f"v{i}"]),
                     (g, ["link", "set", "lo", "up"])]
        cls.build(["S", "A", "B"], cmds)
        cls.d = Daemon(guests=(("direct", "10.9.0.1", "interface = v0p"),
                               ("direct", "10.9.0.1", "interface = v1p")))
        with open(cls.d.conf) as f:
            conf = f.read()
        with open(cls.d.conf, "w") as f:
            f.write(conf.replace("listen = 10.9.0.1:0",
                                 "listen = 10.9.0.1:8775"))
        cls.d.start(netns=cls.ns("S"))
        cls.x, cls.y = uuid4(), uuid4()
        assert cls.d.register(cls.x, "proj-v4",
                              addresses=["10.9.0.5"])[0] == 201
        assert cls.d.register(cls.y, "proj-v4",
                              addresses=["10.9.0.5@g1"])[0] == 201

    def test_each_link_its_own_guest(self):
        self.assertEqual(self.d.ports, [8775, 8775])
        self.assertIn("interface v1p", self.d.log())
        self.assertEqual(self.get("A", "10.9.0.1", 8775), self.x)
        self.assertEqual(self.get("B", "10.9.0.1", 8775), self.y)


class DefaultRate(unittest.TestCase):
    """With no `rate` in [limits], a direct listener allows 10 operations
    a second per address after a burst of 20 (sealmd.conf(5)); a proxy
    listener is not limited.  Counts are checked against the time the
    requests took, measured here, never against a fixed duration."""
    RATE, BURST, MAX_REQ, MAX_S = 10, 20, 2000, 120

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(guests=(("direct", "127.0.0.1"),
                               ("proxy", "127.0.0.1"))).start()
        cls.iid = uuid4()
        assert cls.d.register(cls.iid, "proj-dr",
                              addresses=["127.0.0.11"])[0] == 201

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def test_direct_default_is_10_per_second(self):
        d, ok, t0 = self.d, 0, time.monotonic()
        for _ in range(self.MAX_REQ):
            st = d.guest("GET", PW, source="127.0.0.11")[0]
            if st != 200 or time.monotonic() - t0 > self.MAX_S:
                break
            ok += 1
        took = time.monotonic() - t0
        self.assertEqual(st, 429, f"no 429 after {ok} requests in "
                         f"{took:.1f} s: the default limit is gone")
        # The burst, plus what refilled while the requests ran.
        self.assertGreaterEqual(ok, self.BURST)
        self.assertLessEqual(ok, self.BURST + self.RATE * took + 1,
                             f"{ok} answered in {took:.2f} s")
        # Then, with the bucket empty, the rate alone: keep asking for a
        # while and count what is answered in the time it took.
        ok, refused, t0 = 0, 0, time.monotonic()
        for _ in range(self.MAX_REQ):
            if d.guest("GET", PW, source="127.0.0.11")[0] == 200:
                ok += 1
            else:
                refused += 1
            if time.monotonic() - t0 >= 1.5:
                break
        took = time.monotonic() - t0
        self.assertGreater(refused, 0, "the client was slower than the "
                           "rate: nothing measured")
        self.assertLessEqual(ok, self.RATE * took + 1,
                             f"{ok} answered in {took:.2f} s")
        # Another address has its own bucket.
        self.assertEqual(d.guest("GET", PW, source="127.0.0.12")[0], 404)
        # A tenth of a second later there is room for one more.
        time.sleep(1.5 / self.RATE)
        self.assertEqual(d.guest("GET", PW, source="127.0.0.11")[0], 200)
        self.assertRegex(d.audit_log(), r"op=guest\.\S+ .*status=429")

    def test_proxy_default_is_unlimited(self):
        d, n, t0 = self.d, 0, time.monotonic()
        h = d.proxy_headers(self.iid, "proj-dr")
        # More than the direct default would allow in the time taken.
        while n <= self.BURST + self.RATE * (time.monotonic() - t0) + 10:
            self.assertLess(n, self.MAX_REQ)
            self.assertEqual(d.guest("GET", PW, port=d.ports[1],
                                     headers=h)[0], 200, f"request {n}")
            n += 1


if __name__ == "__main__":
    unittest.main()
