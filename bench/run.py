#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make bench: sealmd measured side by side with its references.

Every figure is taken in this one run, against a reference started by this
run, in alternating order, round after round (BENCH_ROUNDS, default 3), and
reported as the median over the rounds:

  1. GET keep-alive, 64 connections          sealmd vs nginx (static file)
  2. GET with "Connection: close"            sealmd vs nginx
  3. durable POSTs to distinct instances     sealmd vs write+fdatasync loop,
                                             and vs its own store work
                                             (post_ref, same group size)
  4. GET latency while 3 runs                sealmd vs the same probe alone,
                                             and under a CPU load that is
                                             not sealmd (the floor)
  5. 1,000 idle keep-alive connections       RSS per connection vs nginx
  6. exec to READY=1, to the first answer,   sealmd vs nginx
     and the RSS of each process at idle
  7. GET "Connection: close" over TLS,       sealmd vs nginx, the same
     a full handshake per request            ECDSA P-256 certificate
  8. GET keep-alive over TLS, 64 conns       sealmd vs nginx, the same
                                             certificate
  9. owner API: registration (PUT            registration vs the POST/s of
     /instances/{id}) and GET /instances/    scenario 3; GET: no reference
     {id}, 8 clients                         (its rate and CPU per request)

wrk runs on cpu0 and every server on cpu1 when there are two CPUs.  The
Markdown table goes to stdout, progress to stderr, and everything measured
(each round, each command) to bench/results/<UTC timestamp>.json.
bench/README.md says what each figure means and its limits.

Environment: BENCH_SECONDS (default 10), BENCH_ROUNDS (default 3),
BENCH_OUT (results directory), SEALMD_BUILD (default ./build),
BENCH_WAIT_QUIET (seconds to wait for other load on the machine to go
away before starting; default 0: start at once and say so in the report).
Only 127.0.0.1 is ever contacted; only processes started here are
signalled, by pid.  The TLS certificate and key are made with the openssl
command in the run's temporary directory.
"""
import base64
import contextlib
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import sealmd_fixture as fx  # noqa: E402
import tls_helpers  # noqa: E402

SECONDS = max(1, int(round(float(os.environ.get("BENCH_SECONDS", "10")))))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
OUT_DIR = os.environ.get("BENCH_OUT") or os.path.join(TOP, "bench", "results")
BUILD = fx.BUILD
SEALMD = fx.SEALMD
FSYNC_REF = os.path.join(BUILD, "bench", "fsync_ref")
FSYNC_SECONDS = 3
POST_REF = os.path.join(BUILD, "bench", "post_ref")
CPU_REF = os.path.join(BUILD, "bench", "cpu_ref")
# Scenario 4's floor: threads, µs of CPU per burst, µs asleep after it
# (3 threads at up to 30% of a CPU each, in 1 ms bursts: about as busy
# as sealmd's loop, writer and worker each are under the POSTs, by
# /proc/PID/task/*/schedstat).
FLOOR_LOAD = (3, 1000, 2300)
WRK = shutil.which("wrk") or "/usr/bin/wrk"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

CONNS = 64              # scenarios 1-3, 7 and 8
PROBE_CONNS = 8         # scenario 4: the GET latency probe ...
PROBE_DELAY_MS = 1      # ... each connection pausing 1 ms between requests
OWNER_CLIENTS = 8       # scenario 9: owner API connections ...
OWNER_DEPTH = 8         # ... each with this many requests in flight
IDLE_CONNS = 1000       # scenario 5
PW_PATH = "/openstack/latest/password"
PROJECT = "bench-project"
POOL_MAX = int(os.environ.get("BENCH_POOL_MAX", "2000000"))

# 256 random bytes in base64: the shape of an RSA-2048 ciphertext as
# cloudbase-init posts it, 344 bytes.
BODY = base64.b64encode(random.Random(2048).randbytes(256))
assert len(BODY) == 344

NCPU = os.cpu_count() or 1
_allowed = os.sched_getaffinity(0)
if NCPU >= 2 and {0, 1} <= _allowed:
    CLIENT_CPU, SERVER_CPU = 0, 1
else:
    CLIENT_CPU = SERVER_CPU = None

COMMANDS = {}           # label -> exact command line, for the report
OURS = {os.getpid()}    # pids of every process the harness started


def note(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def remember(label, argv, pinned_cpu=None):
    cmd = " ".join(shlex.quote(str(a)) for a in argv)
    if pinned_cpu is not None:
        cmd = f"taskset -c {pinned_cpu} {cmd}"
    COMMANDS.setdefault(label, cmd)
    return cmd


def taskset(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


@contextlib.contextmanager
def server_affinity():
    """Spawn servers on the server CPU: they inherit it at fork, like
    taskset, without an extra exec in the start-up time."""
    if SERVER_CPU is None:
        yield
        return
    os.sched_setaffinity(0, {SERVER_CPU})
    try:
        yield
    finally:
        os.sched_setaffinity(0, {CLIENT_CPU})


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- /proc ---------------------------------------------------------------

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        pass
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                if int(st.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def mem_kib(pid):
    """VmRSS, RssAnon and RssFile of pid in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0])
    return out


