# SPDX-License-Identifier: ISC
"""systemd integration: socket activation, sd_notify, watchdog, reload,
the shipped units and make install."""
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from sealmd_fixture import SEALMD, TOP, Daemon, uuid4

HAVE_SA = shutil.which("systemd-socket-activate") is not None
HAVE_ANALYZE = shutil.which("systemd-analyze") is not None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class NotifyListener:
    """A NOTIFY_SOCKET of our own, recording (time, message)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.msgs = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        deadline = time.time() + 60
        while not self.stop.is_set() and time.time() < deadline:
            try:
                self.msgs.append((time.time(), self.sock.recv(4096)))
            except socket.timeout:
                pass

    def wait_for(self, text, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for t, m in self.msgs:
                if text in m:
                    return t
            time.sleep(0.02)
        return None

    def count(self, text, since=0.0, until=None):
        return sum(1 for t, m in self.msgs
                   if text in m and t >= since and (until is None or t < until))

    def close(self):
        self.stop.set()
        self.t.join()
        self.sock.close()


@unittest.skipUnless(HAVE_SA, "systemd-socket-activate is not installed "
                     "(Debian package systemd)")
class SocketActivation(unittest.TestCase):
    """Two guest sockets and an owner socket from systemd: sealmd serves on
    all three and binds none of its own."""

    def setUp(self):
        self.d = Daemon()      # only for its state dir, keys and config
        self.tmp = self.d.state
        self.own_port = free_port()
        with open(self.d.conf) as f:
            conf = f.read()
        # A configured listener that must NOT be bound: systemd passes guests.
        conf = re.sub(r"listen = 127\.0\.0\.1:0",
                      f"listen = 127.0.0.1:{self.own_port}", conf)
        self.iid = uuid4()
        conf += f"\n[instance {self.iid}]\nproject = sa\naddress = 127.0.0.1\n"
        with open(self.d.conf, "w") as f:
            f.write(conf)
        self.p1, self.p2 = free_port(), free_port()
        self.owner = os.path.join(self.tmp, "sa-owner.sock")
        self.notify = NotifyListener(os.path.join(self.tmp, "notify"))
        self.logf = open(os.path.join(self.tmp, "sa.log"), "wb")
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path,
                   WATCHDOG_USEC="1000000")
        self.proc = subprocess.Popen(
            ["systemd-socket-activate",
             "-l", f"127.0.0.1:{self.p1}", "-l", f"127.0.0.1:{self.p2}",
             "-l", self.owner, "--fdname=guest:guest-direct:owner",
             "-E", "NOTIFY_SOCKET", "-E", "WATCHDOG_USEC",
             SEALMD, "-c", self.d.conf],
            stdout=self.logf, stderr=self.logf, env=env)
        deadline = time.time() + 5
        while not os.path.exists(self.owner) and time.time() < deadline:
            time.sleep(0.02)

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        self.notify.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.tmp, "sa.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def get(self, port, path, headers=None):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        h = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{h}"
                  "Connection: close\r\n\r\n".encode())
        out = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
        s.close()
        return int(out.split(b" ", 2)[1]), out.split(b"\r\n\r\n", 1)[1]

    def test_serves_inherited_sockets_and_notifies(self):
        # The first connection makes systemd-socket-activate exec sealmd.
        st, body = self.get(self.p1, "/")
        self.assertEqual(st, 200)
        self.assertTrue(body.startswith(b"1.0\n"))
        t_ready = self.notify.wait_for(b"READY=1")
        self.assertIsNotNone(t_ready, "no READY=1")
        self.assertRegex(self.log(), r"worker \d+ ready[\s\S]*sealmd: ready")
        ready_msg = [m for _, m in self.notify.msgs if b"READY=1" in m][0]
        self.assertRegex(ready_msg, rb"STATUS=serving 3 listeners, \d+ "
                         rb"instances")
        # Direct listener: the peer 127.0.0.1 is the seeded instance.
        self.assertEqual(self.get(self.p2, "/openstack")[0], 200)
        sig = hmac.new(self.d.secret, self.iid.encode(),
                       hashlib.sha256).hexdigest()
        self.assertEqual(self.get(self.p1, "/openstack", {
            "X-Instance-ID": self.iid, "X-Tenant-ID": "sa",
            "X-Instance-ID-Signature": sig})[0], 200)
        # The owner socket from systemd.
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.owner)
        s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        self.assertIn(b"200 OK", s.recv(4096))
        s.close()
        # Nothing of its own was bound.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.own_port), timeout=2)
        self.assertFalse(os.path.exists(self.d.socket))
        self.assertIn("from systemd", self.log())
        self.assertIn("not binding", self.log())

        # Watchdog: about every half second while the worker answers.
        time.sleep(2.2)
        n = self.notify.count(b"WATCHDOG=1", since=t_ready + 0.1,
                              until=t_ready + 2.1)
        self.assertGreaterEqual(n, 2, self.notify.msgs)
        self.assertLessEqual(n, 8, self.notify.msgs)
        # A stopped worker starves it.
        wpid = int(re.findall(r"worker (\d+) ready", self.log())[-1])
        os.kill(wpid, signal.SIGSTOP)
        try:
            time.sleep(0.8)      # a watchdog may already be in flight
            t0 = time.time()
            time.sleep(2.0)
            self.assertEqual(self.notify.count(b"WATCHDOG=1", since=t0), 0,
                             "watchdog fed while the worker was stopped")
        finally:
            os.kill(wpid, signal.SIGCONT)
        # SIGTERM: STOPPING=1 and a clean exit.
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(10), 0)
        self.assertIsNotNone(self.notify.wait_for(b"STOPPING=1", 2))


class Reload(unittest.TestCase):
    def test_sighup_keeps_connection_and_adds_instance(self):
        d = Daemon().start()
        try:
            new = uuid4()
            s = socket.create_connection(("127.0.0.1", d.ports[0]),
                                         timeout=5)

            def ask(iid, proj):
                h = d.proxy_headers(iid, proj)
                hs = "".join(f"{k}: {v}\r\n" for k, v in h.items())
                s.sendall(f"GET /openstack/latest HTTP/1.1\r\nHost: x\r\n"
                          f"{hs}\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    head += s.recv(1)
                n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                body = b""
                while len(body) < n:
                    body += s.recv(n - len(body))
                return int(head.split(b" ", 2)[1])

            self.assertEqual(ask(new, "p-new"), 404)
            with open(d.conf, "a") as f:
                f.write(f"\n[instance {new}]\nproject = p-new\n")
            d.proc.send_signal(signal.SIGHUP)
            self.assertTrue(d.wait_log(r"reloaded: "), d.log())
            self.assertEqual(ask(new, "p-new"), 200)   # same connection
            s.close()
            # A broken file changes nothing, and the daemon stays up.
            with open(d.conf, "a") as f:
                f.write("\n[nonsense]\n")
            d.proc.send_signal(signal.SIGHUP)
            self.assertTrue(d.wait_log(r"reload: .*running configuration "
                                       r"stays"), d.log())
            self.assertIsNone(d.proc.poll())
            h = d.proxy_headers(new, "p-new")
            self.assertEqual(d.guest("GET", "/openstack", headers=h)[0], 200)
        finally:
            d.cleanup()


class Shipped(unittest.TestCase):
    def install(self, **kw):
        root = tempfile.mkdtemp(prefix="sealmd-inst-")
        self.addCleanup(shutil.rmtree, root, True)
        args = [f"{k}={v.format(root=root)}" for k, v in kw.items()]
        r = subprocess.run(["make", "-s", "-C", TOP, "install", *args],
                           capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return root

    def test_install_file_list_and_modes(self):
        root = self.install(DESTDIR="{root}", PREFIX="/usr")
        got = {}
        for dirpath, dirs, files in os.walk(root):
            for n in files + dirs:
                p = os.path.join(dirpath, n)
                got[os.path.relpath(p, root)] = oct(
                    os.lstat(p).st_mode & 0o7777)
        want_files = {
            "usr/sbin/sealmd": "0o755",
            "usr/bin/sealmdctl": "0o755",
            "usr/bin/sealmd-guest": "0o755",
            "usr/bin/sealmd-guest": "0o755",
            "usr/libexec/sealmd/sealmd-worker": "0o755",
            "usr/libexec/sealmd/sealmd-worker-tls": "0o755",
            "usr/lib/systemd/system/sealmd.service": "0o644",
            "usr/lib/systemd/system/sealmd.socket": "0o644",
            "usr/lib/systemd/system/sealmd-owner.socket": "0o644",
            "usr/lib/sysusers.d/sealmd.conf": "0o644",
            "usr/lib/tmpfiles.d/sealmd.conf": "0o644",
            "usr/share/man/man8/sealmd.8": "0o644",
            "usr/share/man/man8/sealmdctl.8": "0o644",
            "usr/share/man/man8/sealmd-guest.8": "0o644",
            "usr/share/man/man8/sealmd-guest.8": "0o644",
            "usr/share/man/man5/sealmd.conf.5": "0o644",
            "etc/sealmd/sealmd.conf": "0o644",
            "etc/sealmd/sealmd.conf.example": "0o644",
            "etc/sealmd/sealmd-postgresql.conf.example": "0o644",
            "etc/sealmd/keys": "0o700",
        }
        files = {k: v for k, v in got.items()
                 if not os.path.isdir(os.path.join(root, k))
                 or k.endswith("keys")}
        self.assertEqual(files, want_files)
        with open(os.path.join(root, "usr/lib/systemd/system/"
                               "sealmd.service")) as f:
            self.assertIn("ExecStart=/usr/sbin/sealmd -c "
                          "/etc/sealmd/sealmd.conf", f.read())

    @unittest.skipUnless(HAVE_ANALYZE, "systemd-analyze is not installed")
    def test_units_verify_and_exposure(self):
        root = self.install(PREFIX="{root}/usr", SYSCONFDIR="{root}/etc")
        units = os.path.join(root, "usr/lib/systemd/system")
        env = dict(os.environ,
                   MANPATH=os.path.join(root, "usr/share/man") + ":")
        r = subprocess.run(["systemd-analyze", "verify",
                            os.path.join(units, "sealmd.service"),
                            os.path.join(units, "sealmd.socket"),
                            os.path.join(units, "sealmd-owner.socket")],
                           capture_output=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, b"")
        # With the PostgreSQL drop-in in place, as the README says.
        dropin = os.path.join(units, "sealmd.service.d")
        os.mkdir(dropin)
        shutil.copy(os.path.join(root, "etc/sealmd/"
                                 "sealmd-postgresql.conf.example"),
                    os.path.join(dropin, "postgresql.conf"))
        r = subprocess.run(["systemd-analyze", "verify",
                            os.path.join(units, "sealmd.service")],
                           capture_output=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, b"")
        shutil.rmtree(dropin)
        r = subprocess.run(["systemd-analyze", "security", "--offline=true",
                            os.path.join(units, "sealmd.service")],
                           capture_output=True, env=env, timeout=60)
        m = re.search(rb"Overall exposure level for sealmd.service: "
                      rb"([0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        score = float(m.group(1))
        print(f"\n    systemd-analyze security: exposure {score}", flush=True)
        self.assertLessEqual(score, 2.0)


if __name__ == "__main__":
    unittest.main()
