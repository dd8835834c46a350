# SPDX-License-Identifier: ISC
"""Guest-side guards (issue 10): require_header, session tokens,
hop_limit and post_window.  Each blocks and allows exactly as documented."""
import os
import socket
import struct
import threading
import time
import unittest

from sealmd_fixture import IS_ROOT, Daemon, uuid4

PW = "/openstack/latest/password"


class RequireHeader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(guests=(("direct", "127.0.0.1"),),
                       limits={"rate": 0},
                       extra_guest="require_header = Metadata-Flavor: "
                                   "OpenStack").start()
        cls.iid = uuid4()
        cls.d.register(cls.iid, "rh", addresses=["127.0.0.1"])

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_without_the_header_403(self):
        self.assertEqual(self.d.guest("GET", PW)[0], 403)
        self.assertEqual(self.d.guest("GET", "/")[0], 403)

    def test_wrong_value_or_twice_403(self):
        self.assertEqual(self.d.guest("GET", PW, headers={
            "Metadata-Flavor": "Google"})[0], 403)
        st = self.d.raw(b"GET / HTTP/1.1\r\nHost: x\r\n"
                        b"Metadata-Flavor: OpenStack\r\n"
                        b"Metadata-Flavor: OpenStack\r\n"
                        b"Connection: close\r\n\r\n")
        self.assertTrue(st.startswith(b"HTTP/1.1 403"), st[:40])

    def test_with_the_header_200(self):
        st, _, body = self.d.guest("GET", PW, headers={
            "metadata-flavor": "OpenStack"})
        self.assertEqual((st, body), (200, b""))


class SessionTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # required cannot work behind neutron (sealmd -n refuses it).
        cls.d = Daemon(guests=(("direct", "127.0.0.1",
                                "session_tokens = required"),
                               ("proxy", "127.0.0.1",
                                "session_tokens = optional")),
                       limits={"rate": 0}).start()
        cls.a, cls.b = uuid4(), uuid4()
        cls.d.register(cls.a, "tok", addresses=["127.0.0.1"])
        cls.d.register(cls.b, "tok", addresses=["127.0.0.2"])

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def token(self, ttl="60", source=None, port=None, extra=None):
        h = {"X-Metadata-Token-TTL-Seconds": ttl}
        h.update(extra or {})
        return self.d.guest("PUT", "/openstack/api/token", headers=h,
                            source=source, port=port)

    def test_required_refuses_missing_and_bad(self):
        self.assertEqual(self.d.guest("GET", PW)[0], 401)
        # Well-formed but never issued; and the old 43-character shape.
        self.assertEqual(self.d.guest("GET", PW, headers={
            "X-Metadata-Token": "x" * 60})[0], 401)
        self.assertEqual(self.d.guest("GET", PW, headers={
            "X-Metadata-Token": "x" * 43})[0], 401)
        self.assertEqual(self.d.guest("GET", PW, headers={
            "X-Metadata-Token": "short"})[0], 401)

    def test_token_works_and_is_bound(self):
        st, hdrs, tok = self.token()
        self.assertEqual(st, 200)
        self.assertEqual(len(tok), 60)
        self.assertEqual(hdrs.get("Cache-Control"), "no-store")
        h = {"X-Metadata-Token": tok.decode()}
        self.assertEqual(self.d.guest("GET", PW, headers=h)[0], 200)
        # Foreign: another guest (another address) cannot use it.
        self.assertEqual(self.d.guest("GET", PW, headers=h,
                                      source="127.0.0.2")[0], 401)
        st2, _, tok2 = self.token(source="127.0.0.2")
        self.assertEqual(st2, 200)
        self.assertEqual(self.d.guest("GET", PW, source="127.0.0.2",
                                      headers={"X-Metadata-Token":
                                               tok2.decode()})[0], 200)

    def test_token_expires(self):
        st, _, tok = self.token(ttl="1")
        self.assertEqual(st, 200)
        h = {"X-Metadata-Token": tok.decode()}
        self.assertEqual(self.d.guest("GET", PW, headers=h)[0], 200)
        time.sleep(1.2)
        self.assertEqual(self.d.guest("GET", PW, headers=h)[0], 401)

    def test_put_rules(self):
        self.assertEqual(self.token(ttl="0")[0], 400)
        self.assertEqual(self.token(ttl="21601")[0], 400)
        self.assertEqual(self.d.guest("PUT", "/openstack/api/token")[0], 400)
        self.assertEqual(self.token(extra={
            "X-Forwarded-For": "10.1.1.1"})[0], 403)
        self.assertEqual(self.d.guest("GET", "/openstack/api/token")[0], 405)

    def test_proxy_mode_binds_to_instance(self):
        port = self.d.ports[1]
        # As neutron's metadata proxy sends it: one X-Forwarded-For.
        h = dict(self.d.proxy_headers(self.a, "tok"),
                 **{"X-Forwarded-For": "10.0.0.5"})
        self.assertEqual(self.d.guest("GET", PW, headers=h,
                                      port=port)[0], 200)
        st, _, tok = self.token(port=port, extra=h)
        self.assertEqual(st, 200)
        h2 = dict(h, **{"X-Metadata-Token": tok.decode()})
        self.assertEqual(self.d.guest("GET", PW, headers=h2,
                                      port=port)[0], 200)
        hb = dict(self.d.proxy_headers(self.b, "tok"),
                  **{"X-Metadata-Token": tok.decode()})
        self.assertEqual(self.d.guest("GET", PW, headers=hb,
                                      port=port)[0], 401)

    def test_proxy_put_refused_after_a_second_hop(self):
        """Behind neutron a PUT is refused only when the request passed a
        proxy before neutron's: a list in X-Forwarded-For, a second
        field, or a Forwarded header."""
        port = self.d.ports[1]
        h = self.d.proxy_headers(self.a, "tok")
        for extra in ({"X-Forwarded-For": "192.168.1.9, 10.0.0.5"},
                      {"X-Forwarded-For": "10.0.0.5,192.168.1.9"},
                      {"Forwarded": "for=192.168.1.9"}):
            self.assertEqual(self.token(port=port, extra=dict(
                h, **extra))[0], 403, extra)
        head = "".join(f"{k}: {v}\r\n" for k, v in h.items())
        r = self.d.raw(("PUT /openstack/api/token HTTP/1.1\r\nHost: x\r\n"
                        "X-Metadata-Token-TTL-Seconds: 60\r\n" + head +
                        "X-Forwarded-For: 192.168.1.9\r\n"
                        "X-Forwarded-For: 10.0.0.5\r\n"
                        "Content-Length: 0\r\nConnection: close\r\n\r\n"
                        ).encode(), port=port)
        self.assertTrue(r.startswith(b"HTTP/1.1 403"), r[:40])
        self.assertEqual(self.token(port=port, extra=dict(
            h, **{"X-Forwarded-For": "10.0.0.5"}))[0], 200)

    def test_tokens_never_logged(self):
        st, _, tok = self.token()
        self.assertEqual(st, 200)
        self.assertNotIn(tok.decode(), self.d.log())


class OptionalTokens(unittest.TestCase):
    def test_optional_allows_none_refuses_bad(self):
        d = Daemon(guests=(("direct", "127.0.0.1"),), limits={"rate": 0},
                   extra_guest="session_tokens = optional").start()
        try:
            d.register(uuid4(), "opt", addresses=["127.0.0.1"])
            self.assertEqual(d.guest("GET", PW)[0], 200)
            self.assertEqual(d.guest("GET", PW, headers={
                "X-Metadata-Token": "A" * 60})[0], 401)
        finally:
            d.cleanup()

    def test_off_by_default(self):
        d = Daemon(guests=(("direct", "127.0.0.1"),),
                   limits={"rate": 0}).start()
        try:
            d.register(uuid4(), "off", addresses=["127.0.0.1"])
            self.assertEqual(d.guest("PUT", "/openstack/api/token", headers={
                "X-Metadata-Token-TTL-Seconds": "5"})[0], 404)
            self.assertEqual(d.guest("GET", PW, headers={
                "X-Metadata-Token": "A" * 60})[0], 200)
        finally:
            d.cleanup()