def cpu_ns(pids):
    """CPU time the kernel charged to these processes (all threads)."""
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def cpu_times():
    """{cpuN: (busy jiffies, total jiffies)} from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if re.match(r"cpu\d+ ", line):
                parts = line.split()
                v = [int(x) for x in parts[1:]]
                idle = v[3] + (v[4] if len(v) > 4 else 0)
                out[parts[0]] = (sum(v) - idle, sum(v))
    return out


def proc_cpu():
    """{pid: (comm, utime+stime ticks, ppid)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            comm = st[st.index("(") + 1:st.rindex(")")]
            rest = st.rsplit(")", 1)[1].split()
            out[int(d)] = (comm, int(rest[11]) + int(rest[12]), int(rest[1]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def foreign_pct(p0, p1, ours, seconds):
    """CPU % (of one CPU) used between two proc_cpu() samples by user
    processes that are not part of this benchmark."""
    hz = os.sysconf("SC_CLK_TCK")
    ticks = 0
    for pid, (comm, t, ppid) in p1.items():
        if pid in ours or pid == 2 or ppid == 2:
            continue
        ticks += t - (p0[pid][1] if pid in p0 else 0)
    return round(100.0 * ticks / hz / seconds, 1)


def quiet_check(seconds=1.0):
    """How busy the CPUs are with nothing of ours running, and who is
    using them: other work on this machine skews every figure."""
    t0, p0 = cpu_times(), proc_cpu()
    time.sleep(seconds)
    t1, p1 = cpu_times(), proc_cpu()
    hz = os.sysconf("SC_CLK_TCK")
    top = []
    for pid, (comm, ticks, _) in p1.items():
        if pid in p0 and pid != os.getpid():
            pct = 100.0 * (ticks - p0[pid][1]) / hz / seconds
            if pct >= 2:
                top.append({"pid": pid, "comm": comm, "cpu_pct": round(pct)})
    top.sort(key=lambda x: -x["cpu_pct"])
    return {"cpu_busy_pct": busy_pct(t0, t1), "busiest": top[:8],
            "loadavg": open("/proc/loadavg").read().split()[:3]}


def quiet_text(q):
    busy = q["cpu_busy_pct"]
    if max((v or 0) for v in busy.values()) < 10:
        return None
    who = ", ".join(f"{p['comm']} ({p['pid']}) {p['cpu_pct']}%"
                    for p in q["busiest"]) or "unknown"
    return (f"the machine was not quiet: CPUs busy {busy} with nothing of "
            f"this benchmark running (load {' '.join(q['loadavg'])}); "
            f"busiest: {who}")


def busy_pct(before, after):
    out = {}
    for cpu in after:
        db = after[cpu][0] - before[cpu][0]
        dt = after[cpu][1] - before[cpu][1]
        out[cpu] = round(100.0 * db / dt, 1) if dt > 0 else None
    return out


# --- HTTP helpers ----------------------------------------------------------

def http_get(port, path=PW_PATH, timeout=5):
    """(status, body) of one GET on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        return get_on(s, path, timeout)


def get_on(s, path, timeout):
    """(status, body) of one "Connection: close" GET on socket s."""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              f"Connection: close\r\n\r\n".encode())
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, body


def tls_check(port, cert, timeout=5):
    """Two GETs over TLS, verified against cert, the second offering the
    first one's session.  What was negotiated, and whether the second
    handshake was a resumption (it should not be: scenario 7 counts full
    handshakes)."""
    ctx = ssl.create_default_context(cafile=cert)
    ctx.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    out, session = {}, None
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1",
                                session=session) as s:
            st, body = get_on(s, PW_PATH, timeout)
            if (st, body) != (200, BODY):
                raise RuntimeError(f"TLS GET on :{port} answered {st} "
                                   f"{body[:60]!r}")
            out = {"version": s.version(), "cipher": s.cipher()[0],
                   "cert_sha256": hashlib.sha256(
                       s.getpeercert(binary_form=True)).hexdigest(),
                   "resumed": s.session_reused}
            session = s.session
    return out


def first_answer(port, deadline):
    """Poll until a GET is answered 200; the monotonic time it was."""
    while time.monotonic() < deadline:
        try:
            st, _ = http_get(port, timeout=2)
            if st == 200:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.0005)
    raise RuntimeError(f"no 200 from 127.0.0.1:{port}")


def open_idle(port, n):
    """n keep-alive connections, each after one complete GET answer."""
    socks = []
    req = (f"GET {PW_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").encode()
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            socks.append(s)
            s.sendall(req)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("closed before answering")
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"idle connection got {head[:40]!r}")
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            need = int(m.group(1)) if m else 0
            while len(body) < need:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("closed mid-answer")
                body += chunk
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


# --- the servers -------------------------------------------------------------

class Nginx:
    """nginx with one worker serving BODY as a static file at PW_PATH;
    with tls=(cert, key), at the same path over TLS on tls_port too, with
    neither session tickets nor a session cache (every new connection is
    a full handshake)."""

    def __init__(self, tls=None):
        self.dir = tempfile.mkdtemp(prefix="sealmd-bench-nginx-")
        os.chmod(self.dir, 0o755)       # the worker runs as nobody
        www = os.path.join(self.dir, "www")
        os.makedirs(os.path.join(www, "openstack", "latest"))
        with open(os.path.join(www, PW_PATH.lstrip("/")), "wb") as f:
            f.write(BODY)
        for d in ("www", "www/openstack", "www/openstack/latest"):
            os.chmod(os.path.join(self.dir, d), 0o755)
        os.chmod(os.path.join(www, PW_PATH.lstrip("/")), 0o644)
        self.port = free_port()
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        t = self.dir
        tls_server = ""
        if tls:
            self.tls_port = free_port()
            tls_server = f"""
    server {{
        listen 127.0.0.1:{self.tls_port} ssl;
        root {www};
        ssl_certificate {tls[0]};
        ssl_certificate_key {tls[1]};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets off;
        ssl_session_cache off;
    }}"""
        conf = f"""{user}
worker_processes 1;
daemon off;
master_process on;
pid {t}/nginx.pid;
error_log {t}/error.log warn;
worker_rlimit_nofile 8192;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    default_type application/octet-stream;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    client_body_temp_path {t}/client_body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {www};
    }}{tls_server}
}}
"""
        self.conf = os.path.join(t, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.argv = [NGINX, "-p", t + "/", "-e", f"{t}/error.log",
                     "-c", self.conf]
        self.proc = None

    def start(self, timeout=10):
        remember("nginx", self.argv, SERVER_CPU)
        self.errf = open(os.path.join(self.dir, "stderr.log"), "ab")
        with server_affinity():
            t0 = time.monotonic()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=self.errf, stderr=self.errf)
        try:
            t1 = first_answer(self.port, t0 + timeout)
        except RuntimeError:
            raise RuntimeError("nginx did not start:\n" + self.errors())
        self.t_first = t1 - t0
        st, body = http_get(self.port)
        if (st, body) != (200, BODY):
            raise RuntimeError(f"nginx answered {st} {body[:60]!r}")
        return self

    def errors(self):
        out = ""
        for n in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.dir, n)) as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def pids(self):
        return {"master": self.proc.pid,
                "worker": children(self.proc.pid)[0]}

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "errf", None):
            self.errf.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Sealmd(fx.Daemon):
    """The fixture's daemon, started on the server CPU with NOTIFY_SOCKET
    pointing at a datagram socket of ours, so that start() measures exec
    to READY=1.  A direct listener (GETs need no signing) and a proxy
    listener (POSTs to many instances from one address); with
    tls=(cert, key), a third one, direct and TLS.  port[] is keyed by
    identity, "-tls" added for the TLS one."""

    LIMITS = {"rate": 0, "max_conns": 4096, "idle_timeout_ms": 120000}

    def __init__(self, prefix=(), build=None, tls=None, **kw):
        kw.setdefault("guests", (("direct", "127.0.0.1"),
                                 ("proxy", "127.0.0.1")) +
                      ((("direct", "127.0.0.1"),) if tls else ()))
        kw.setdefault("limits", dict(self.LIMITS))
        super().__init__(**kw)
        # The TLS section is named, so its listener is on a network of
        # that name (see seed_direct).
        self.tls_net = f"g{len(kw['guests']) - 1}" if tls else None
        if tls:
            tls_helpers.enable_tls(self, f"guest {self.tls_net}", *tls)
        self.prefix = list(prefix)
        self.exe = os.path.join(build, "sealmd") if build else SEALMD
        self.notify_path = os.path.join(self.state, "notify.sock")

    def start(self, timeout=20):
        self.logf = open(self.log_path, "ab")
        self.log_offset = self.logf.tell()
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.notify_path)
        ns.bind(self.notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        argv = self.prefix + [self.exe, "-c", self.conf]
        remember("sealmd" if not self.prefix else "sealmd (instr)", argv,
                 SERVER_CPU)
        try:
            with server_affinity():
                t0 = time.monotonic()
                self.proc = subprocess.Popen(argv, stdout=self.logf,
                                             stderr=self.logf, env=env,
                                             stdin=subprocess.DEVNULL)
            deadline = t0 + timeout
            ready = None
            while ready is None and time.monotonic() < deadline:
                ns.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    msg = ns.recv(4096).decode("utf-8", "replace")
                except socket.timeout:
                    break
                if "READY=1" in msg.split("\n"):
                    ready = time.monotonic()
            if ready is None:
                raise RuntimeError("sealmd sent no READY=1:\n" + self.log())
        finally:
            ns.close()
        self.t0 = t0
        self.t_ready = ready - t0
        self.port = {}
        for port, mode, tls in re.findall(
                r"listening: guest:[^ ]*:(\d+) \(identity (\w+)"
                r"(?:, network [^,)]+)?(, TLS)?\)",
                self.log()):
            self.port.setdefault(mode + ("-tls" if tls else ""), int(port))
        self.ports = list(self.port.values())
        return self

    def pids(self):
        """The broker, the launcher it forks, and the worker the launcher
        starts (the broker's child is the launcher, not the worker)."""
        deadline = time.monotonic() + 5
        while True:
            launcher, worker = self.launcher_pid(), self.worker_pid()
            if launcher in children(self.proc.pid) and \
                    worker in children(launcher):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sealmd's process tree is not broker "
                                   f"{self.proc.pid} > launcher {launcher} "
                                   f"> worker {worker}")
            time.sleep(0.01)
        return {"broker": self.proc.pid, "launcher": launcher,
                "worker": worker}

    def status(self):
        st, js = self.owner("GET", "/status")
        if st != 200:
            raise RuntimeError(f"/status: {st} {js!r}")
        return js

    def stop(self, sig=signal.SIGTERM, timeout=60):
        return super().stop(sig=sig, timeout=timeout)

    def cleanup(self):
        # Not the fixture's: it archives the log and store in memory for
        # the secrets test, and here they run to hundreds of MB.
        self.stop()
        shutil.rmtree(self.state, ignore_errors=True)


def seed_direct(d):
    """Register 127.0.0.1 and post the 344-byte value once.  On the TLS
    listener's network the address is registered as 127.0.0.1@NET too:
    a bare address there is found by a second lookup, after the one for
    ip@NET misses, and scenario 8 is scenario 1 over TLS, one lookup."""
    iid = fx.uuid4()
    net = getattr(d, "tls_net", None)
    st, js = d.register(iid, PROJECT, addresses=["127.0.0.1"] +
                        ([f"127.0.0.1@{net}"] if net else []))
    if st != 201:
        raise RuntimeError(f"register: {st} {js!r}")
    st, _, _ = d.guest("POST", PW_PATH, body=BODY, port=d.port["direct"])
    if st != 200:
        raise RuntimeError(f"seed POST: {st}")
    st, body = http_get(d.port["direct"])
    if (st, body) != (200, BODY):
        raise RuntimeError(f"sealmd GET answered {st} {body[:60]!r}")
    return iid


