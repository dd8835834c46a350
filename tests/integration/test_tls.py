# SPDX-License-Identifier: ISC
"""TLS on guest and owner listeners, with the private key in the broker only.

The real broker and the real worker under its real filter, driven with curl
and openssl s_client: the same answers as plain HTTP over TLS 1.2 and 1.3,
ECDSA only, plain HTTP refused, pipelined requests all answered without
the client sending more, one broker signature per full handshake, a
reload that changes certificate and key without dropping anything, key
files the broker refuses (RSA above all), the owner listener's 401/403, and
a worker that tries to open the key file and dies for it.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from sealmd_fixture import BUILD, IS_ROOT, SEALMD, Daemon, canary, uuid4
from tls_helpers import (Certs, enable_owner_tls, enable_tls, openssl,
                         owner_port, sign_count)

PW = "/openstack/latest/password"
EVIL = os.path.join(BUILD, "tests", "sealmd-worker-evil")


def curl(url, cacert, *extra, headers=None, method="GET", body=None,
         version=None):
    """(status, body, verbose stderr); status 0 when TLS failed."""
    with tempfile.NamedTemporaryFile() as out:
        args = ["curl", "-sS", "-v", "--cacert", cacert, "-o", out.name,
                "-w", "%{http_code}", "-X", method]
        if version == "1.2":
            args += ["--tlsv1.2", "--tls-max", "1.2"]
        elif version == "1.3":
            args += ["--tlsv1.3"]
        for k, v in (headers or {}).items():
            args += ["-H", f"{k}: {v}"]
        if body is not None:
            args += ["--data-binary", body]
        r = subprocess.run(args + list(extra) + [url], capture_output=True,
                           timeout=30)
        with open(out.name, "rb") as f:
            data = f.read()
    return int(r.stdout or b"0"), data, r.stderr.decode("utf-8", "replace")


def s_client(port, cafile, *args):
    r = subprocess.run(["openssl", "s_client", "-connect",
                        f"127.0.0.1:{port}", "-CAfile", cafile, *args],
                       input=b"", capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def tls_pipeline(port, cafile, records, want, wait=30):
    """Send records (each one TLS record) to port in one TCP write, with
    the client's last handshake message, then read until want answers
    came, the server closed or wait seconds passed: a guard against a
    hang, not a time limit.  Returns the status codes, in order."""
    ctx = ssl.create_default_context(cafile=cafile)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    deadline = time.monotonic() + wait
    got, plain = [], b""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                s.sendall(out.read())
                data = s.recv(65536)
                if not data:
                    raise AssertionError("closed during the handshake")
                inc.write(data)
        for r in records:
            tls.write(r)
        s.sendall(out.read())
        while len(got) < want and time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = s.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            inc.write(data)
            chunk = None
            try:
                while chunk := tls.read(65536):
                    plain += chunk
            except ssl.SSLWantReadError:
                pass
            got = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ",
                                              plain)]
            if chunk == b"":
                break           # close_notify
    return got


def no_kills(testcase, d):
    testcase.assertEqual(d.worker_deaths(), [], d.log()[-3000:])


class GuestTLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sealmd-tls-")
        cls.certs = Certs(os.path.join(cls.tmp, "certs"))
        cls.crt, cls.key = cls.certs.server("guest")
        cls.d = Daemon(guests=(("proxy", "127.0.0.1"),
                               ("proxy", "127.0.0.1")))
        enable_tls(cls.d, "guest g1", cls.crt, cls.key)
        try:
            cls.d.start()
        except Exception:
            cls.d.cleanup()
            raise
        cls.plain, cls.tls = cls.d.ports

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def url(self, path):
        return f"https://127.0.0.1:{self.tls}{path}"

    def test_listener_is_tls(self):
        self.assertRegex(self.d.log(), r"listening: guest:127\.0\.0\.1:"
                         rf"{self.tls} \(identity proxy, TLS\)")
        # A TLS listener: the broker runs the worker built with TLS.
        self.assertRegex(self.d.log(), r"started: .*, worker \S*/"
                         r"sealmd-worker-tls\n")
        if os.geteuid() != 0:
            self.skipTest("not root: the worker is not dumpable, its /proc "
                          "maps are root's")
        with open(f"/proc/{self.d.worker_pid()}/maps") as f:
            self.assertIn("libtls", f.read())

    def test_same_answers_as_plain_http(self):
        d = self.d
        for version in ("1.2", "1.3"):
            with self.subTest(version=version):
                ip, it = uuid4(), uuid4()
                self.assertEqual(d.register(ip, "p-tls")[0], 201)
                self.assertEqual(d.register(it, "p-tls")[0], 201)
                value = canary(f"tls-{version}")
                hp = d.proxy_headers(ip, "p-tls")
                ht = d.proxy_headers(it, "p-tls")
                plain, tls = [], []
                for method, body in (("GET", None), ("POST", value),
                                     ("GET", None), ("POST", value)):
                    st, _, got = d.guest(method, PW, body=body, headers=hp)
                    plain.append((st, got))
                    st, got, err = curl(self.url(PW), self.crt, headers=ht,
                                        method=method, body=body,
                                        version=version)
                    self.assertIn(f"SSL connection using TLSv{version}",
                                  err)
                    tls.append((st, got))
                self.assertEqual(tls, plain)
                self.assertEqual([s for s, _ in tls], [200, 200, 200, 409])
                self.assertEqual(tls[2][1], value.encode())
        no_kills(self, d)

    def test_pipelined_records_are_all_answered(self):
        # Several TLS records waiting in the socket at once, then several
        # requests in one record: each is answered, none waits unseen.
        req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        ctx = ssl.create_default_context(cafile=self.crt)
        for batch in ([req] * 5, [req * 5]):
            with self.subTest(records=len(batch)):
                s = ctx.wrap_socket(socket.create_connection(
                    ("127.0.0.1", self.tls), timeout=5),
                    server_hostname="localhost")
                for r in batch:
                    s.send(r)
                got = b""
                while got.count(b"HTTP/1.1 200 ") < 5:
                    chunk = s.recv(65536)
                    self.assertTrue(chunk, got)
                    got += chunk
                s.close()
        no_kills(self, self.d)

    def test_pipelined_requests_in_one_write_are_all_answered(self):
        # N requests arrive in one TCP write, with the client's Finished,
        # and nothing more comes: every answer must go out without the
        # socket becoming readable again.  Whatever the worker took from
        # the socket or left inside OpenSSL is invisible to epoll.
        req = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: 012345678901\r\n\r\n"
        self.assertEqual(len(req), 48)
        # A guest connection buffers HTTP_HEAD_MAX + GUEST_BODY_MAX =
        # 28,682 bytes of requests.  682 requests are 32,736 bytes: two
        # records (16,384 + 16,352 bytes), the second of which does not
        # fit behind the first.
        for name, n, records in (
                ("a record each", 64, [req] * 64),
                ("one write, past the input buffer", 682, [req * 682]),
                ("a record each, past the input buffer", 682,
                 [req] * 682)):
            with self.subTest(name):
                got = tls_pipeline(self.tls, self.crt, records, n)
                self.assertEqual(got, [200] * n, f"{len(got)} answers")
        no_kills(self, self.d)

    def test_only_ecdsa_is_offered(self):
        d = self.d
        before = sign_count(d)
        for proto in ("-tls1_2", "-tls1_3"):
            rc, out = s_client(self.tls, self.crt, proto)
            self.assertEqual(rc, 0, out)
            self.assertIn("Peer signature type: ECDSA", out)
            self.assertIn("Server public key is 256 bit", out)
            self.assertIn("Verify return code: 0 (ok)", out)
        text = openssl("x509", "-in", self.crt, "-noout", "-text").decode()
        self.assertIn("id-ecPublicKey", text)
        # A client that takes only RSA gets no handshake, and no signature.
        for args in (("-tls1_2", "-cipher", "aRSA"),
                     ("-tls1_3", "-sigalgs",
                      "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"),
                     ("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")):
            rc, out = s_client(self.tls, self.crt, *args)
            self.assertNotEqual(rc, 0, f"{args}: {out}")
            self.assertNotIn("Peer signature type", out)
        self.assertEqual(sign_count(d) - before, 2)
        no_kills(self, d)

    def test_plain_http_on_the_tls_port_is_refused(self):
        r, closed = self.d.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                    port=self.tls)
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 400)
        self.assertIn(b"HTTPS", r.body)
        self.assertTrue(closed)
        self.assertEqual(curl(self.url("/"), self.crt)[0], 200)
        no_kills(self, self.d)

    def test_one_signature_per_full_handshake(self):
        d = self.d
        before = sign_count(d)
        for _ in range(5):
            self.assertEqual(curl(self.url("/"), self.crt)[0], 200)
        # Keep-alive: three requests, one handshake.
        r = subprocess.run(["curl", "-sS", "-v", "--cacert", self.crt] +
                           ["-o", "/dev/null", self.url("/")] * 3,
                           capture_output=True, timeout=30, text=True)
        self.assertEqual(r.stderr.count("SSL connection using"), 1, r.stderr)
        self.assertEqual(r.stderr.count("< HTTP/1.1 200"), 3, r.stderr)
        self.assertEqual(sign_count(d) - before, 6)
        self.assertNotRegex(d.log(), r"tls\.sign[^\n]*status=500")
        no_kills(self, d)

    def test_zz_reload_changes_key_keeps_connections(self):
        d = self.d
        ctx = ssl.create_default_context(cafile=self.crt)
        old = ctx.wrap_socket(socket.create_connection(
            ("127.0.0.1", self.tls), timeout=10), server_hostname="localhost")
        old_der = old.getpeercert(True)
        req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        old.sendall(req)
        self.assertTrue(old.recv(65536).startswith(b"HTTP/1.1 200"))
        # New key and certificate at the same paths.
        newcrt, newkey = self.certs.server("guest-next")
        os.replace(newkey, self.key)
        os.replace(newcrt, self.crt)
        pos = len(d.log())
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.wait_log(r"reloaded"), d.log()[pos:])
        old.sendall(req)
        self.assertTrue(old.recv(65536).startswith(b"HTTP/1.1 200"))
        old.close()
        deadline = time.time() + 5
        while True:
            ctx = ssl.create_default_context(cafile=self.crt)
            try:
                s = ctx.wrap_socket(socket.create_connection(
                    ("127.0.0.1", self.tls), timeout=10),
                    server_hostname="localhost")
                break
            except ssl.SSLError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        new_der = s.getpeercert(True)
        s.close()
        self.assertNotEqual(new_der, old_der)
        self.assertEqual(new_der, ssl.PEM_cert_to_DER_cert(
            open(self.crt).read()))
        self.assertEqual(curl(self.url("/"), self.crt)[0], 200)
        self.assertNotIn("listening:", d.log()[pos:])
        no_kills(self, d)


def accept_backlog(port):
    """Connections waiting in the accept queue of 127.0.0.1:port."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A"):
                return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"no listener on port {port}")


