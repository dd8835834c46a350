# SPDX-License-Identifier: ISC
"""The guest HTTP/1.x parser on raw sockets (README, "What the guest
sees"): keep-alive, pipelining, smuggling shapes refused with 400 and a
close, size limits, versions, and every phase's timeout."""
import time
import unittest

from sealmd_fixture import Daemon, canary, uuid4

EC2_ROOT = (b"1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n"
            b"2007-12-15\n2008-02-01\n2008-09-01\n2009-04-04\nlatest")
PW = "/openstack/latest/password"
GET_ROOT = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def ident_lines(d, iid, project):
    return "".join(f"{k}: {v}\r\n" for k, v in
                   d.proxy_headers(iid, project).items()).encode()


class StrictBase(unittest.TestCase):
    limits = None

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(limits=cls.limits).start()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def assert_alive(self):
        """A valid request on a new connection still works."""
        with self.d.conn() as c:
            c.send(GET_ROOT)
            r = c.read_response()
            self.assertIsNotNone(r, "daemon stopped answering")
            self.assertEqual((r.status, r.body), (200, EC2_ROOT))

    def refuse(self, data, status=400, what=None):
        r, closed = self.d.exchange(data)
        self.assertIsNotNone(r, f"no answer to {what or data!r}")
        self.assertEqual(r.status, status, what or data)
        self.assertEqual(r.header("Connection"), "close", what or data)
        self.assertTrue(closed, f"not closed after {what or data!r}")
        self.assertIsNone(r.header("Location"))
        self.assert_alive()
        return r


    def refuse_path(self, path):
        with self.d.conn() as c:
            c.send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response()
            self.assertIsNotNone(r, path)
            self.assertEqual(r.status, 400, path)
        self.assert_alive()