REG_THREADS = 16        # owner API clients registering the POST pool


OWNER_PIPELINE = 64     # PUTs written at once on one owner connection


def owner_read_statuses(sock, n, buf=b""):
    """The status codes of up to n answers; fewer if the peer closes.
    Returns (statuses, leftover bytes, whether the connection is done)."""
    out = []
    done = False
    while len(out) < n:
        end = buf.find(b"\r\n\r\n")
        if end != -1:
            head = buf[:end]
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            need = end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) >= need:
                out.append(int(head.split(b" ", 2)[1]))
                if re.search(rb"(?i)\r\nconnection:\s*close", head):
                    done = True
                    break
                buf = buf[need:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            done = True
            break
        buf += chunk
    return out, buf, done


def owner_put_many(path, ids, retries=50):
    """PUT /instances/{id} for each id, OWNER_PIPELINE requests at a time
    on one keep-alive owner connection (the worker pipelines).  What gets
    503 (owner connection cap, full write queue) or no answer is retried
    after a pause, a bounded number of times."""
    body = json.dumps({"project_id": PROJECT, "addresses": []}).encode()
    pending = list(ids)
    for attempt in range(retries):
        failed = []
        sock = None
        for k in range(0, len(pending), OWNER_PIPELINE):
            batch = pending[k:k + OWNER_PIPELINE]
            statuses, done = [], True
            try:
                if sock is None:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    sock.settimeout(30)
                    sock.connect(path)
                sock.sendall(b"".join(
                    f"PUT /instances/{iid} HTTP/1.1\r\nHost: localhost\r\n"
                    f"Content-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body
                    for iid in batch))
                statuses, _, done = owner_read_statuses(sock, len(batch))
            except OSError:
                pass
            for i, iid in enumerate(batch):
                st = statuses[i] if i < len(statuses) else None
                if st in (None, 503):
                    failed.append(iid)
                elif st not in (200, 201):
                    raise RuntimeError(f"PUT /instances/{iid}: {st}")
            if done and sock is not None:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()
        pending = failed
        if not pending:
            return
        time.sleep(0.02 * (attempt + 1))
    raise RuntimeError(f"{len(pending)} registrations got no 201 after "
                       f"{retries} tries")


def run_threads(target, parts, what):
    """target(part) for each part, on a thread each; raises the first
    error once all are done."""
    errors = []

    def one(part):
        try:
            target(part)
        except Exception as e:  # reported below, after the join
            errors.append(e)

    threads = [threading.Thread(target=one, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{what} failed: {errors[0]}")


def owner_register(path, ids):
    """PUT /instances/{id} for each id, from REG_THREADS clients at once
    (owner_put_many each)."""
    run_threads(lambda part: owner_put_many(path, part),
                [ids[k::REG_THREADS] for k in range(REG_THREADS)],
                "registration")


class Pool:
    """Instances registered through the owner API for the POST scenarios;
    each is posted to once (set-once), so each run takes fresh ones."""

    def __init__(self, d, tmp):
        self.d = d
        self.tmp = tmp
        self.items = []         # (id, signature)
        self.next = 0
        self.reg_seconds = 0.0
        self.files = 0

    def free(self):
        return len(self.items) - self.next

    def ensure(self, n):
        want = min(n, POOL_MAX) - self.free()
        if want <= 0:
            return
        ids = [fx.uuid4() for _ in range(want)]
        t0 = time.monotonic()
        owner_register(self.d.socket, ids)
        self.reg_seconds += time.monotonic() - t0
        self.items += [(i, self.d.sign(i)) for i in ids]
        note(f"registered {want} instances in "
             f"{time.monotonic() - t0:.1f} s (pool {len(self.items)})")

    def reg_rate(self):
        return len(self.items) / self.reg_seconds if self.reg_seconds else 0

    def file(self):
        """The unused part of the pool as a file for the wrk script."""
        self.files += 1
        path = os.path.join(self.tmp, f"pool{self.files}.txt")
        with open(path, "w") as f:
            for iid, sig in self.items[self.next:]:
                f.write(f"{iid} {sig}\n")
        return path, self.free()

    def used(self, n):
        self.next = min(len(self.items), self.next + n)


# --- wrk -------------------------------------------------------------------

LUA_DONE = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local e = summary.errors
  local issued = 0
  for _, t in ipairs(threads) do issued = issued + (t:get("issued") or 0) end
  io.write(string.format('BENCHJSON {"requests": %d, "duration_us": %d, ' ..
    '"bytes": %d, "err_connect": %d, "err_read": %d, "err_write": %d, ' ..
    '"err_status": %d, "err_timeout": %d, "issued": %d, ' ..
    '"lat_mean_us": %.1f, "lat_p50_us": %d, "lat_p90_us": %d, ' ..
    '"lat_p99_us": %d, "lat_p999_us": %d, "lat_max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, issued, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""

LUA_PROBE = LUA_DONE + f"""
function delay() return {PROBE_DELAY_MS} end
"""

# init() reads the pool file named by the first script argument, an
# instance id and its signature a line, into ids[1..n] and sigs[1..n].
LUA_POOL = r"""
local ids, sigs, n = {}, {}, 0
local project = "@PROJECT@"
function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local id, sig = line:match("^(%S+) (%S+)$")
    if id then n = n + 1; ids[n] = id; sigs[n] = sig end
  end
  f:close()
  assert(n > 0, "empty pool")
end
"""

# Each request() takes the next instance of the pool.  Past its end it
# wraps: those POSTs are 409s, counted by wrk as non-2xx, and the harness
# says the pool ran out.
LUA_POST = LUA_DONE + LUA_POOL + r"""
issued = 0
local body = "@BODY@"
function request()
  issued = issued + 1
  local k = (issued - 1) % n + 1
  return wrk.format("POST", "@PATH@", {
    ["X-Instance-ID"] = ids[k],
    ["X-Tenant-ID"] = project,
    ["X-Instance-ID-Signature"] = sigs[k],
    ["Content-Type"] = "text/plain",
  }, body)
end
"""


class Wrk:
    def __init__(self, tmp):
        self.scripts = {}
        for name, text in (("get", LUA_DONE), ("probe", LUA_PROBE),
                           ("post", LUA_POST)):
            text = (text.replace("@BODY@", BODY.decode())
                    .replace("@PROJECT@", PROJECT)
                    .replace("@PATH@", PW_PATH))
            path = os.path.join(tmp, f"{name}.lua")
            with open(path, "w") as f:
                f.write(text)
            self.scripts[name] = path

    def argv(self, port, conns, seconds, script="get", headers=(),
             args=(), tls=False):
        argv = [WRK, "-t1", f"-c{conns}", f"-d{seconds}s", "--latency",
                "--timeout", "5s", "-s", self.scripts[script]]
        for h in headers:
            argv += ["-H", h]
        scheme = "https" if tls else "http"
        return argv + [f"{scheme}://127.0.0.1:{port}{PW_PATH}"] + list(args)

    def spawn(self, label, argv):
        remember(label, argv, CLIENT_CPU)
        return subprocess.Popen(taskset(CLIENT_CPU) + argv,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)

    @staticmethod
    def collect(p, seconds):
        out, err = p.communicate(timeout=seconds + 60)
        text = out.decode("utf-8", "replace")
        m = re.search(r"^BENCHJSON (\{.*\})$", text, re.M)
        if p.returncode != 0 or not m:
            raise RuntimeError(f"wrk failed ({p.returncode}):\n{text}\n"
                               f"{err.decode('utf-8', 'replace')}")
        r = json.loads(m.group(1))
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["ok"] = r["requests"] - r["err_status"]
        r["ok_rps"] = r["ok"] / (r["duration_us"] / 1e6)
        r["errors"] = (r["err_connect"] + r["err_read"] + r["err_write"] +
                       r["err_timeout"])
        return r

    def run(self, label, argv, seconds, server_pids):
        """One wrk run; adds the server's CPU per request (in all, and
        per process when server_pids names them), how busy each CPU was,
        and how much CPU other processes took meanwhile."""
        named = server_pids if isinstance(server_pids, dict) else {}
        server_pids = list(server_pids.values()) if named else server_pids
        s0 = {k: cpu_ns([pid]) for k, pid in named.items()}
        c0, t0, p0, w0 = cpu_ns(server_pids), cpu_times(), proc_cpu(), \
            time.monotonic()
        p = self.spawn(label, argv)
        r = self.collect(p, seconds)
        c1, t1, p1 = cpu_ns(server_pids), cpu_times(), proc_cpu()
        s1 = {k: cpu_ns([pid]) for k, pid in named.items()}
        add_load(r, c0, c1, t0, t1, p0, p1, set(server_pids) | {p.pid},
                 time.monotonic() - w0)
        if r["requests"]:
            r["cpu_us_per_req_by_process"] = {
                k: round((s1[k] - s0[k]) / 1e3 / r["requests"], 2)
                for k in named}
        return r


def add_load(r, c0, c1, t0, t1, p0, p1, ours, wall):
    r["server_cpu_us_per_req"] = ((c1 - c0) / 1e3 / r["requests"]
                                  if r["requests"] else None)
    r["server_cpu_pct"] = round(100.0 * (c1 - c0) / 1e3 /
                                r["duration_us"], 1)
    r["cpu_busy_pct"] = busy_pct(t0, t1)
    r["foreign_cpu_pct"] = foreign_pct(p0, p1, ours | OURS, wall)


def reference(name, argv, timeout, shown=None):
    """Run a reference program pinned like the server; its JSON line."""
    remember(name, shown or argv, SERVER_CPU)
    p0, w0 = proc_cpu(), time.monotonic()
    p = subprocess.Popen(taskset(SERVER_CPU) + argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{name} failed: {err.decode()}")
    r = json.loads(out)
    r["foreign_cpu_pct"] = foreign_pct(p0, proc_cpu(), OURS | {p.pid},
                                       time.monotonic() - w0)
    return r


def fsync_ref(state_dir, seconds=FSYNC_SECONDS):
    return reference("fsync_ref", [FSYNC_REF, state_dir, str(seconds)],
                     seconds + 60)


def post_ref(state_dir, group, seconds):
    """The store work of sealmd's POSTs alone (bench/post_ref.c), with
    sealmd's group size."""
    return reference("post_ref",
                     [POST_REF, state_dir, str(seconds), str(group)],
                     seconds + 120,
                     [POST_REF, state_dir, seconds, "GROUP"])


def commit_groups(d):
    """(sum, count) of sealmd_store_commit_group_size: writes and
    commits so far."""
    st, body = d.owner("GET", "/metrics")
    if st != 200:
        raise RuntimeError(f"/metrics: {st}")
    text = body.decode() if isinstance(body, bytes) else str(body)
    got = {}
    for name in ("sum", "count"):
        m = re.search(rf"^sealmd_store_commit_group_size_{name} (\S+)$",
                      text, re.M)
        if not m:
            raise RuntimeError(f"/metrics has no group size {name}")
        got[name] = float(m.group(1))
    return got["sum"], got["count"]


def owner_client(path, request, deadline, out):
    """One owner API client until deadline: OWNER_DEPTH requests in
    flight on one keep-alive connection (a new one when the broker ends
    it, after owner_conn_requests).  request() gives each request's bytes
    and its id; the ids answered as expected go to out["ok"]."""
    sock = None
    try:
        while time.monotonic() < deadline:
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(30)
                sock.connect(path)
            reqs = [request() for _ in range(OWNER_DEPTH)]
            sock.sendall(b"".join(r for r, _ in reqs))
            statuses, _, done = owner_read_statuses(sock, len(reqs))
            for (_, want), st in zip(reqs, statuses):
                if st == want[1]:
                    out["ok"].append(want[0])
                else:
                    out["bad"][st] = out["bad"].get(st, 0) + 1
            if done:
                sock.close()
                sock = None
    except OSError as e:
        out["error"] = str(e)
    finally:
        if sock is not None:
            sock.close()


def owner_load(d, make, seconds):
    """OWNER_CLIENTS owner_client threads for seconds; the run's figures
    (ok/s, server CPU per answer, CPU busy) and the ids answered."""
    pids = list(d.pids().values())
    outs = [{"ok": [], "bad": {}} for _ in range(OWNER_CLIENTS)]
    c0, t0, p0, w0 = snapshot(pids)
    deadline = w0 + seconds
    run_threads(lambda k: owner_client(d.socket, make(k), deadline,
                                       outs[k]),
                range(OWNER_CLIENTS), "owner API clients")
    wall = time.monotonic() - w0
    ids = [i for o in outs for i in o["ok"]]
    bad = {}
    for o in outs:
        for st, n in o["bad"].items():
            bad[str(st)] = bad.get(str(st), 0) + n
    errors = [o["error"] for o in outs if "error" in o]
    if errors or not ids:
        raise RuntimeError(f"owner API clients failed: {errors or bad}")
    r = {"requests": len(ids) + sum(bad.values()), "ok": len(ids),
         "non_ok": bad, "seconds": round(wall, 3), "ok_rps": len(ids) / wall,
         "duration_us": wall * 1e6}
    add_load(r, c0, cpu_ns(pids), t0, cpu_times(), p0, proc_cpu(),
             set(pids), wall)
    return r, ids


def owner_put_request(k):
    body = json.dumps({"project_id": PROJECT, "addresses": []}).encode()

    def make():
        iid = fx.uuid4()
        return (f"PUT /instances/{iid} HTTP/1.1\r\nHost: localhost\r\n"
                f"Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body,
                (iid, 201))
    return make


def owner_get_request(ids):
    def per_client(k):
        mine = ids[k::OWNER_CLIENTS] or ids
        n = [0]

        def make():
            iid = mine[n[0] % len(mine)]
            n[0] += 1
            return (f"GET /instances/{iid} HTTP/1.1\r\nHost: localhost"
                    f"\r\n\r\n".encode(), (iid, 200))
        return make
    return per_client


# --- the scenarios ---------------------------------------------------------

def alternate(rnd, a, b):
    return (a, b) if rnd % 2 == 0 else (b, a)


def scen_get(w, d, ng, close, tls=False):
    label = ("TLS " if tls else "") + ("close" if close else "keepalive")
    hdr = ("Connection: close",) if close else ()
    runs = {"sealmd": [], "nginx": []}
    targets = {"sealmd": (d.port["direct-tls" if tls else "direct"],
                          d.pids),
               "nginx": (ng.tls_port if tls else ng.port, ng.pids)}
    for rnd in range(ROUNDS):
        for name in alternate(rnd, "sealmd", "nginx"):
            port, pids = targets[name]
            log_at = os.path.getsize(d.log_path)
            r = w.run(f"wrk GET {label} ({name})",
                      w.argv(port, CONNS, SECONDS, headers=hdr, tls=tls),
                      SECONDS, pids())
            if tls and name == "sealmd":
                r["tls_signs"] = tls_signs(d, log_at)
            runs[name].append(r)
            note(f"GET {label} round {rnd + 1} {name}: {r['rps']:.0f} "
                 f"req/s, p99 {r['lat_p99_us']} us, server "
                 f"{r['server_cpu_us_per_req']:.1f} us/req, cpu "
                 f"{r['cpu_busy_pct']}, others {r['foreign_cpu_pct']}%, "
                 f"errors {r['errors']}+{r['err_status']}"
                 + (f", {r['tls_signs']} handshakes signed"
                    if "tls_signs" in r else "")
                 + "".join(f", {k} {v} us/req" for k, v in
                           r.get("cpu_us_per_req_by_process", {}).items()
                           if k != "launcher" and name == "sealmd"))
    return runs


def tls_signs(d, offset):
    """How many signatures (full handshakes) the broker logged since the
    log was offset bytes long."""
    pat, n, tail = b"audit op=tls.sign ", 0, b""
    with open(d.log_path, "rb") as f:
        f.seek(offset)
        while chunk := f.read(1 << 20):
            n += (tail + chunk).count(pat) - tail.count(pat)
            tail = chunk[-len(pat):]
    return n


def post_run(w, d, pool, seconds, label):
    """Start one POST wrk (returns the process and what it was given)."""
    path, n = pool.file()
    argv = w.argv(d.port["proxy"], CONNS, seconds, script="post",
                  args=[path])
    p = w.spawn(label, argv)
    OURS.add(p.pid)
    return p, n


def post_finish(w, p, n, pool, seconds, pids, snap):
    r = w.collect(p, seconds)
    c0, t0, p0, w0 = snap
    add_load(r, c0, cpu_ns(pids), t0, cpu_times(), p0, proc_cpu(),
             set(pids) | {p.pid}, time.monotonic() - w0)
    pool.used(r["issued"])
    r["pool"] = n
    r["pool_exhausted"] = r["issued"] > n
    return r


def snapshot(pids):
    return cpu_ns(pids), cpu_times(), proc_cpu(), time.monotonic()


def post_alone(w, d, pool, seconds, label):
    pids = list(d.pids().values())
    before = d.status().get("passwords")
    g0 = commit_groups(d)
    snap = snapshot(pids)
    p, n = post_run(w, d, pool, seconds, label)
    r = post_finish(w, p, n, pool, seconds, pids, snap)
    g1 = commit_groups(d)
    after = d.status().get("passwords")
    if isinstance(before, int) and isinstance(after, int):
        r["stored"] = after - before
    # Only POSTs are written meanwhile: the pool is registered before.
    r["commits"] = g1[1] - g0[1]
    r["group_mean"] = ((g1[0] - g0[0]) / r["commits"] if r["commits"]
                       else None)
    return r


def pool_need(rate, seconds):
    return int(rate * seconds * 1.5) + 2000


def scen_post(w, d, pool):
    # Calibrate: how many instances does one run consume?
    est = max(1000.0, 2 * pool.reg_rate())
    for _ in range(4):
        pool.ensure(pool_need(est, 2))
        r = post_alone(w, d, pool, 2, "wrk POST (calibration)")
        est = max(est, r["ok_rps"])
        if not r["pool_exhausted"]:
            break
        est *= 2
    group = max(1, round(r["group_mean"] or 1))
    note(f"POST calibration: {r['ok_rps']:.0f}/s, {r['group_mean']} "
         f"writes per commit; pool per run {pool_need(est, SECONDS)}")
    runs = {"sealmd": [], "fdatasync": [], "post_ref": []}
    for rnd in range(ROUNDS):
        for name in alternate(rnd, "sealmd", "fdatasync"):
            if name == "fdatasync":
                r = fsync_ref(d.state)
                runs[name].append(r)
                note(f"fdatasync round {rnd + 1}: "
                     f"{r['writes_per_s']:.0f}/s p50 {r['p50_us']} us")
                # The group size sealmd reached in its last run.
                r = post_ref(d.state, group, SECONDS)
                runs["post_ref"].append(r)
                note(f"post_ref round {rnd + 1}: {r['posts_per_s']:.0f}/s "
                     f"in groups of {r['group']}, "
                     f"{r['cpu_us_per_post']:.1f} us CPU/POST, commit "
                     f"p50 {r['commit_p50_us']} us")
                continue
            pool.ensure(pool_need(est, SECONDS))
            r = post_alone(w, d, pool, SECONDS, "wrk POST (sealmd)")
            est = max(est, r["ok_rps"])
            group = max(1, round(r["group_mean"] or group))
            runs[name].append(r)
            note(f"POST round {rnd + 1}: {fmt(r['group_mean'], 1)} writes "
                 f"per commit, {r['ok_rps']:.0f}/s ok, "
                 f"{r['err_status']} non-2xx, stored {r.get('stored')}, "
                 f"p99 {r['lat_p99_us']} us, server "
                 f"{r['server_cpu_us_per_req']:.1f} us/req, cpu "
                 f"{r['cpu_busy_pct']}, others {r['foreign_cpu_pct']}%"
                 + (" POOL EXHAUSTED" if r["pool_exhausted"] else ""))
    return runs, est


def floor_load(seconds):
    """cpu_ref on the server CPU, in a session of its own as another
    service would be (the kernel's autogroups share a CPU between
    sessions first)."""
    argv = [CPU_REF] + [str(x) for x in FLOOR_LOAD] + [str(seconds)]
    remember("cpu_ref (floor load)", argv, SERVER_CPU)
    p = subprocess.Popen(taskset(SERVER_CPU) + argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    OURS.add(p.pid)
    return p


def scen_mixed(w, d, pool, est):
    """A light GET probe alone, while 64 clients POST, and under a CPU
    load that is not sealmd (the floor of scheduling on this machine)."""
    runs = {"during_post": [], "alone": [], "post": [], "floor": [],
            "floor_load": []}
    pids = list(d.pids().values())
    probe = w.argv(d.port["direct"], PROBE_CONNS, SECONDS, script="probe")
    for rnd in range(ROUNDS):
        # Each first, second and last once in every 3 rounds.
        order = ["during_post", "alone", "floor"]
        for name in order[rnd % 3:] + order[:rnd % 3]:
            if name == "alone":
                r = w.run("wrk GET probe (alone)", probe, SECONDS, pids)
                runs["alone"].append(r)
                note(f"probe alone round {rnd + 1}: p50 {r['lat_p50_us']} "
                     f"p99 {r['lat_p99_us']} us, {r['rps']:.0f} req/s")
                continue
            if name == "floor":
                lp = floor_load(SECONDS + 1)
                time.sleep(0.5)
                r = w.run("wrk GET probe (floor load)", probe, SECONDS,
                          pids)
                out, err = lp.communicate(timeout=SECONDS + 60)
                if lp.returncode != 0:
                    raise RuntimeError(f"cpu_ref failed: {err.decode()}")
                ld = json.loads(out)
                ld["cpu_pct"] = round(100.0 * ld["cpu_s"] / ld["seconds"],
                                      1)
                runs["floor"].append(r)
                runs["floor_load"].append(ld)
                note(f"probe under the floor load round {rnd + 1}: p50 "
                     f"{r['lat_p50_us']} p99 {r['lat_p99_us']} us, "
                     f"{r['rps']:.0f} req/s; load {ld['cpu_pct']}% CPU")
                continue
            pool.ensure(pool_need(est, SECONDS + 1))
            snap = snapshot(pids)
            pp, n = post_run(w, d, pool, SECONDS + 1,
                             "wrk POST (during the probe)")
            time.sleep(0.5)
            r = w.run("wrk GET probe (during POSTs)", probe, SECONDS, pids)
            rp = post_finish(w, pp, n, pool, SECONDS + 1, pids, snap)
            runs["during_post"].append(r)
            runs["post"].append(rp)
            note(f"probe during POSTs round {rnd + 1}: p50 "
                 f"{r['lat_p50_us']} p99 {r['lat_p99_us']} us, "
                 f"{r['rps']:.0f} GET/s; POST {rp['ok_rps']:.0f}/s"
                 + (" POOL EXHAUSTED" if rp["pool_exhausted"] else ""))
    return runs


def scen_owner(d, pool):
    """Owner API: registrations of fresh instances, then GETs of
    registered ones, by OWNER_CLIENTS clients (scenario 9)."""
    runs = {"put": [], "get": []}
    COMMANDS.setdefault("owner clients",
                        f"{OWNER_CLIENTS} threads of this harness (on "
                        f"cpu{CLIENT_CPU}) on {d.socket}, {OWNER_DEPTH} "
                        f"requests in flight each")
    known = [i for i, _ in pool.items]
    for rnd in range(ROUNDS):
        for name in alternate(rnd, "put", "get"):
            if name == "put":
                r, ids = owner_load(d, owner_put_request, SECONDS)
                known += ids
            else:
                r, _ = owner_load(d, owner_get_request(known), SECONDS)
            runs[name].append(r)
            note(f"owner {name.upper()} round {rnd + 1}: "
                 f"{r['ok_rps']:.0f}/s, non-2xx {r['non_ok']}, server "
                 f"{r['server_cpu_us_per_req']:.1f} us/req, cpu "
                 f"{r['cpu_busy_pct']}, others {r['foreign_cpu_pct']}%")
    return runs


def scen_idle():
    """Fresh servers each round: RSS before and after IDLE_CONNS
    keep-alive connections that each had one answer."""
    runs = {"sealmd": [], "nginx": []}
    for rnd in range(ROUNDS):
        for name in alternate(rnd, "sealmd", "nginx"):
            srv = Sealmd() if name == "sealmd" else Nginx()
            try:
                srv.start()
                if name == "sealmd":
                    seed_direct(srv)
                    port = srv.port["direct"]
                else:
                    port = srv.port
                http_get(port)
                time.sleep(0.3)
                pids = srv.pids()
                before = {k: mem_kib(p) for k, p in pids.items()}
                socks = open_idle(port, IDLE_CONNS)
                try:
                    time.sleep(1.0)
                    after = {k: mem_kib(p) for k, p in pids.items()}
                    alive = sum(1 for s in socks if not _closed(s))
                finally:
                    for s in socks:
                        s.close()
                r = {"before_kib": before, "after_kib": after,
                     "open_after_1s": alive,
                     "kib_per_conn": {k: (after[k]["VmRSS"] -
                                          before[k]["VmRSS"]) / IDLE_CONNS
                                      for k in pids}}
                runs[name].append(r)
                note(f"idle round {rnd + 1} {name}: "
                     + ", ".join(f"{k} {v:.2f} KiB/conn"
                                 for k, v in r["kib_per_conn"].items())
                     + f" ({alive} still open)")
            finally:
                srv.cleanup()
    return runs


def _closed(s):
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def scen_start():
    """Exec to READY=1 and to the first answer, and RSS at idle.  sealmd
    starts on a store that already holds its instance and value (a
    restart), as nginx starts on an existing file."""
    runs = {"sealmd": [], "nginx": []}
    for rnd in range(ROUNDS):
        for name in alternate(rnd, "sealmd", "nginx"):
            if name == "nginx":
                ng = Nginx()
                try:
                    ng.start()
                    time.sleep(0.5)
                    pids = ng.pids()
                    r = {"first_answer_ms": ng.t_first * 1e3,
                         "rss_kib": {k: mem_kib(p) for k, p in pids.items()}}
                finally:
                    ng.cleanup()
            else:
                d = Sealmd()
                try:
                    d.start()
                    seed_direct(d)
                    d.stop()
                    d.start()
                    t1 = first_answer(d.port["direct"],
                                      time.monotonic() + 10)
                    time.sleep(0.5)
                    pids = d.pids()
                    r = {"ready_ms": d.t_ready * 1e3,
                         "first_answer_ms": (t1 - d.t0) * 1e3,
                         "rss_kib": {k: mem_kib(p) for k, p in pids.items()}}
                finally:
                    d.cleanup()
            runs[name].append(r)
            note(f"start round {rnd + 1} {name}: "
                 + (f"READY {r['ready_ms']:.1f} ms, " if "ready_ms" in r
                    else "")
                 + f"first answer {r['first_answer_ms']:.1f} ms, RSS "
                 + ", ".join(f"{k} {v['VmRSS']} KiB"
                             for k, v in r["rss_kib"].items()))
    return runs


# --- report ----------------------------------------------------------------

def machine():
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def ver(argv):
        try:
            p = subprocess.run(argv, capture_output=True, timeout=10)
            return (p.stdout + p.stderr).decode().strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None

    mem = {}
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            mem[k] = v.strip()
    fs = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "-T",
                             tempfile.gettempdir()], capture_output=True,
                            timeout=10).stdout.decode().strip()
    return {"nproc": NCPU, "kernel": platform.release(), "cpu_model": model,
            "memory": mem.get("MemTotal"), "wrk": ver([WRK, "-v"]),
            "nginx": ver([NGINX, "-v"]), "python": platform.python_version(),
            "state_fs": fs, "pinning": (f"wrk on cpu{CLIENT_CPU}, servers "
                                        f"on cpu{SERVER_CPU}"
                                        if SERVER_CPU is not None else
                                        "none (fewer than 2 CPUs)"),
            "commit": git_head()}


def git_head():
    """The checked-out commit, read from .git without running git."""
    try:
        with open(os.path.join(TOP, ".git", "HEAD")) as f:
            head = f.read().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        p = os.path.join(TOP, ".git", ref)
        if os.path.exists(p):
            with open(p) as f:
                return f.read().strip()
        with open(os.path.join(TOP, ".git", "packed-refs")) as f:
            for line in f:
                if line.rstrip().endswith(" " + ref):
                    return line.split()[0]
    except OSError:
        pass
    return None


def fmt(x, nd=0):
    if x is None:
        return "—"
    return f"{x:,.{nd}f}"


def build_rows(res):
    rows = []

    def row(scen, s, ref, ratio, target, met, s_txt, ref_txt, ratio_txt):
        rows.append({"scenario": scen, "sealmd": s, "reference": ref,
                     "ratio": ratio, "target": target, "met": met,
                     "text": (s_txt, ref_txt, ratio_txt)})

    for key, title, target in (
            ("keepalive", "GET keep-alive, 64 conns", 0.7),
            ("close", "GET `Connection: close`, 64 conns", 0.7),
            ("tls_close", "TLS handshakes: GET `Connection: close` over "
             "TLS, 64 conns", 0.5),
            ("tls_keepalive", "GET keep-alive over TLS, 64 conns", 0.95)):
        g = res[key]
        s = median([r["rps"] for r in g["sealmd"]])
        n = median([r["rps"] for r in g["nginx"]])
        sc = median([r["server_cpu_us_per_req"] for r in g["sealmd"]])
        nc = median([r["server_cpu_us_per_req"] for r in g["nginx"]])
        ratio = s / n if s and n else None
        row(f"{title}: req/s", s, n, ratio, f"≥ {target}× nginx",
            ratio is not None and ratio >= target,
            f"{fmt(s)} req/s ({fmt(sc, 1)} µs CPU/req)",
            f"nginx {fmt(n)} req/s ({fmt(nc, 1)} µs CPU/req)",
            f"{fmt(ratio, 2)}×")
        if key == "keepalive":
            s99 = median([r["lat_p99_us"] for r in g["sealmd"]])
            n99 = median([r["lat_p99_us"] for r in g["nginx"]])
            s50 = median([r["lat_p50_us"] for r in g["sealmd"]])
            n50 = median([r["lat_p50_us"] for r in g["nginx"]])
            ratio = s99 / n99 if s99 and n99 else None
            row(f"{title}: p99 latency", s99, n99, ratio,
                "≤ 2× nginx p99", ratio is not None and ratio <= 2.0,
                f"p99 {fmt(s99 / 1e3, 2)} ms (p50 {fmt(s50 / 1e3, 2)})",
                f"nginx p99 {fmt(n99 / 1e3, 2)} ms (p50 "
                f"{fmt(n50 / 1e3, 2)})", f"{fmt(ratio, 2)}×")
        if key == "tls_keepalive":
            # What the target asks of the worker alone: its TLS and HTTP
            # against all of nginx's, the broker's hop (store read,
            # unsealing, audit line, channel) apart.
            wc = median([r["cpu_us_per_req_by_process"]["worker"]
                         for r in g["sealmd"]])
            bc = median([r["cpu_us_per_req_by_process"]["broker"]
                         for r in g["sealmd"]])
            ratio = nc / wc if nc and wc else None
            row(f"{title}: CPU per request of sealmd's worker alone", wc,
                nc, ratio, "none set", None,
                f"worker {fmt(wc, 1)} µs (broker {fmt(bc, 1)} µs more)",
                f"nginx {fmt(nc, 1)} µs", f"{fmt(ratio, 2)}×")

    p = res["post"]
    s = median([r["ok_rps"] for r in p["sealmd"]])
    f = median([r["writes_per_s"] for r in p["fdatasync"]])
    ratio = s / f if s and f else None
    exhausted = any(r["pool_exhausted"] for r in p["sealmd"])
    s99 = median([r["lat_p99_us"] for r in p["sealmd"]])
    grp = median([r["group_mean"] for r in p["sealmd"]])
    row("POST durable, distinct instances, 64 clients: POST/s", s, f, ratio,
        "≥ 10× fdatasync/s", ratio is not None and ratio >= 10,
        f"{fmt(s)} POST/s (p99 {fmt(s99 and s99 / 1e3, 1)} ms; "
        f"{fmt(grp, 1)} writes per commit)"
        + (" ‡ pool ran out" if exhausted else ""),
        f"write+fdatasync {fmt(f)}/s (p50 "
        f"{fmt(median([r['p50_us'] for r in p['fdatasync']]), 0)} µs)",
        f"{fmt(ratio, 2)}×")
    pr = median([r["posts_per_s"] for r in p["post_ref"]])
    prg = median([r["group"] for r in p["post_ref"]])
    ratio = s / pr if s and pr else None
    row("POST durable against its store work alone: POST/s", s, pr, ratio,
        "≥ 0.6× post_ref", ratio is not None and ratio >= 0.6,
        f"{fmt(s)} POST/s" + (" ‡" if exhausted else ""),
        f"post_ref {fmt(pr)} POST/s (groups of {fmt(prg)})",
        f"{fmt(ratio, 2)}×")
    sc = median([r["server_cpu_us_per_req"] for r in p["sealmd"]])
    prc = median([r["cpu_us_per_post"] for r in p["post_ref"]])
    ratio = sc / prc if sc and prc else None
    row("POST durable: server CPU per POST", sc, prc, ratio, "≤ 40 µs",
        sc is not None and sc <= 40, f"{fmt(sc, 1)} µs",
        f"post_ref {fmt(prc, 1)} µs", f"{fmt(ratio, 2)}×")

    m = res["mixed"]
    d99 = median([r["lat_p99_us"] for r in m["during_post"]])
    d50 = median([r["lat_p50_us"] for r in m["during_post"]])
    a99 = median([r["lat_p99_us"] for r in m["alone"]])
    a50 = median([r["lat_p50_us"] for r in m["alone"]])
    prate = median([r["ok_rps"] for r in m["post"]])
    ratio = d99 / a99 if d99 and a99 else None
    row("GET p99 while scenario 3 POSTs run", d99, a99, ratio,
        "≤ 3× the probe alone", ratio is not None and ratio <= 3,
        f"p99 {fmt(d99 / 1e3, 2)} ms (p50 {fmt(d50 / 1e3, 2)}; "
        f"{fmt(prate)} POST/s meanwhile)",
        f"same probe, no POSTs: p99 {fmt(a99 / 1e3, 2)} ms "
        f"(p50 {fmt(a50 / 1e3, 2)})",
        f"{fmt(d99 / a99 if d99 and a99 else None, 1)}×")
    f99 = median([r["lat_p99_us"] for r in m["floor"]])
    f50 = median([r["lat_p50_us"] for r in m["floor"]])
    fcpu = median([r["cpu_pct"] for r in m["floor_load"]])
    dcpu = median([r["server_cpu_pct"] for r in m["during_post"]])
    acpu = median([r["server_cpu_pct"] for r in m["alone"]])
    row("GET p99 under a CPU load that is not sealmd (the floor)", f99,
        a99, f99 / a99 if f99 and a99 else None, "none set", None,
        f"p99 {fmt(f99 and f99 / 1e3, 2)} ms (p50 "
        f"{fmt(f50 and f50 / 1e3, 2)}); cpu_ref {fmt(fcpu)}% of a CPU, "
        f"sealmd {fmt(dcpu)}% with POSTs, {fmt(acpu)}% without",
        f"same probe, no load: p99 {fmt(a99 / 1e3, 2)} ms",
        f"{fmt(f99 / a99 if f99 and a99 else None, 1)}×")

    o = res["owner"]
    reg = median([r["ok_rps"] for r in o["put"]])
    regc = median([r["server_cpu_us_per_req"] for r in o["put"]])
    ratio = reg / s if reg and s else None
    row(f"Owner API: registration (PUT /instances/{{id}}), "
        f"{OWNER_CLIENTS} clients: PUT/s", reg, s, ratio,
        "≥ 0.5× POST/s (scenario 3)", ratio is not None and ratio >= 0.5,
        f"{fmt(reg)} PUT/s ({fmt(regc, 1)} µs CPU/req)",
        f"POST durable {fmt(s)}/s", f"{fmt(ratio, 2)}×")
    og = median([r["ok_rps"] for r in o["get"]])
    ogc = median([r["server_cpu_us_per_req"] for r in o["get"]])
    kg = median([r["rps"] for r in res["keepalive"]["sealmd"]])
    row(f"Owner API: GET /instances/{{id}}, {OWNER_CLIENTS} clients: "
        f"GET/s", og, kg, og / kg if og and kg else None, "none set",
        None, f"{fmt(og)} GET/s ({fmt(ogc, 1)} µs CPU/req)",
        f"guest GET keep-alive {fmt(kg)} req/s",
        f"{fmt(og / kg if og and kg else None, 2)}×")

    i = res["idle"]
    w = median([r["kib_per_conn"]["worker"] for r in i["sealmd"]])
    b = median([r["kib_per_conn"]["broker"] for r in i["sealmd"]])
    n = median([r["kib_per_conn"]["worker"] for r in i["nginx"]])
    row(f"{IDLE_CONNS:,} idle keep-alive conns: KiB per conn (worker)", w,
        n, w / n if w and n else None, "≤ 16 KiB (worker)",
        w is not None and w <= 16,
        f"worker {fmt(w, 2)} KiB, broker {fmt(b, 2)} KiB",
        f"nginx worker {fmt(n, 2)} KiB",
        f"{fmt(w / n if w and n else None, 2)}×")

    st = res["start"]
    wr = median([r["rss_kib"]["worker"]["VmRSS"] for r in st["sealmd"]])
    br = median([r["rss_kib"]["broker"]["VmRSS"] for r in st["sealmd"]])
    nw = median([r["rss_kib"]["worker"]["VmRSS"] for r in st["nginx"]])
    nm = median([r["rss_kib"]["master"]["VmRSS"] for r in st["nginx"]])
    row("Worker RSS at idle", wr, nw, wr / nw if wr and nw else None,
        "≤ 4 MiB", wr is not None and wr <= 4096,
        f"{fmt(wr / 1024, 2)} MiB", f"nginx worker {fmt(nw / 1024, 2)} MiB",
        f"{fmt(wr / nw if wr and nw else None, 2)}×")
    row("Broker RSS at idle", br, nm, br / nm if br and nm else None,
        "≤ 12 MiB", br is not None and br <= 12288,
        f"{fmt(br / 1024, 2)} MiB", f"nginx master {fmt(nm / 1024, 2)} MiB",
        f"{fmt(br / nm if br and nm else None, 2)}×")
    rd = median([r["ready_ms"] for r in st["sealmd"]])
    fa = median([r["first_answer_ms"] for r in st["sealmd"]])
    nf = median([r["first_answer_ms"] for r in st["nginx"]])
    row("Start: exec to READY=1", rd, nf, rd / nf if rd and nf else None,
        "≤ 50 ms", rd is not None and rd <= 50,
        f"{fmt(rd, 1)} ms (first answer {fmt(fa, 1)} ms)",
        f"nginx exec to first answer {fmt(nf, 1)} ms",
        f"{fmt(rd / nf if rd and nf else None, 2)}×")
    return rows


def foreign_runs(res):
    """(name, runs) of every timed run that records other processes'
    CPU."""
    return [("GET keep-alive sealmd", res["keepalive"]["sealmd"]),
            ("GET keep-alive nginx", res["keepalive"]["nginx"]),
            ("GET close sealmd", res["close"]["sealmd"]),
            ("GET close nginx", res["close"]["nginx"]),
            ("TLS close sealmd", res["tls_close"]["sealmd"]),
            ("TLS close nginx", res["tls_close"]["nginx"]),
            ("TLS keep-alive sealmd", res["tls_keepalive"]["sealmd"]),
            ("TLS keep-alive nginx", res["tls_keepalive"]["nginx"]),
            ("POST", res["post"]["sealmd"]),
            ("fdatasync", res["post"]["fdatasync"]),
            ("post_ref", res["post"]["post_ref"]),
            ("GET probe during POSTs", res["mixed"]["during_post"]),
            ("GET probe alone", res["mixed"]["alone"]),
            ("GET probe under the floor load", res["mixed"]["floor"]),
            ("owner PUT", res["owner"]["put"]),
            ("owner GET", res["owner"]["get"])]


def markdown(rows, info, res, stamp, outfile):
    out = []
    out.append(f"## sealmd benchmark, {stamp}\n")
    out.append(f"Machine: {info['nproc']} CPUs, {info['cpu_model']}, kernel "
               f"{info['kernel']}, {info['memory']}; {info['wrk']}; "
               f"{info['nginx']}; state on {info['state_fs']}.  "
               f"Pinning: {info['pinning']}.  {ROUNDS} rounds of "
               f"{SECONDS} s (fdatasync: {FSYNC_SECONDS} s), medians; "
               f"sealmd and its reference alternate within each round.\n")
    for k in ("quiet_before", "quiet_after"):
        warn = quiet_text(res[k])
        if warn:
            out.append(f"**Warning ({k.replace('_', ' ')}):** {warn}.  "
                       f"Ratios taken side by side still compare, but "
                       f"absolute figures are low and noisy.\n")
    worst = max((median([r["foreign_cpu_pct"] for r in runs]) or 0, name)
                for name, runs in foreign_runs(res))
    if worst[0] > 10:
        out.append(f"**Warning:** other processes on this machine used up "
                   f"to {worst[0]:.0f}% of a CPU during the runs (median, "
                   f"{worst[1]}); see the line under the table.  Absolute "
                   f"figures are low and noisy; ratios hold up better.\n")
    out.append("| scenario | sealmd | reference | ratio | target | |")
    out.append("|---|---|---|---|---|---|")
    for r in rows:
        s, ref, ratio = r["text"]
        verdict = ("—" if r["met"] is None else
                   "met" if r["met"] else "missed")
        out.append(f"| {r['scenario']} | {s} | {ref} | {ratio} | "
                   f"{r['target']} | {verdict} |")
    out.append("")
    out.append(f"Scenario 4 probe: wrk -c{PROBE_CONNS}, each connection "
               f"pausing {PROBE_DELAY_MS} ms between requests.  CPU µs/req "
               f"is the CPU time the kernel charged to the server's own "
               f"processes (broker + launcher + worker; nginx master + "
               f"worker) per answered request.")
    out.append(f"post_ref: sealmd's store work alone (bench/post_ref.c, "
               f"the broker's store and seal objects), in groups of "
               f"sealmd's mean writes per commit in its latest POST run "
               f"(from GET /metrics).  Owner rows: {OWNER_CLIENTS} "
               f"clients on the owner socket, {OWNER_DEPTH} requests in "
               f"flight each.")
    t = res["tls"]
    per = median([r["tls_signs"] / r["requests"]
                  for r in res["tls_close"]["sealmd"] if r["requests"]])
    out.append(f"TLS rows: the same self-signed ECDSA P-256 certificate on "
               f"both; a Python (OpenSSL) client negotiated "
               f"{t['sealmd']['version']} {t['sealmd']['cipher']} with "
               f"sealmd and {t['nginx']['version']} "
               f"{t['nginx']['cipher']} with nginx.  With `Connection: "
               f"close`, sealmd's broker signed {fmt(per, 2)} handshakes "
               f"per answered request (median).")
    if t["sealmd"]["resumed"] or t["nginx"]["resumed"]:
        out.append("**Warning:** a TLS session was resumed; the close "
                   "row does not count full handshakes only.")
    fr = [f"{name} {fmt(median([r['foreign_cpu_pct'] for r in runs]))}%"
          for name, runs in foreign_runs(res)]
    out.append("Other processes' CPU during the runs (median, % of one "
               "CPU; 0 on a quiet machine): " + ", ".join(fr) + ".")
    if any(r["pool_exhausted"] for r in res["post"]["sealmd"] +
           res["mixed"]["post"]):
        out.append("‡ the pool of fresh instances ran out during a POST "
                   "run; the figure counts only 200s and is a lower bound.")
    out.append("\nCommands (servers get cpu affinity from the harness "
               "before exec, the same as taskset):\n")
    out.append("```")
    for k, v in COMMANDS.items():
        out.append(f"# {k}\n{v}")
    out.append("```")
    out.append(f"\nAll rounds: {outfile}")
    return "\n".join(out)


def main():
    for exe, what in ((WRK, "wrk"), (NGINX, "nginx"), (SEALMD, "sealmd"),
                      (FSYNC_REF, "fsync_ref"), (POST_REF, "post_ref"),
                      (CPU_REF, "cpu_ref"),
                      (OPENSSL, "openssl")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench: {what} not found at {exe}; run make bench "
                     f"(it installs wrk and nginx with "
                     f"scripts/bench-deps.sh and builds {FSYNC_REF} "
                     f"and {POST_REF})")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if SERVER_CPU is not None:
        os.sched_setaffinity(0, {CLIENT_CPU})
    if ROUNDS < 3:
        note(f"BENCH_ROUNDS={ROUNDS}: fewer than 3 rounds, medians are "
             f"weak")
    info = machine()
    note(f"{info['nproc']} CPUs, {info['cpu_model']}, kernel "
         f"{info['kernel']}; {info['pinning']}; {ROUNDS} rounds of "
         f"{SECONDS} s")
    res = {"quiet_before": quiet_check()}
    wait_until = time.monotonic() + float(os.environ.get("BENCH_WAIT_QUIET",
                                                         "0"))
    while quiet_text(res["quiet_before"]) and time.monotonic() < wait_until:
        note("waiting for a quiet machine: " +
             quiet_text(res["quiet_before"]))
        time.sleep(9)
        res["quiet_before"] = quiet_check()
    warn = quiet_text(res["quiet_before"])
    if warn:
        note("WARNING: " + warn)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y%m%dT%H%M%SZ")
    tmp = tempfile.mkdtemp(prefix="sealmd-bench-")
    d = ng = None
    t_start = time.monotonic()
    try:
        w = Wrk(tmp)
        tls = tls_helpers.Certs(os.path.join(tmp, "tls")).server("bench")
        d = Sealmd(tls=tls).start()
        seed_direct(d)
        ng = Nginx(tls=tls).start()
        note(f"sealmd direct :{d.port['direct']} proxy :{d.port['proxy']} "
             f"direct TLS :{d.port['direct-tls']} (pids {d.pids()}), "
             f"nginx :{ng.port} TLS :{ng.tls_port} (pids {ng.pids()})")
        res["tls"] = {"cert": "ECDSA P-256, self-signed, openssl req",
                      "sealmd": tls_check(d.port["direct-tls"], tls[0]),
                      "nginx": tls_check(ng.tls_port, tls[0])}
        note(f"TLS: {res['tls']}")
        if res["tls"]["sealmd"]["cert_sha256"] != \
                res["tls"]["nginx"]["cert_sha256"]:
            raise RuntimeError("sealmd and nginx serve different "
                               "certificates")
        for port, pids, https in (
                (d.port["direct"], list(d.pids().values()), False),
                (ng.port, list(ng.pids().values()), False),
                (d.port["direct-tls"], list(d.pids().values()), True),
                (ng.tls_port, list(ng.pids().values()), True)):
            w.run("wrk warm-up", w.argv(port, CONNS, 1, tls=https), 1, pids)
        res["keepalive"] = scen_get(w, d, ng, close=False)
        res["close"] = scen_get(w, d, ng, close=True)
        res["tls_close"] = scen_get(w, d, ng, close=True, tls=True)
        res["tls_keepalive"] = scen_get(w, d, ng, close=False, tls=True)
        ng.cleanup()
        ng = None
        pool = Pool(d, tmp)
        res["post"], est = scen_post(w, d, pool)
        res["mixed"] = scen_mixed(w, d, pool, est)
        res["owner"] = scen_owner(d, pool)
        res["pool"] = {"registered": len(pool.items),
                       "registration_per_s": pool.reg_rate()}
        deaths = d.worker_deaths()
        res["worker_deaths"] = deaths
        if deaths:
            note(f"the worker died during the run: {deaths}")
        res["log_bytes"] = os.path.getsize(d.log_path)
        d.cleanup()
        d = None
        res["idle"] = scen_idle()
        res["start"] = scen_start()
        res["quiet_after"] = quiet_check()
    finally:
        if ng:
            ng.cleanup()
        if d:
            d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    rows = build_rows(res)
    os.makedirs(OUT_DIR, exist_ok=True)
    outfile = os.path.join(OUT_DIR, f"{stamp}.json")
    doc = {"timestamp": stamp, "machine": info, "seconds": SECONDS,
           "rounds": ROUNDS, "fsync_seconds": FSYNC_SECONDS,
           "conns": CONNS, "idle_conns": IDLE_CONNS,
           "probe": {"conns": PROBE_CONNS, "delay_ms": PROBE_DELAY_MS},
           "body_bytes": len(BODY), "commands": COMMANDS,
           "wall_seconds": round(time.monotonic() - t_start, 1),
           "table": [{k: v for k, v in r.items() if k != "text"} |
                     {"sealmd_text": r["text"][0],
                      "reference_text": r["text"][1]} for r in rows],
           "rounds_data": res}
    with open(outfile, "w") as f:
        json.dump(doc, f, indent=1, default=str)
    print(markdown(rows, info, res, stamp, os.path.relpath(outfile, TOP)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
