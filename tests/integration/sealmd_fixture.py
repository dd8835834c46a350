# SPDX-License-Identifier: ISC
"""Start the real sealmd (broker + confined worker) for integration tests.

Each Daemon gets its own temporary state directory, key ring, proxy secret,
owner socket and ephemeral guest ports (port 0; the bound port is read from
the broker's "listening:" log line).  Only processes started here are ever
signalled, by pid.

Helpers: RawConn / Daemon.conn() and Daemon.exchange() drive raw HTTP and
parse whole answers; Daemon.owner_full() returns owner answers with their
headers; canary() / remember_secret() and the CANARIES, SIGNATURES and
ARCHIVE registries feed test_zz_secrets, which runs last.

Daemon.cleanup() fails the test (AssertionError) when the daemon's log
holds a sanitizer report (the broker's, or the worker's, which the broker
relays from the worker's log pipe), when the broker exited other than 0
on SIGTERM, or when a worker died or was killed.  A test that means one
of these declares it first: expect_worker_deaths() (or kill_worker()),
expect_exit(), expect_sanitizer(); stop() with a signal other than SIGTERM
declares the exit.
"""
import grp
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# make check-asan / check-valgrind point this at their own build.
BUILD = os.environ.get("SEALMD_BUILD") or os.path.join(TOP, "build")
# make check-valgrind: the broker runs under valgrind; any error or definite
# leak makes it exit 99, which stop() turns into a test failure.
VALGRIND = os.environ.get("SEALMD_VALGRIND") == "1"
# An ASan+UBSan build: its runtime catches SIGSEGV and holds freed memory.
SANITIZE = os.environ.get("SEALMD_SANITIZE") == "1"
SEALMD = os.path.join(BUILD, "sealmd")
SEALMDCTL = os.path.join(BUILD, "sealmdctl")
IS_ROOT = os.geteuid() == 0
# make integration-pg: every Daemon that names no store gets a database of
# its own in the cluster at SEALMD_TEST_PGHOST, not a SQLite file.
PG_ALL = os.environ.get("SEALMD_TEST_STORE") == "postgresql"
STORE_NAME = "postgresql" if PG_ALL else "sqlite"
# What the sanitizers print: ASan, LSan, TSan, UBSan ("f.c:1:2: runtime
# error: ..."), MSan.  Any of it in a daemon's log fails the test.
SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|ThreadSanitizer|"
                          r"MemorySanitizer|UndefinedBehaviorSanitizer|"
                          r"runtime error")


def pg_bin(name):
    """A program of the newest PostgreSQL installed."""
    base = "/usr/lib/postgresql"
    vers = sorted(os.listdir(base), key=lambda v: [int(x) for x in
                                                   v.split(".")])
    return os.path.join(base, vers[-1], "bin", name)