@unittest.skipUnless(IS_ROOT, "needs root for an AF_PACKET socket on lo")
class HopLimit(unittest.TestCase):
    """The TTL of the daemon's answer packets, read off the wire (lo)."""

    def answer_ttl(self, d, port):
        sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(0x0800))
        sniff.bind(("lo", 0))
        sniff.settimeout(0.2)
        ttls = []
        stop = threading.Event()

        def run():
            deadline = time.time() + 5
            while not stop.is_set() and time.time() < deadline:
                try:
                    frame = sniff.recv(65536)
                except socket.timeout:
                    continue
                ip = frame[14:]
                if len(ip) < 24 or ip[9] != 6:
                    continue
                ihl = (ip[0] & 0x0F) * 4
                sport = struct.unpack("!H", ip[ihl:ihl + 2])[0]
                if sport == port:
                    ttls.append(ip[8])
        t = threading.Thread(target=run)
        t.start()
        try:
            time.sleep(0.1)
            self.assertEqual(d.guest("GET", "/", port=port)[0], 200)
            time.sleep(0.2)
        finally:
            stop.set()
            t.join()
            sniff.close()
        self.assertTrue(ttls, "saw no answer packets")
        return set(ttls)

    def test_direct_default_is_one_and_configurable(self):
        d = Daemon(guests=(("direct", "127.0.0.1"), ("proxy", "127.0.0.1")),
                   limits={"rate": 0}).start()
        try:
            self.assertEqual(self.answer_ttl(d, d.ports[0]), {1})
            self.assertEqual(self.answer_ttl(d, d.ports[1]), {64})
        finally:
            d.cleanup()
        d = Daemon(guests=(("proxy", "127.0.0.1"),), limits={"rate": 0},
                   extra_guest="hop_limit = 3").start()
        try:
            self.assertEqual(self.answer_ttl(d, d.ports[0]), {3})
        finally:
            d.cleanup()

    def test_ipv4_client_on_dual_stack_listener(self):
        # A [::] socket that takes IPv4 too, as systemd binds
        # ListenStream=[::]:80 by default: an IPv4 client's answers go
        # out as IPv4 packets, whose TTL is IP_TTL, not the IPv6 hop
        # limit.
        if not socket.has_ipv6:
            self.skipTest("no IPv6 on this host")
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 0))
        s.listen(16)
        port = s.getsockname()[1]
        d = Daemon(guests=(("proxy", "127.0.0.1"),), limits={"rate": 0},
                   extra_guest="hop_limit = 3")
        try:
            d.start(inherit=[(s, "guest")])
            s.close()
            self.assertIn(f"listening: guest:[::]:{port}", d.log())
            self.assertEqual(self.answer_ttl(d, port), {3})
        finally:
            s.close()
            d.cleanup()


class PostWindow(unittest.TestCase):
    def test_window_closes_and_reopens_on_clear(self):
        d = Daemon(guests=(("direct", "127.0.0.1"),), limits={"rate": 0},
                   extra_guest="post_window = 2").start()
        try:
            late, early = uuid4(), uuid4()
            d.register(late, "pw", addresses=["127.0.0.1"])
            d.register(early, "pw", addresses=["127.0.0.2"])
            self.assertEqual(d.guest("POST", PW, body=b"in-time",
                                     source="127.0.0.2")[0], 200)
            time.sleep(3.1)
            self.assertEqual(d.guest("POST", PW, body=b"too-late")[0], 403)
            self.assertEqual(d.guest("GET", PW)[2], b"")
            self.assertRegex(d.audit_log(), r"op=guest.pw.put .*status=403")
            # Clearing reopens the window, and the early value was kept.
            self.assertEqual(d.owner(
                "DELETE", f"/servers/{late}/os-server-password")[0], 204)
            self.assertEqual(d.guest("POST", PW, body=b"after-clear")[0], 200)
            self.assertEqual(d.owner("GET", f"/servers/{early}/"
                                     "os-server-password")[1],
                             {"password": "in-time"})
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
