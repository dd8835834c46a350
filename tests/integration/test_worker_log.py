# SPDX-License-Identifier: ISC
"""The worker's stderr is a pipe the broker reads (broker/wlog.c): every
worker line reaches the log as "<N>sealmd-worker: ...", escaped and cut to
length, at a bounded rate, so nothing the worker writes can pass for one
of the broker's audit lines, and a worker with RLIMIT_FSIZE 0 can log
although the daemon's stderr is a regular file."""
import os
import re
import shutil
import socket
import tempfile
import time
import unittest

from sealmd_fixture import BUILD, Daemon, uuid4
from tls_helpers import Certs, enable_tls

EVIL = os.path.join(BUILD, "tests", "sealmd-worker-evil")
# What docs/audit.md tells a parser: an audit line starts so.
AUDIT = re.compile(rb"^<5>sealmd: audit ")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def log_lines(d):
    return d.all_logs().split(b"\n")


class WorkerLogToFile(unittest.TestCase):
    def test_worker_logs_with_stderr_a_regular_file(self):
        """sealmd -d 2>>sealmd.log (the fixture's own setup): the worker's
        debug line for plain HTTP on a TLS port arrives, prefixed, and
        the worker lives on (it died of SIGXFSZ at its first line)."""
        tmp = tempfile.mkdtemp(prefix="sealmd-wlog-")
        self.addCleanup(shutil.rmtree, tmp, True)
        crt, key = Certs(os.path.join(tmp, "certs")).server("guest")
        d = Daemon(guests=(("proxy", "127.0.0.1"),), args=["-d"])
        enable_tls(d, "guest", crt, key)
        d.start()
        self.addCleanup(d.cleanup)
        pos = len(d.log())
        with socket.create_connection(("127.0.0.1", d.ports[0]),
                                      timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"HTTP/1.1 400", s.recv(4096))
        self.assertTrue(d.wait_log(
            r"(?m)^<7>sealmd-worker: connection \d+: plain HTTP on a TLS "
            r"port$"), d.log()[pos:])
        self.assertEqual(d.worker_deaths(), [])
        st, js = d.owner("GET", "/status")
        self.assertEqual(st, 200)


@unittest.skipUnless(os.path.exists(EVIL), "test worker not built")
class HostileWorkerLog(unittest.TestCase):
    def start_evil(self, plays, stderr_pipe):
        evil_dir = os.path.join("/tmp", "sealmd-evil-" + uuid4()[:8])
        os.mkdir(evil_dir, 0o755)
        self.addCleanup(shutil.rmtree, evil_dir, True)
        path = os.path.join(evil_dir, "sealmd-worker-evil")
        shutil.copy(EVIL, path)
        with open(os.path.join(evil_dir, "evil-confined"), "w") as f:
            f.write("".join(p + "\n" for p in plays))
        d = Daemon(worker_path=path, stderr_pipe=stderr_pipe)
        d.start()
        self.addCleanup(d.cleanup)
        return d

    def check_fakes(self, stderr_pipe):
        d = self.start_evil(["fake-audit"], stderr_pipe)
        iid = uuid4()
        self.assertEqual(d.register(iid, "p")[0], 201)
        h = d.proxy_headers(iid, "p")
        self.assertEqual(d.guest("POST", "/openstack/latest/password",
                                 body=b"x" * 8, headers=h)[0], 200)
        self.assertTrue(d.wait_log(r"EVILFAKE4"), d.log())
        # Waited for, not read after a /status: through a pipe the log
        # reaches the file by way of the fixture's copying thread.
        self.assertTrue(d.wait_log(r"audit op=guest\.pw\.put"), d.log())
        self.assertEqual(d.worker_deaths(), [])
        d.stop()
        lines = log_lines(d)
        # No audit line that the worker wrote, however dressed.
        fakes = [ln for ln in lines if AUDIT.match(ln) and b"EVIL" in ln]
        self.assertEqual(fakes, [])
        real = [ln for ln in lines if AUDIT.match(ln)]
        self.assertTrue(any(b"op=guest.pw.put" in ln for ln in real))
        for ln in lines:
            # The broker writes printable ASCII only: no \r, ESC or NUL.
            self.assertIsNone(re.search(rb"[^\x20-\x7e]", ln), ln)
        worker = [ln for ln in lines if b"EVILFAKE" in ln]
        for ln in worker:
            self.assertRegex(ln, rb"^<[3467]>sealmd-worker: ")
        found = {int(m) for ln in worker
                 for m in re.findall(rb"EVILFAKE(\d)", ln)}
        # 5 followed 3000 bytes on its line: cut, never a line of its own.
        self.assertEqual(found, {1, 2, 3, 4, 6})
        self.assertTrue(any(b"plain text\\x0d<5>sealmd: audit" in ln
                            for ln in worker))
        self.assertTrue(any(ln.startswith(b"<6>sealmd-worker: <5>sealmd: ")
                            for ln in worker))
        self.assertTrue(any(b"\\x1b[1A\\x00<5>" in ln for ln in worker))
        cut = [ln for ln in lines if b"AAAA" in ln]
        self.assertEqual(len(cut), 1)
        self.assertTrue(cut[0].endswith(b"A..."), cut[0][-40:])
        self.assertLess(len(cut[0]), 1100)

    def test_fake_audit_lines_via_pipe(self):
        """Under systemd stderr is a stream: a raw worker line would land
        in the journal as is."""
        self.check_fakes(stderr_pipe=True)

    def test_fake_audit_lines_to_file(self):
        self.check_fakes(stderr_pipe=False)

    def test_log_flood(self):
        """32 MiB of worker lines: the broker relays a burst and then 100
        lines a second, counts the rest, holds no more memory for it,
        and serves on."""
        t0 = time.monotonic()
        d = self.start_evil(["fake-audit", "log-flood 32"],
                            stderr_pipe=False)
        rss0 = rss_kib(d.proc.pid)
        victim = d.kill_worker()
        self.assertTrue(d.wait_log(r"EVIL log-flood: \d+ lines written",
                                   timeout=120), d.log()[-2000:])
        elapsed = time.monotonic() - t0
        self.assertLess(rss_kib(d.proc.pid) - rss0, 8192)
        iid = uuid4()
        self.assertEqual(d.register(iid, "p")[0], 201)
        h = d.proxy_headers(iid, "p")
        self.assertEqual(d.guest("POST", "/openstack/latest/password",
                                 body=b"x" * 8, headers=h)[0], 200)
        self.assertTrue(d.wait_log(r"worker log: \d+ lines dropped, over "
                                   r"100 a second"), d.log()[-2000:])
        # Only the kill above: the flooding worker lived.
        self.assertEqual({int(p) for p in re.findall(
            r"worker (\d+)", "".join(d.worker_deaths()))}, {victim})
        n = sum(1 for ln in log_lines(d) if b"EVILFLOOD" in ln)
        # 335544 lines written; the burst, the rate, and slack.
        self.assertGreater(n, 900)
        self.assertLessEqual(n, 1000 + 100 * (elapsed + 2))
        dropped = sum(int(m) for m in re.findall(
            r"worker log: (\d+) lines dropped", d.log()))
        self.assertGreater(dropped, 300000)
        print(f"\nflood: {n} lines relayed, {dropped} dropped in "
              f"{elapsed:.1f} s, broker RSS {rss0} KiB, then "
              f"{rss_kib(d.proc.pid)} KiB")


if __name__ == "__main__":
    unittest.main()