@unittest.skipUnless(IS_ROOT, "needs root to stop the worker's uid")
class ReloadsDuringHandshake(unittest.TestCase):
    """A handshake under way when the keys are reloaded signs with the key
    of the certificate it began with: the broker keeps the keys of the
    last 3 reloads.  Past that its handshake fails, and no one is
    killed.  The worker is stopped so that the reloads land between the
    accept and the handshake."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sealmd-tls-reloads-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.certs = Certs(os.path.join(self.tmp, "certs"))
        self.crt, self.key = self.certs.server("first")
        self.d = Daemon(guests=(("proxy", "127.0.0.1"),))
        enable_tls(self.d, "guest", self.crt, self.key)
        self.addCleanup(self.d.cleanup)
        self.d.start()
        self.port = self.d.ports[0]

    def handshake_across(self, reloads):
        d, out = self.d, {}
        first = ssl.PEM_cert_to_DER_cert(open(self.crt).read())
        ctx = ssl.create_default_context(cafile=self.crt)
        wpid = d.worker_pid()
        os.kill(wpid, signal.SIGSTOP)
        try:
            raw = socket.create_connection(("127.0.0.1", self.port),
                                           timeout=20)
            deadline = time.time() + 10
            while accept_backlog(self.port) and time.time() < deadline:
                time.sleep(0.02)
            self.assertEqual(accept_backlog(self.port), 0, "not accepted")

            def shake():
                try:
                    s = ctx.wrap_socket(raw, server_hostname="localhost")
                    out["der"] = s.getpeercert(True)
                    s.close()
                except (ssl.SSLError, OSError) as e:
                    out["error"] = e
            t = threading.Thread(target=shake)
            t.start()
            for i in range(reloads):
                crt, key = self.certs.server(f"next{i}")
                os.replace(key, self.key)
                os.replace(crt, self.crt)
                n = d.log().count("reloaded:")
                d.proc.send_signal(signal.SIGHUP)
                deadline = time.time() + 10
                while d.log().count("reloaded:") == n:
                    self.assertLess(time.time(), deadline, "no reload")
                    time.sleep(0.02)
        finally:
            os.kill(wpid, signal.SIGCONT)
        t.join(30)
        self.assertFalse(t.is_alive())
        # A new handshake gets the newest certificate.
        self.assertEqual(curl(f"https://127.0.0.1:{self.port}/",
                              self.crt)[0], 200)
        no_kills(self, d)
        return first, out

    def test_three_reloads_keep_the_handshake(self):
        first, out = self.handshake_across(3)
        self.assertEqual(out.get("der"), first, out)

    def test_four_reloads_fail_it_cleanly(self):
        _, out = self.handshake_across(4)
        self.assertIn("error", out)
        self.assertRegex(self.d.log(), r"tls\.sign: connection \d+ began "
                         r"4 reloads ago, its key is gone: handshake "
                         r"refused")


class KeyFiles(unittest.TestCase):
    """Keys the broker refuses to load, and why it says so."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sealmd-tlskeys-")
        cls.certs = Certs(os.path.join(cls.tmp, "certs"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def refused(self, crt, key, *why):
        d = Daemon(guests=(("proxy", "127.0.0.1"),))
        enable_tls(d, "guest", crt, key)
        try:
            # sealmd -n says the same, before any start.
            chk = subprocess.run([SEALMD, "-n", "-c", d.conf],
                                 capture_output=True, text=True, timeout=10)
            with self.assertRaises(RuntimeError) as cm:
                d.start()
        finally:
            d.cleanup()
        self.assertEqual(chk.returncode, 2, chk.stderr)
        for w in why:
            self.assertIn(w, str(cm.exception))
            self.assertIn(w, chk.stderr)

    def test_rsa_key_is_a_config_error_that_says_why(self):
        crt, key = self.certs.server("rsa", "RSA")
        self.refused(crt, key, "an RSA key", "raw RSA signing and "
                     "decryption oracle", "ECDSA P-256 or P-384")

    def test_other_curves_refused(self):
        crt, key = self.certs.server("p521", "P-521")
        self.refused(crt, key, "not an ECDSA key on P-256 or P-384")

    def test_key_must_match_certificate(self):
        crt, _ = self.certs.server("one")
        _, key = self.certs.server("two")
        self.refused(crt, key, "does not match the certificate")

    def test_key_readable_by_others_refused(self):
        crt, key = self.certs.server("loose")
        os.chmod(key, 0o640)
        self.refused(crt, key, "gives access to group or others")

    def test_p384_works(self):
        crt, key = self.certs.server("p384", "P-384")
        d = Daemon(guests=(("proxy", "127.0.0.1"),))
        enable_tls(d, "guest", crt, key)
        chk = subprocess.run([SEALMD, "-n", "-c", d.conf],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual((chk.returncode, chk.stderr),
                         (0, "sealmd: configuration OK\n"))
        d.start()
        self.addCleanup(d.cleanup)
        self.assertEqual(curl(f"https://127.0.0.1:{d.ports[0]}/", crt)[0],
                         200)
        rc, out = s_client(d.ports[0], crt, "-tls1_3")
        self.assertIn("Server public key is 384 bit", out)


class OwnerTLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sealmd-ownertls-")
        c = cls.certs = Certs(os.path.join(cls.tmp, "certs"))
        cls.crt, cls.key = c.server("owner")
        cls.ops = c.client("ops", "/O=Example/CN=ops")
        cls.intruder = c.client("intruder", "/O=Example/CN=intruder")
        # One attribute, O = "Example/CN=ops", and two, O = "Example\"
        # and CN = "ops": X509_NAME_oneline (tls_peer_cert_subject)
        # escapes '/' but not '\', and prints both "/O=Example\/CN=ops".
        cls.lookalike = c.client("lookalike", "/O=Example\\/CN=ops")
        cls.backslash = c.client("backslash", "/O=Example\\\\/CN=ops")
        # Its own subject, escaped, can be allowed.
        cls.slashed = c.client("slashed", "/O=Ex\\/am=ple/CN=ops+UID=7")
        cls.foreign = c.server("foreign")      # not signed by the CA
        cls.token = "tok-" + uuid4()
        tokens = os.path.join(cls.tmp, "tokens")
        digest = openssl("dgst", "-sha256", "-r",
                         stdin=cls.token.encode()).split()[0].decode()
        fd = os.open(tokens, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"# sealmd owner tokens\n{digest}\n")
        cls.d = Daemon()
        enable_owner_tls(cls.d, cls.crt, cls.key, ca=c.ca,
                         subjects=("/O=Example/CN=ops",
                                   "/O=Ex\\/am\\=ple/CN=ops+UID=7",
                                   "/O=Example\\\\/CN=ops"),
                         tokens=tokens)
        try:
            cls.d.start()
        except Exception:
            cls.d.cleanup()
            raise
        cls.port = owner_port(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, path, *extra, **kw):
        return curl(f"https://127.0.0.1:{self.port}{path}", self.crt, *extra,
                    **kw)

    def test_listener(self):
        self.assertIsNotNone(self.port, self.d.log())
        self.assertIn("(owner API over TLS)", self.d.log())

    def test_no_credentials_401(self):
        st, body, err = self.get("/status")
        self.assertEqual(st, 401)
        self.assertIn("WWW-Authenticate", err)
        self.assertIn(b"authentication required", body)

    def test_wrong_token_401(self):
        self.assertEqual(self.get("/status", headers={
            "X-Auth-Token": self.token + "x"})[0], 401)
        self.assertEqual(self.get("/status", headers={
            "X-Auth-Token": ""})[0], 401)

    def test_unlisted_subject_403(self):
        crt, key = self.intruder
        st, body, _ = self.get("/status", "--cert", crt, "--key", key)
        self.assertEqual(st, 403)
        self.assertIn(b"subject not allowed", body)

    def test_foreign_certificate_fails_the_handshake(self):
        crt, key = self.foreign
        self.assertEqual(self.get("/status", "--cert", crt, "--key",
                                  key)[0], 0)

    def test_value_that_reads_as_two_attributes_403(self):
        def compat(crt):
            return openssl("x509", "-in", crt, "-noout", "-subject",
                           "-nameopt", "compat")
        # Allowed: the two attributes, written "/O=Example\\/CN=ops".
        self.assertEqual(compat(self.lookalike[0]),
                         compat(self.backslash[0]))
        crt, key = self.backslash
        self.assertEqual(self.get("/status", "--cert", crt, "--key",
                                  key)[0], 200)
        crt, key = self.lookalike
        st, body, _ = self.get("/status", "--cert", crt, "--key", key)
        self.assertEqual(st, 403)
        self.assertIn(b"subject not allowed", body)

    def test_escaped_subject_and_multivalued_rdn_200(self):
        crt, key = self.slashed
        self.assertEqual(self.get("/status", "--cert", crt, "--key",
                                  key)[0], 200)

    def test_allowed_subject_200(self):
        crt, key = self.ops
        st, body, _ = self.get("/status", "--cert", crt, "--key", key)
        self.assertEqual(st, 200)
        self.assertIn(b'"version"', body)

    def test_right_token_works_for_every_route(self):
        h = {"X-Auth-Token": self.token}
        iid = uuid4()
        url = f"/instances/{iid}"
        self.assertEqual(self.get(url, method="PUT", headers=dict(
            h, **{"Content-Type": "application/json"}),
            body='{"project_id": "p-owner-tls"}')[0], 201)
        st, body, _ = self.get(url, headers=h)
        self.assertEqual(st, 200)
        self.assertIn(b"p-owner-tls", body)
        # Each request is judged: the same connection without the token.
        st, _, err = self.get(url, headers=h)
        self.assertEqual(st, 200)
        self.assertEqual(self.get(url)[0], 401)
        self.assertRegex(self.d.audit_log(), r"audit op=owner\.auth\.token ")
        self.assertNotIn(self.token, self.d.log())

    def test_plain_http_refused(self):
        r, closed = self.d.exchange(b"GET /status HTTP/1.1\r\nHost: x\r\n"
                                    b"\r\n", port=self.port)
        self.assertEqual(r.status, 400)
        self.assertTrue(closed)

    def test_unix_socket_still_by_peercred(self):
        self.assertEqual(self.d.owner("GET", "/status")[0], 200)


@unittest.skipUnless(os.path.exists(EVIL), "test worker not built")
class WorkerCannotOpenTheKey(unittest.TestCase):
    def test_open_of_the_key_is_fatal(self):
        if not IS_ROOT:
            self.skipTest("needs root for the worker's own uid and chroot")
        tmp = tempfile.mkdtemp(prefix="sealmd-tlsevil-", dir="/tmp")
        os.chmod(tmp, 0o755)
        self.addCleanup(shutil.rmtree, tmp, True)
        certs = Certs(os.path.join(tmp, "certs"))
        crt, key = certs.server("guest")
        shutil.copy(EVIL, os.path.join(tmp, "sealmd-worker-evil"))
        d = Daemon(guests=(("proxy", "127.0.0.1"),),
                   worker_path=os.path.join(tmp, "sealmd-worker-evil"))
        enable_tls(d, "guest", crt, key)
        d.start()
        self.addCleanup(d.cleanup)
        # The real worker's descriptors: the key file is not among them.
        pid = d.worker_pid()
        fds = [os.readlink(f"/proc/{pid}/fd/{n}")
               for n in os.listdir(f"/proc/{pid}/fd")]
        self.assertNotIn(key, fds)
        with open(os.path.join(tmp, "evil-confined"), "w") as f:
            f.write(f"open-keys {key}\n")
        pos = len(d.log())
        d.kill_worker()
        self.assertTrue(d.wait_log(r"will play open-keys", 10), d.log())
        m = None
        deadline = time.time() + 10
        while m is None and time.time() < deadline:
            m = re.search(r"worker \d+ killed by seccomp \(SIGSYS\)",
                          d.log()[pos:])
            time.sleep(0.05)
        self.assertIsNotNone(m, d.log()[pos:])
        self.assertNotIn("still alive", d.log())
        # The next worker is an ordinary one, and TLS goes on.
        deadline = time.time() + 10
        while time.time() < deadline:
            if curl(f"https://127.0.0.1:{d.ports[0]}/", crt)[0] == 200:
                break
            time.sleep(0.1)
        self.assertEqual(curl(f"https://127.0.0.1:{d.ports[0]}/", crt)[0],
                         200)


if __name__ == "__main__":
    unittest.main()