class Connections(StrictBase):
    def test_keep_alive(self):
        with self.d.conn() as c:
            for _ in range(3):
                c.send(GET_ROOT)
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, EC2_ROOT))
                self.assertIsNone(r.header("Connection"))
            self.assertFalse(c.closed(timeout=0.3))
            c.send(GET_ROOT)
            self.assertEqual(c.read_response().status, 200)

    def test_pipelining_in_order(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-pipe")[0], 201)
        ident = ident_lines(d, iid, "proj-pipe")
        value = canary("pipeline").encode()
        reqs = (GET_ROOT +
                b"GET /openstack/2012-08-10 HTTP/1.1\r\nHost: x\r\n" +
                ident + b"\r\n" +
                f"POST {PW} HTTP/1.1\r\nHost: x\r\nContent-Length: "
                f"{len(value)}\r\n".encode() + ident + b"\r\n" + value +
                f"GET {PW} HTTP/1.1\r\nHost: x\r\n".encode() + ident +
                b"\r\n" +
                b"GET /openstack/2013-04-04 HTTP/1.1\r\nHost: x\r\n" +
                ident + b"Connection: close\r\n\r\n")
        with d.conn() as c:
            c.send(reqs)
            got = [c.read_response() for _ in range(5)]
            self.assertTrue(c.closed())
        self.assertEqual([(r.status, r.body) for r in got],
                         [(200, EC2_ROOT), (200, b"meta_data.json"),
                          (200, b""), (200, value),
                          (200, b"meta_data.json\npassword")])
        self.assertEqual(got[4].header("Connection"), "close")

    def test_http10_closes_by_default(self):
        r, closed = self.d.exchange(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual((r.status, r.body), (200, EC2_ROOT))
        self.assertTrue(closed)
        # Keep-alive when asked for.
        with self.d.conn() as c:
            c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Connection"), "keep-alive")
            c.send(b"GET / HTTP/1.0\r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
            self.assertTrue(c.closed())

    def test_connection_close_honoured(self):
        for opt in (b"close", b"Close", b"keep-alive, close", b"foo,close"):
            r, closed = self.d.exchange(
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: " + opt +
                b"\r\n\r\n" + GET_ROOT)
            self.assertEqual(r.status, 200, opt)
            self.assertEqual(r.header("Connection"), "close", opt)
            # The pipelined request after it is never answered.
            self.assertTrue(closed, opt)

    def test_one_byte_at_a_time(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-slow")[0], 201)
        value = canary("bytewise").encode()
        ident = ident_lines(d, iid, "proj-slow")
        post = (f"POST {PW} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(value)}\r\n").encode() + ident + \
            b"\r\n" + value
        get = f"GET {PW} HTTP/1.1\r\nHost: x\r\n".encode() + ident + b"\r\n"
        with d.conn() as c:
            for req in (post, get):
                for i in range(len(req)):
                    c.send(req[i:i + 1])
                    if i % 8 == 0:
                        time.sleep(0.001)
                r = c.read_response()
                self.assertEqual(r.status, 200)
            self.assertEqual(r.body, value)

    def test_leading_empty_lines_tolerated(self):
        r, _ = self.d.exchange(b"\r\n\r\n" + GET_ROOT, check_close=False)
        self.assertEqual((r.status, r.body), (200, EC2_ROOT))

    def test_expect_100_continue(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-exp")[0], 201)
        value = canary("expect").encode()
        with d.conn() as c:
            c.send(f"POST {PW} HTTP/1.1\r\nHost: x\r\nContent-Length: "
                   f"{len(value)}\r\nExpect: 100-continue\r\n".encode() +
                   ident_lines(d, iid, "proj-exp") + b"\r\n")
            r = c.read_response(interim=True)
            self.assertEqual(r.status, 100)
            c.send(value)
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b""))
        st, js = d.owner("GET", f"/servers/{iid}/os-server-password")
        self.assertEqual(js, {"password": value.decode()})


class Refusals(StrictBase):
    def test_te_and_cl_together(self):
        for path in (b"/", PW.encode()):
            self.refuse(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 5\r\nTransfer-Encoding: chunked"
                        b"\r\n\r\n0\r\n\r\n" + GET_ROOT)
            self.refuse(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                        b"Transfer-Encoding: chunked\r\nContent-Length: 0"
                        b"\r\n\r\n0\r\n\r\n")

    def test_duplicate_content_length(self):
        self.refuse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    b"Content-Length: 3\r\n\r\nabc")
        self.refuse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    b"content-length: 5\r\n\r\nabcde")

    def test_bad_content_length_values(self):
        for v in (b"+5", b"0x5", b" 5 5", b"5 5", b"-1", b"5, 5", b"5,",
                  b"5.0", b"", b"abc", b"\xd9\xa5",
                  b"99999999999999999999999"):
            self.refuse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                        v + b"\r\n\r\nhello", what=v)

    def test_obs_fold(self):
        self.refuse(b"GET / HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n b\r\n\r\n")
        self.refuse(b"GET / HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n\tb\r\n\r\n")
        self.refuse(b"GET / HTTP/1.1\r\n Host: x\r\n\r\n")

    def test_bare_lf_and_cr(self):
        self.refuse(b"GET / HTTP/1.1\nHost: x\n\n")
        self.refuse(b"GET / HTTP/1.1\r\nHost: x\n\r\n")
        self.refuse(b"GET / HTTP/1.1\r\nHost: x\r\n\n")
        self.refuse(b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n")
        self.refuse(b"GET / HTTP/1.1\rHost: x\r\n\r\n")
        self.refuse(b"GET / HTTP/1.1\r\nHost: x\r\n\r\r\n")

    def test_nul_bytes(self):
        self.refuse(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n")
        self.refuse(b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
        self.refuse(b"GET / HTTP/1.1\r\nX\x00: a\r\n\r\n")
        # A well-framed head whose path decodes to NUL: 400; the framing
        # was fine, so the connection may stay.
        self.refuse_path(b"/%00")

    def test_request_target_forms(self):
        for target in (b"http://127.0.0.1/", b"http://127.0.0.1/openstack",
                       b"127.0.0.1:80", b"*", b"openstack/latest"):
            self.refuse(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                        what=target)
        self.refuse(b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: x\r\n\r\n")
        self.refuse(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        self.refuse(b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n")
        self.refuse(b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n")
        for path in (b"/%zz", b"/%ff", b"/%c3", b"/%0a", b"/%", b"/%2"):
            self.refuse_path(path)

    def test_malformed_request_lines(self):
        for line in (b"GE(T / HTTP/1.1", b"GET  / HTTP/1.1",
                     b"GET / HTTP/1.1 ", b" GET / HTTP/1.1", b"GET /",
                     b"GET / http/1.1", b"GET / HTTP/1.10", b"GET / HTTP/1",
                     b"GET\t/ HTTP/1.1", b"G@T / HTTP/1.1", b"GET/ HTTP/1.1",
                     b"/ HTTP/1.1", b"GET / HTTP/1.1 x"):
            self.refuse(line + b"\r\nHost: x\r\n\r\n", what=line)

    def test_malformed_header_lines(self):
        for hdr in (b"Host : x", b"Host\t: x", b"X Y: z", b": novalue",
                    b"NoColon", b"X-A\x7f: b", b"X-(A): b", b"X-A: b\x7f"):
            self.refuse(b"GET / HTTP/1.1\r\n" + hdr + b"\r\n\r\n", what=hdr)
        self.refuse(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")

    def test_expectation_failed(self):
        self.refuse(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n"
                    b"Content-Length: 0\r\n\r\n", status=417)

    def test_request_line_limit(self):
        def line(n):
            # "GET /?aaa... HTTP/1.1" of exactly n bytes, query ignored.
            return b"GET /?" + b"a" * (n - len(b"GET /? HTTP/1.1")) + \
                b" HTTP/1.1"
        self.assertEqual(len(line(8192)), 8192)
        r, _ = self.d.exchange(line(8192) + b"\r\nHost: x\r\n"
                               b"Connection: close\r\n\r\n")
        self.assertEqual((r.status, r.body), (200, EC2_ROOT))
        self.refuse(line(8193) + b"\r\nHost: x\r\n\r\n", status=414)
        self.refuse(line(12000) + b"\r\nHost: x\r\n\r\n", status=414)
        # Refused as soon as it is too long, without waiting for CRLF.
        self.refuse(line(9000), status=414)

    def test_header_field_count_limit(self):
        def req(n):
            return b"GET / HTTP/1.1\r\n" + b"".join(
                b"X-F%d: v\r\n" % i for i in range(n)) + b"\r\n"
        r, _ = self.d.exchange(req(64), check_close=False)
        self.assertEqual(r.status, 200)
        self.refuse(req(65), status=431)
        self.refuse(req(200), status=431)

    def test_header_size_limit(self):
        def req(total):
            # 16 fields whose lines (with CRLF) add up to total bytes.
            per, extra = divmod(total, 16)
            lines = []
            for i in range(16):
                size = per + (extra if i == 0 else 0)
                name = b"X-F%02d: " % i
                lines.append(name + b"v" * (size - len(name) - 2) + b"\r\n")
            data = b"".join(lines)
            assert len(data) == total
            return b"GET / HTTP/1.1\r\n" + data + b"\r\n"
        r, _ = self.d.exchange(req(16384), check_close=False)
        self.assertEqual((r.status, r.body), (200, EC2_ROOT))
        self.refuse(req(16385), status=431)
        self.refuse(b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"v" * 17000 +
                    b"\r\n\r\n", status=431)
        self.refuse(b"GET / HTTP/1.1\r\n" + b"".join(
            b"X-F%d: %s\r\n" % (i, b"v" * 1000) for i in range(20)) +
            b"\r\n", status=431)

    def test_http_versions(self):
        for v in (b"HTTP/1.2", b"HTTP/2.0", b"HTTP/3.0", b"HTTP/0.9",
                  b"HTTP/9.9"):
            self.refuse(b"GET / " + v + b"\r\nHost: x\r\n\r\n", status=505,
                        what=v)
        self.refuse(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status=505)

    def test_smuggled_request_never_answered(self):
        # A chunked body is never read: 411 (RFC 9110 §15.5.12), not 400.
        for smuggle, status in (
                (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
                 GET_ROOT, 400),
                (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 b"chunked\r\n\r\n0\r\n\r\n" + GET_ROOT, 411),
                (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 b"identity\r\n\r\n" + GET_ROOT, 400),
                (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                 b"Content-Length: 40\r\n\r\n" + GET_ROOT, 400)):
            with self.d.conn() as c:
                c.send(smuggle)
                r = c.read_response()
                self.assertIsNotNone(r, smuggle)
                self.assertEqual(r.status, status, smuggle)
                self.assertTrue(c.closed(), smuggle)
            self.assert_alive()


class Timeouts(StrictBase):
    limits = {"header_timeout_ms": 500, "body_timeout_ms": 500,
              "idle_timeout_ms": 500}

    def wait_timeout(self, c, limit=2.5):
        """The answer (408) or close that the timeout brings, and when."""
        t0 = time.monotonic()
        r = c.read_response(timeout=limit)
        closed = c.closed(timeout=max(0.1, limit - (time.monotonic() - t0)))
        return r, closed, time.monotonic() - t0

    def test_header_timeout(self):
        with self.d.conn() as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
            r, closed, took = self.wait_timeout(c)
        self.assertTrue(closed, "partial head not timed out")
        # A stalled request is answered (worker/conn.c), not dropped.
        self.assertIsNotNone(r, "no 408 for a stalled head")
        self.assertEqual(r.status, 408)
        self.assertGreaterEqual(took, 0.3)
        self.assertLess(took, 2.5)
        self.assert_alive()

    def test_slow_head_times_out(self):
        # Trickling bytes does not extend the head's deadline.
        with self.d.conn() as c:
            t0 = time.monotonic()
            closed, r = False, None
            for i in range(30):
                try:
                    c.send(b"GET / HTTP/1.1\r\n" if i == 0
                           else b"X-Slow: y\r\n")
                except OSError:
                    closed = True
                    r = c.read_response(timeout=1)
                    break
                r = c.read_response(timeout=0.1)
                if r is not None or c.eof:
                    closed = True
                    break
            self.assertTrue(closed, "slow head never timed out")
            # Answered, not dropped: the worker lingers after its 408.
            self.assertIsNotNone(r, "no 408 for a slow head")
            self.assertEqual(r.status, 408)
            self.assertLess(time.monotonic() - t0, 2.5)
        self.assert_alive()

    def test_silent_connection_closed(self):
        with self.d.conn() as c:
            t0 = time.monotonic()
            self.assertTrue(c.closed(timeout=2.5))
            self.assertLess(time.monotonic() - t0, 2.5)
        self.assert_alive()

    def test_body_timeout(self):
        d = self.d
        iid = uuid4()
        self.assertEqual(d.register(iid, "proj-bt")[0], 201)
        with d.conn() as c:
            c.send(f"POST {PW} HTTP/1.1\r\nHost: x\r\nContent-Length: 10"
                   f"\r\n".encode() + ident_lines(d, iid, "proj-bt") +
                   b"\r\nabc")
            r, closed, took = self.wait_timeout(c)
        self.assertTrue(closed)
        self.assertIsNotNone(r, "no 408 for a stalled body")
        self.assertEqual(r.status, 408)
        self.assertLess(took, 2.5)
        # Nothing was stored from the partial body.
        st, _, body = d.guest("GET", PW,
                              headers=d.proxy_headers(iid, "proj-bt"))
        self.assertEqual((st, body), (200, b""))

    def test_idle_keep_alive_closed(self):
        with self.d.conn() as c:
            c.send(GET_ROOT)
            self.assertEqual(c.read_response().status, 200)
            t0 = time.monotonic()
            self.assertTrue(c.closed(timeout=2.5), "idle conn kept open")
            self.assertLess(time.monotonic() - t0, 2.5)
        self.assert_alive()

    def test_fast_requests_unaffected(self):
        with self.d.conn() as c:
            for _ in range(5):
                c.send(GET_ROOT)
                self.assertEqual(c.read_response().status, 200)
                time.sleep(0.1)


if __name__ == "__main__":
    unittest.main()
