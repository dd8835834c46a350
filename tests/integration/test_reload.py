# SPDX-License-Identifier: ISC
"""SIGHUP applies what sealmd.8 says it re-reads (issue 14, item 2):
every setting is applied, or named in a warning as needing a restart,
and the reload log line says what changed.  Above all, a uid or group
taken out of allow_uid or allow_group loses the owner API at once, on
the connections it holds open too.
"""
import grp
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from sealmd_fixture import Daemon, PeersAllowedCase, RawConn, uuid4
from tls_helpers import Certs, enable_tls

PW = "/openstack/latest/password"
WAIT = 15


def raw(sock, timeout=WAIT):
    c = RawConn.__new__(RawConn)
    sock.settimeout(timeout)
    c.sock, c.timeout, c.buf, c.eof = sock, timeout, b"", False
    return c


def connect_as(path, uid, gid):
    """A connection to the unix socket at path made by a child running as
    uid/gid (so SO_PEERCRED names it), handed back to us."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # child: never return into unittest
        code = 1
        try:
            ours.close()
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            socket.send_fds(theirs, [b"x"], [s.fileno()])
            code = 0
        finally:
            os._exit(code)
    theirs.close()
    try:
        _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    finally:
        ours.close()
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or len(fds) != 1:
        raise AssertionError(f"could not connect as uid {uid}")
    return raw(socket.socket(fileno=fds[0]))


def get(path):
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


class Base(unittest.TestCase):
    def edit(self, d, old, new):
        with open(d.conf) as f:
            conf = f.read()
        self.assertIn(old, conf)
        with open(d.conf, "w") as f:
            f.write(conf.replace(old, new, 1))

    def reload(self, d):
        """SIGHUP; the log from the "reloading" line on."""
        pos = len(d.log())
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + WAIT
        while time.time() < deadline:
            m = re.search(r"^<\d>sealmd: (reloaded: .*|reload: .*running "
                          r"configuration stays)$", d.log()[pos:], re.M)
            if m:
                return d.log()[pos:]
            time.sleep(0.05)
        self.fail("no reload line:\n" + d.log()[pos:])


class ReloadRevokes(Base, PeersAllowedCase):
    TAG = "reload"
    WHY = "revocation by reload"

    def ask(self, c):
        c.send(get(f"/servers/{self.iid}/os-server-password"))
        r = c.read_response()
        self.assertIsNotNone(r, "no answer:\n" + self.d.log()[-3000:])
        return r

    def test_revoked_on_open_connections(self):
        d = self.d
        bin_pw = __import__("pwd").getpwnam(self.MEMBER)
        conns = [connect_as(d.socket, self.LISTED, self.LISTED),
                 connect_as(d.socket, bin_pw.pw_uid, bin_pw.pw_gid)]
        try:
            for c in conns:
                r = self.ask(c)
                self.assertEqual(r.status, 200)
                self.assertIn(self.value.encode(), r.body)
            self.edit(d, self.line + self.allow, self.line)
            log = self.reload(d)
            # The same connections, still open: refused now.
            for c in conns:
                r = self.ask(c)
                self.assertEqual(r.status, 403, d.log()[-2000:])
                self.assertNotIn(self.value.encode(), r.body)
            self.assertRegex(log, r"reloaded: changed allow_uid, "
                             r"allow_group;")
            c = connect_as(d.socket, self.LISTED, self.LISTED)
            conns.append(c)
            self.assertEqual(self.ask(c).status, 403)
        finally:
            for c in conns:
                c.close()
            self.edit(d, self.line, self.line + self.allow)
            log = self.reload(d)
        # And back: a reload that lists them again lets them in.
        self.assertRegex(log, r"reloaded: changed allow_uid, allow_group;")
        c = connect_as(d.socket, self.LISTED, self.LISTED)
        try:
            self.assertEqual(self.ask(c).status, 200)
        finally:
            c.close()

    def test_new_group_needs_restart(self):
        """Groups are resolved at start only (the confined broker runs no
        NSS module): a reload drops a group at once, but one it did not
        resolve at start is named for a restart, and the rest applies."""
        d = self.d
        new = f"sealmdrn{os.getpid()}"
        subprocess.run(["groupadd", new], check=True, timeout=30)
        try:
            self.edit(d, f"allow_group = {self.group}\n",
                      f"allow_group = {new}\n")
            try:
                log = self.reload(d)
            finally:
                self.edit(d, f"allow_group = {new}\n",
                          f"allow_group = {self.group}\n")
            self.assertRegex(log, rf"reload: allow_group {new} \(groups "
                             r"are resolved at start\) change only on "
                             r"restart; the running values stay")
            self.assertRegex(log, r"reloaded: changed allow_group;")
            # The old group is out, the new one not in yet.
            bin_pw = __import__("pwd").getpwnam(self.MEMBER)
            c = connect_as(d.socket, bin_pw.pw_uid, bin_pw.pw_gid)
            try:
                self.assertEqual(self.ask(c).status, 403)
            finally:
                c.close()
            c = connect_as(d.socket, 65534, grp.getgrnam(new).gr_gid)
            try:
                self.assertEqual(self.ask(c).status, 403)
            finally:
                c.close()
        finally:
            subprocess.run(["groupdel", new], check=True, timeout=30)
        log = self.reload(d)
        self.assertRegex(log, r"reloaded: changed allow_group;")
        self.assertIsNone(d.proc.poll())


class ReloadApplies(Base):
    def test_settings_applied_or_named(self):
        d = Daemon(limits={"rate": 0}, extra_guest="")
        self.addCleanup(d.cleanup)
        d.start()
        iid = uuid4()
        self.assertEqual(d.register(iid, "p")[0], 201)
        h = d.proxy_headers(iid, "p")
        self.assertEqual(d.guest("GET", PW, headers=h)[0], 200)
        self.edit(d, "[limits]\nrate = 0\n",
                  "[limits]\nrate = 1\nburst = 1\nmax_conns = 77\n"
                  "owner_conn_requests = 9\n")
        self.edit(d, "[store]\n",
                  "[store]\npassword_ttl = 5\none_time_read = yes\n")
        self.edit(d, "identity = proxy\n",
                  "identity = proxy\nrequire_header = X-Need: yes\n"
                  "post_window = 3600\n")
        log = self.reload(d)
        m = re.search(r"reloaded: changed (.*); key ring", log)
        self.assertIsNotNone(m, log)
        changed = m.group(1).split(", ")
        for k in ("password_ttl", "one_time_read", "rate", "burst",
                  "owner_conn_requests", "guards of [guest]"):
            self.assertIn(k, changed)
        self.assertNotIn("max_conns", changed)
        self.assertRegex(log, r"reload: max_conns change only on restart; "
                         r"the running values stay")
        # require_header: refused without it, served with it.
        self.assertEqual(d.guest("GET", PW, headers=h)[0], 403)
        h["X-Need"] = "yes"
        # one_time_read: the owner's first read clears the value.
        self.assertEqual(d.guest("POST", PW, body=b"once", headers=h)[0],
                         200)
        self.assertEqual(d.owner("GET", f"/servers/{iid}/"
                                 "os-server-password"),
                         (200, {"password": "once"}))
        self.assertEqual(d.owner("GET", f"/servers/{iid}/"
                                 "os-server-password"),
                         (200, {"password": ""}))
        # rate 1, burst 1: the next guest request at once is refused.
        codes = [d.guest("GET", PW, headers=h)[0] for _ in range(3)]
        self.assertIn(429, codes)
        # password_ttl: a value five seconds old is gone (five, so that
        # the one-time read above is well inside it, even under valgrind).
        time.sleep(1.2)
        self.assertEqual(d.guest("POST", PW, body=b"brief", headers=h)[0],
                         200)
        time.sleep(5.5)
        self.assertEqual(d.owner("GET", f"/servers/{iid}/"
                                 "os-server-password"),
                         (200, {"password": ""}))

    def test_new_certificate_paths_named(self):
        tmp = tempfile.mkdtemp(prefix="sealmd-reload-tls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        certs = Certs(os.path.join(tmp, "certs"))
        crt, key = certs.server("first")
        d = Daemon()
        self.addCleanup(d.cleanup)
        enable_tls(d, "guest", crt, key)
        d.start()
        crt2, key2 = certs.server("second")
        self.edit(d, f"tls_cert = {crt}\ntls_key = {key}\n",
                  f"tls_cert = {crt2}\ntls_key = {key2}\n")
        log = self.reload(d)
        self.assertRegex(log, r"reloaded: changed tls_cert, tls_key;")
        deadline = time.time() + WAIT
        while True:
            ctx = ssl.create_default_context(cafile=crt2)
            try:
                s = ctx.wrap_socket(socket.create_connection(
                    ("127.0.0.1", d.ports[0]), timeout=WAIT),
                    server_hostname="localhost")
                break
            except ssl.SSLError:
                self.assertLess(time.time(), deadline)
                time.sleep(0.1)
        with open(crt2) as f:
            self.assertEqual(s.getpeercert(True),
                             ssl.PEM_cert_to_DER_cert(f.read()))
        s.close()


if __name__ == "__main__":
    unittest.main()