def pg_sql(host, sql, db="postgres"):
    return subprocess.run(
        [pg_bin("psql"), "-h", host, "-U", "sealmd", "-d", db, "-v",
         "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True, capture_output=True, timeout=60).stdout.decode()


def pg_newdb(host):
    """A fresh database in the cluster at host; its conninfo."""
    name = "d" + secrets.token_hex(8)
    pg_sql(host, f"CREATE DATABASE {name}")
    return f"host={host} user=sealmd dbname={name}"

# Secrets the tests post or compute, so that test_zz_secrets can prove none
# of them ever reached a log or a raw store file.  ARCHIVE keeps what every
# Daemon left behind (log, raw database files) at cleanup time.
CANARIES = []
SIGNATURES = set()
ARCHIVE = []


def canary(tag):
    """A distinctive posted value, remembered for the secrets test."""
    v = f"sealmd-canary-{tag}-{secrets.token_hex(6)}"
    CANARIES.append(v)
    return v


def remember_secret(value):
    """Remember some other posted value (str or bytes) as a canary."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    CANARIES.append(value)
    return value


def uuid4():
    b = bytearray(secrets.token_bytes(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class Response:
    """One parsed HTTP answer from RawConn."""

    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers          # [(name, value)] in order
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {self.body[:80]!r}>"


class RawConn:
    """A TCP connection driven by hand: send bytes, read whole answers."""

    def __init__(self, port, source=None, timeout=5):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Read once more; False at EOF, reset or deadline."""
        left = deadline - time.monotonic()
        if self.eof or left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.eof = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_response(self, head=False, timeout=None, interim=False):
        """The next complete answer, or None if the peer closed/stalled
        first.  1xx answers are skipped unless interim is set."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            while b"\r\n\r\n" not in self.buf:
                if not self._fill(deadline):
                    return None
            end = self.buf.index(b"\r\n\r\n")
            raw_head = self.buf[:end]
            lines = raw_head.split(b"\r\n")
            version, status, reason = (lines[0].decode("latin-1")
                                       .split(" ", 2) + [""])[:3]
            status = int(status)
            headers = []
            for ln in lines[1:]:
                k, _, v = ln.decode("latin-1").partition(":")
                headers.append((k, v.strip()))
            rest = self.buf[end + 4:]
            if 100 <= status < 200:
                self.buf = rest
                if interim:
                    return Response(version, status, reason, headers, b"",
                                    raw_head)
                continue
            cl = None
            for k, v in headers:
                if k.lower() == "content-length":
                    cl = int(v)
            if head or status in (204, 304):
                n = 0
            elif cl is not None:
                n = cl
            else:
                while self._fill(deadline):
                    pass
                n = len(self.buf) - end - 4
            while len(self.buf) < end + 4 + n:
                if not self._fill(deadline):
                    return None
            body = self.buf[end + 4:end + 4 + n]
            self.buf = self.buf[end + 4 + n:]
            return Response(version, status, reason, headers, body, raw_head)

    def closed(self, timeout=2.0):
        """True if the peer closes (EOF or reset) within timeout with no
        further bytes; False if it stays open or sends more."""
        deadline = time.monotonic() + timeout
        before = len(self.buf)
        while self._fill(deadline):
            pass
        return self.eof and len(self.buf) == before

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def cleanup_all(*daemons):
    """Daemon.cleanup() for each, every one of them even when an earlier
    one fails (a daemon left running outlives the test run), then fail
    with every problem found."""
    problems = []
    for d in daemons:
        try:
            d.cleanup()
        except AssertionError as e:
            problems.append(str(e))
    if problems:
        raise AssertionError("\n".join(problems))


class Daemon:
    """One running sealmd with a generated configuration."""

    def __init__(self, guests=(("proxy", "127.0.0.1"),), instances=(),
                 limits=None, extra="", state=None, keep_state=False,
                 worker_path=None, extra_guest="", extra_store="",
                 conninfo=None, share=None, args=(), stderr_pipe=False,
                 extra_sealmd=""):
        """conninfo: a PostgreSQL store instead of SQLite.  share: another
        Daemon whose sealing key and proxy secret this one uses, as the
        nodes sharing one store must.  args: more sealmd options ("-d").
        stderr_pipe: the daemon's stderr is a pipe, as under systemd,
        copied to the log file by a thread (so audit_log() is no barrier:
        use wait_log()); else the file itself, as with
        "2>>sealmd.log".  extra_sealmd: lines for [sealmd]."""
        self.args = list(args)
        self.stderr_pipe = stderr_pipe
        self.copier = None
        # What cleanup() checks; see the module's docstring.
        self.deaths_ok = False
        self.exit_ok = False
        self.sanitizer_ok = None
        self.problems = []
        self.run_open = False
        self.state = state or tempfile.mkdtemp(prefix="sealmd-it-")
        self.keep_state = keep_state
        os.chmod(self.state, 0o700)
        keys = os.path.join(self.state, "keys")
        self.secret_file = os.path.join(self.state, "proxy_secret")
        if share is not None and not os.path.isdir(keys):
            shutil.copytree(os.path.join(share.state, "keys"), keys)
            shutil.copy2(share.secret_file, self.secret_file)
        if not os.path.isdir(keys):
            os.mkdir(keys, 0o700)
            self._write0600(os.path.join(keys, "1"), secrets.token_bytes(32))
        saved = os.path.join(self.state, "conninfo")
        if conninfo is None and os.path.exists(saved):
            with open(saved) as f:
                conninfo = f.read()
        elif conninfo is None and PG_ALL:
            conninfo = pg_newdb(os.environ["SEALMD_TEST_PGHOST"])
            with open(saved, "w") as f:
                f.write(conninfo)
        self.conninfo = conninfo
        if not os.path.exists(self.secret_file):
            self._write0600(self.secret_file,
                            secrets.token_hex(32).encode() + b"\n")
        with open(self.secret_file, "rb") as f:
            self.secret = f.read().rstrip(b"\n")
        self.socket = os.path.join(self.state, "owner.sock")
        self.log_path = os.path.join(self.state, "sealmd.log")
        self.db = os.path.join(self.state, "sealmd.db")
        lines = ["[sealmd]", f"state_dir = {self.state}",
                 f"key_dir = {keys}"]
        if worker_path:
            lines.append(f"worker_path = {worker_path}")
        lines.append(extra_sealmd)
        if not IS_ROOT:
            lines.append("# not root: no chroot")
        lines += ["", "[limits]"]
        for k, v in (limits or {}).items():
            lines.append(f"{k} = {v}")
        # guests: (mode, host) or (mode, host, lines for that section).
        for i, (mode, host, *own) in enumerate(guests):
            name = "guest" if i == 0 else f"guest g{i}"
            lines += ["", f"[{name}]", f"listen = {host}:0",
                      f"identity = {mode}", own[0] if own else extra_guest]
            if mode == "proxy":
                lines.append(f"proxy_secret_file = {self.secret_file}")
        lines += ["", "[owner]", f"socket = {self.socket}", "", "[store]"]
        if conninfo:
            lines += ["backend = postgresql", f"conninfo = {conninfo}"]
        else:
            lines += ["backend = sqlite", f"path = {self.db}"]
        lines.append(extra_store)
        for inst in instances:
            lines += ["", f"[instance {inst['id']}]",
                      f"project = {inst['project']}"]
            for a in inst.get("addresses", []):
                lines.append(f"address = {a}")
        lines.append(extra)
        self.conf = os.path.join(self.state, "sealmd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.ports = []

    @staticmethod
    def _write0600(path, data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def start(self, timeout=10, inherit=(), netns=None):
        """inherit: (socket, name) pairs passed as systemd would.  netns:
        a network namespace (ip netns) to run the daemon in."""
        self.logf = open(self.log_path, "ab")
        self.log_offset = self.logf.tell()
        self.run_open = True
        self.run_exit_ok = False
        cmd = [SEALMD, *self.args, "-c", self.conf]
        if VALGRIND:
            timeout = max(timeout, 60)
            cmd = ["valgrind", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite",
                   "--show-leak-kinds=definite",
                   f"--log-file={self.state}/valgrind.%p.log"] + cmd
        if netns:
            # ip netns exec enters the namespace and execs: same pid.
            cmd = ["ip", "netns", "exec", netns] + cmd
        if inherit:
            # LISTEN_PID is the pid that execs sealmd: the shell's own.
            moves = " ".join(f"{3 + i}<&{s.fileno()}"
                             for i, (s, _) in enumerate(inherit))
            names = ":".join(n for _, n in inherit)
            cmd = ["sh", "-c", f"LISTEN_PID=$$ LISTEN_FDS={len(inherit)} "
                   f"LISTEN_FDNAMES={names} exec \"$@\" {moves}",
                   "sh"] + cmd
        self.proc = subprocess.Popen(
            cmd, stdout=self.logf, stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE if self.stderr_pipe else self.logf,
            pass_fds=[s.fileno() for s, _ in inherit])
        if self.stderr_pipe:
            self.copier = threading.Thread(
                target=self._copy_stderr, args=(self.proc.stderr,),
                daemon=True)
            self.copier.start()
        t0 = time.monotonic()
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log()
            if "ready" in text and "worker" in text:
                self.ports = [int(p) for p in re.findall(
                    r"listening: guest:[^ ]*:(\d+)", text)]
                # A baseline for time limits: this build, this machine,
                # this moment's load (ASan, valgrind, a busy CI host).
                self.start_seconds = time.monotonic() - t0
                return self
            if self.proc.poll() is not None:
                # The test gets the exception: the exit is its to judge.
                self.run_exit_ok = True
                raise RuntimeError("sealmd exited:\n" + text)
            time.sleep(0.05)
        text = self.log()
        # Not left running: a failed setUpClass never reaches cleanup().
        self.stop()
        raise RuntimeError("sealmd did not become ready:\n" + text)

    def _copy_stderr(self, pipe):
        """Until the daemon's stderr closes: pipe to the log, unchanged."""
        with pipe:
            while True:
                chunk = pipe.read1(65536)
                if not chunk:
                    return
                self.logf.write(chunk)
                self.logf.flush()

    def log(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return f.read().decode("utf-8", "replace")

    def all_logs(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def audit_log(self):
        """The log, with the audit line of every answer received so far.
        The broker writes a loop turn's audit lines as the turn ends, and
        an owner request is served in a later turn than anything already
        answered: its round trip is the barrier."""
        st, _ = self.owner("GET", "/status")
        if st != 200:
            raise RuntimeError(f"owner /status: {st}")
        return self.log()

    def wait_log(self, pattern, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.log()):
                return True
            time.sleep(0.05)
        return False

    def expect_worker_deaths(self):
        """This test kills the worker, or has the broker kill it."""
        self.deaths_ok = True
        return self

    def expect_exit(self):
        """This test ends the broker other than by SIGTERM, or makes it
        fail: a non-zero exit is no finding."""
        self.exit_ok = True
        return self

    def expect_sanitizer(self, pattern):
        """Sanitizer lines matching pattern (a regex) are this test's
        doing, e.g. ASan reporting a SIGSEGV the test sent."""
        self.sanitizer_ok = re.compile(pattern)
        return self

    def kill_worker(self, sig=signal.SIGKILL):
        """Signal the current worker, declared; its pid."""
        self.expect_worker_deaths()
        pid = self.worker_pid()
        os.kill(pid, sig)
        return pid

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if VALGRIND:
            timeout = max(timeout, 60)
        if self.proc and self.proc.poll() is None:
            if sig != signal.SIGTERM:
                self.run_exit_ok = True
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                if not self.run_exit_ok:
                    self.problems.append(f"the broker did not exit within "
                                         f"{timeout} s of signal {sig}")
                self.run_exit_ok = True
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.run_open:
            self.run_open = False
            self.check_run()
        if self.copier is not None:
            self.copier.join(10)
            self.copier = None
        if getattr(self, "logf", None):
            self.logf.close()
        if VALGRIND and self.proc and self.proc.returncode == 99:
            reports = ""
            for n in sorted(os.listdir(self.state)):
                if n.startswith("valgrind."):
                    with open(os.path.join(self.state, n)) as f:
                        reports += f.read()
            self.proc = None
            raise AssertionError("valgrind found errors in the broker:\n" +
                                 reports)
        if SANITIZE and self.proc:
            # A sanitizer report that did not stop the process (TSan's).
            text = self.log()
            m = re.search(r"(?m)^.*WARNING: \w+Sanitizer:", text)
            if m:
                self.proc = None
                raise AssertionError("sanitizer report:\n" +
                                     text[m.start():m.start() + 8000])
        return self.proc.returncode if self.proc else None

    def raw_files(self):
        """The raw store as it is now: {path: bytes}.  With PostgreSQL,
        what its administrator can read: a dump of the database."""
        out = {}
        if self.conninfo:
            opts = dict(kv.split("=", 1) for kv in self.conninfo.split())
            if "dbname" not in opts:
                return out
            r = subprocess.run([pg_bin("pg_dump"), "-h", opts["host"], "-U",
                                opts["user"], opts["dbname"]],
                               capture_output=True, timeout=60)
            if r.returncode == 0:
                out["pg_dump " + opts["dbname"]] = r.stdout
            return out
        for p in (self.db, self.db + "-wal", self.db + "-journal"):
            try:
                with open(p, "rb") as f:
                    out[p] = f.read()
            except FileNotFoundError:
                pass
        return out

    def archive(self, when):
        try:
            log = self.all_logs()
        except FileNotFoundError:
            log = b""
        ARCHIVE.append({"state": self.state, "when": when, "log": log,
                        "files": self.raw_files()})

    def check_run(self):
        """After one start()..stop(): how the broker ended, and whether a
        worker died, unless the test declared it."""
        rc = self.proc.returncode
        if rc != 0 and not (self.run_exit_ok or self.exit_ok):
            self.problems.append(f"the broker exited with status {rc}"
                                 if rc > 0 else
                                 f"the broker died of signal {-rc}")
        deaths = self.worker_deaths()
        if deaths and not self.deaths_ok:
            self.problems.append(
                "the worker died, and the test did not expect it (say so "
                "with expect_worker_deaths() or kill_worker()):\n  " +
                "\n  ".join(deaths[:10]))

    def sanitizer_reports(self):
        """Lines of the whole log from a sanitizer, with what follows."""
        try:
            lines = self.all_logs().decode("utf-8", "replace").split("\n")
        except FileNotFoundError:
            return []
        for i, ln in enumerate(lines):
            if SANITIZER_RE.search(ln) and not (
                    self.sanitizer_ok and self.sanitizer_ok.search(ln)):
                return lines[max(0, i - 2):i + 40]
        return []

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.archive("running")
        try:
            self.stop()
        finally:
            self.archive("stopped")
            report = self.sanitizer_reports()
            if report:
                self.problems.append("a sanitizer reported, in "
                                     f"{self.log_path}:\n" +
                                     "\n".join(report))
            if not self.keep_state:
                shutil.rmtree(self.state, ignore_errors=True)
        problems, self.problems = self.problems, []
        if problems:
            raise AssertionError("sealmd: " + "\n".join(problems))

    def worker_deaths(self):
        """Log lines of every worker kill or death since start()."""
        if self.proc is None:
            return []
        log = self.log()
        # "stopping": a SIGTERM found the worker not yet up; no finding.
        stopped = set(re.findall(r"(?m)^<\d>sealmd: killing worker (\d+): "
                                 r"stopping$", log))
        return [ln for ln, pid in re.findall(
            r"(?m)^(<\d>sealmd: (?:killing worker (\d+):.*|worker (?:\d+) "
            r"(?:killed by|exited with).*))$", log)
            if pid not in stopped and not any(
                f"worker {p} " in ln for p in stopped)]

    def worker_pid(self):
        pids = re.findall(r"worker (\d+) ready", self.log())
        return int(pids[-1]) if pids else None

    def launcher_pid(self):
        pids = re.findall(r"launcher started, pid (\d+)", self.log())
        return int(pids[-1]) if pids else None

    # --- guest side -----------------------------------------------------
    def sign(self, instance_id):
        sig = hmac.new(self.secret, instance_id.encode(),
                       hashlib.sha256).hexdigest()
        SIGNATURES.add(sig)
        return sig

    def proxy_headers(self, instance_id, project, sig=None):
        return {"X-Instance-ID": instance_id, "X-Tenant-ID": project,
                "X-Instance-ID-Signature":
                    self.sign(instance_id) if sig is None else sig}

    def guest(self, method, path, body=None, headers=None, port=None,
              source=None, host="127.0.0.1"):
        """One request on a fresh connection; returns (status, hdrs, body)."""
        conn = http.client.HTTPConnection(
            host, port or self.ports[0], timeout=10,
            source_address=(source, 0) if source else None)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def raw(self, data, port=None, timeout=5, read_until_close=True):
        """Send raw bytes; return everything read until close/timeout."""
        s = socket.create_connection(("127.0.0.1", port or self.ports[0]),
                                     timeout=timeout)
        try:
            s.sendall(data)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
                if not read_until_close:
                    break
            return out
        finally:
            s.close()

    def conn(self, port=None, source=None, timeout=5):
        return RawConn(port or self.ports[0], source=source, timeout=timeout)

    def exchange(self, data, head=False, port=None, timeout=5,
                 check_close=True):
        """Send data on a fresh connection; (first answer, closed after).
        With check_close False the second item is None (no wait)."""
        with self.conn(port=port, timeout=timeout) as c:
            c.send(data)
            r = c.read_response(head=head)
            if not check_close:
                return r, None
            return r, (c.closed() if r is not None else True)

    # --- owner side -----------------------------------------------------
    def owner(self, method, path, body=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.socket)
        except OSError:
            s.close()
            raise
        conn = http.client.HTTPConnection("localhost")
        conn.sock = s
        try:
            hdrs = {}
            if body is not None:
                body = json.dumps(body).encode() if not isinstance(
                    body, (bytes, str)) else body
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data and
                              r.getheader("Content-Type", "").startswith(
                                  "application/json") else data)
        finally:
            conn.close()

    def owner_full(self, method, path, body=None, headers=None):
        """Owner request; returns (status, headers dict, raw body)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.socket)
        except OSError:
            s.close()
            raise
        conn = http.client.HTTPConnection("localhost")
        conn.sock = s
        try:
            hdrs = dict(headers or {})
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def register(self, instance_id, project, addresses=(), keys=None,
                 hostname=None):
        body = {"project_id": project, "addresses": list(addresses)}
        if keys:
            body["public_keys"] = keys
        if hostname:
            body["hostname"] = hostname
        return self.owner("PUT", f"/instances/{instance_id}", body)

    def list_instances(self):
        """Every registration, following the listing's next links (a
        page holds at most 1000).  Returns (status, entries)."""
        entries, path = [], "/instances"
        for _ in range(10000):
            st, page = self.owner("GET", path)
            if st != 200:
                return st, page
            entries += page["instances"]
            if "next" not in page:
                return st, entries
            path = page["next"]
        raise AssertionError("GET /instances: next links without end")

    def store_snapshot(self):
        """What the owner API says the store holds: every registration and
        every password (GET /instances, GET /instances/{id},
        GET /servers/{id}/os-server-password) plus the store counts in
        /status.  Returns (digest, snapshot); equal digests mean equal
        contents."""
        st, listing = self.list_instances()
        if st != 200:
            raise AssertionError(f"GET /instances: {st} {listing!r}")
        snap = {"list": sorted(listing,
                               key=lambda e: e["id"]), "inst": {},
                "pw": {}}
        for e in snap["list"]:
            iid = e["id"]
            st, js = self.owner("GET", f"/instances/{iid}")
            snap["inst"][iid] = (st, js)
            st, js = self.owner("GET", f"/servers/{iid}/os-server-password")
            snap["pw"][iid] = (st, js)
        st, js = self.owner("GET", "/status")
        snap["counts"] = (st, js.get("instances"), js.get("passwords")) \
            if isinstance(js, dict) else (st, js)
        blob = json.dumps(snap, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest(), snap

    def ctl(self, *args, stdin=None):
        return subprocess.run([SEALMDCTL, "-s", self.socket, *args],
                              capture_output=True, input=stdin, timeout=30)


class PeersAllowedCase(unittest.TestCase):
    """A class's daemon (cls.d) that serves owner peers other than root:
    allow_uid lists LISTED, allow_group a throwaway group (cls.group,
    cls.gid) listing MEMBER; cls.line is the configuration's socket line
    and cls.allow the two lines after it.  Its state directory and socket
    are open to everyone; one instance (cls.iid in cls.project) has a
    value posted (cls.value).  Root only: it makes the group, and tests
    switch uid.  A subclass names itself in TAG (the group's, project's
    and canary's name) and says in WHY what a skip cannot test."""
    LISTED = 1          # daemon
    MEMBER = "bin"
    TAG = "peers"
    WHY = "allow_uid and allow_group"

    @classmethod
    def setUpClass(cls):
        if not IS_ROOT:
            raise unittest.SkipTest("NOT ROOT: cannot create a group or "
                                    f"switch uid to test {cls.WHY}")
        cls.group = f"sealmd{cls.TAG[:6]}{os.getpid()}"
        cls.project = f"proj-{cls.TAG}"
        subprocess.run(["groupadd", "-U", cls.MEMBER, cls.group],
                       check=True, timeout=30)
        cls.d = None
        try:
            cls.gid = grp.getgrnam(cls.group).gr_gid
            d = Daemon()
            cls.line = f"socket = {d.socket}\n"
            cls.allow = (f"allow_uid = {cls.LISTED}\n"
                         f"allow_group = {cls.group}\n")
            with open(d.conf) as f:
                conf = f.read()
            assert cls.line in conf
            with open(d.conf, "w") as f:
                f.write(conf.replace(cls.line, cls.line + cls.allow))
            cls.d = d.start()
            cls.iid = uuid4()
            assert cls.d.register(cls.iid, cls.project)[0] == 201
            cls.value = canary(cls.TAG)
            assert cls.d.guest("POST", "/openstack/latest/password",
                               body=cls.value.encode(),
                               headers=cls.d.proxy_headers(
                                   cls.iid, cls.project))[0] == 200
            os.chmod(cls.d.state, 0o711)
            os.chmod(cls.d.socket, 0o666)
        except BaseException:
            try:
                if cls.d is not None:
                    cls.d.cleanup()
            finally:
                subprocess.run(["groupdel", cls.group], timeout=30)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            deaths = cls.d.worker_deaths()
            cls.d.cleanup()
        finally:
            subprocess.run(["groupdel", cls.group], check=True, timeout=30)
        assert not deaths, f"the worker died: {deaths}"
