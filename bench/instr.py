#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make bench-instr: instructions per guest GET and POST, by callgrind.

Instruction counts do not depend on how busy the machine is, so unlike
make bench these figures compare from run to run and machine to machine
(for the same compiler and libraries).

(a) The broker.  The SEALMD_VALGRIND build (built by make bench-instr in
    build/instr, release optimisation) runs under callgrind; its worker is
    exec'd natively (valgrind does not follow the exec, and the worker's
    seccomp filter would kill valgrind's own system calls).  A run serves
    N keep-alive GETs of the 344-byte value on a direct listener; a second
    run does the same start, setup and idle time with no GETs.  The
    difference of the two totals divided by N is the broker's instructions
    per GET: identity by address, store read, opening the sealed chunks,
    the audit line, the channel messages.
(b) The worker's parser.  bench/instr_worker links the worker's HTTP
    parser and path normaliser as the release build compiles them and
    parses a GET head M1 and M2 times; (Ir(M2) - Ir(M1)) / (M2 - M1).

(c) The broker, per guest POST (scenario 3's request).  A run registers
    P instances through the owner API, then posts the 344-byte value to
    each through a proxy listener, signed, from 64 keep-alive
    connections in waves of 64; a second run registers as many and posts
    none.  The difference divided by P, with the group size the run got
    (valgrind runs one thread at a time, so groups differ from make
    bench's), and post_ref's instructions per POST for the same store
    work alone (two runs of different length, the difference over the
    difference of POSTs).

Neither counts the kernel: system calls are one instruction each to
callgrind.  bench/README.md has the details and the limits.

Environment: BENCH_INSTR_N (GETs, default 10000), BENCH_INSTR_POSTS
(default 2048), SEALMD_BUILD, SEALMD_INSTR_BUILD (default build/instr).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402

N = max(100, int(os.environ.get("BENCH_INSTR_N", "10000")))
POSTS = max(R.CONNS, int(os.environ.get("BENCH_INSTR_POSTS", "2048")))
POST_REF_SECONDS = (1, 4)
DRIVER_N = (1000, 101000)
INSTR_BUILD = os.environ.get("SEALMD_INSTR_BUILD") or os.path.join(
    R.TOP, "build", "instr")
DRIVER = os.path.join(R.BUILD, "bench", "instr_worker")
VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
ANNOTATE = shutil.which("callgrind_annotate") or "/usr/bin/callgrind_annotate"
TOP_FUNCS = 15


def total_ir(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def per_function(path):
    """{function: self Ir} from callgrind_annotate's function table."""
    p = subprocess.run([ANNOTATE, "--inclusive=no", "--auto=no",
                        "--threshold=100", path], capture_output=True,
                       timeout=300)
    out, table = {}, False
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if not table:
            table = line.strip().endswith("file:function")
            continue
        if line.startswith("---"):
            continue
        m = re.match(r"^\s*([\d,]+)\s+\([^)]*\)\s+(.*?)\s*$", line)
        if not m:
            break
        name = m.group(2)
        obj = ""
        if name.endswith("]") and " [" in name:
            name, obj = name.rsplit(" [", 1)
            obj = os.path.basename(obj.rstrip("]"))
        name = name.rsplit(":", 1)[-1]
        if obj and obj not in ("sealmd", "instr_worker"):
            name = f"{name} ({obj})"
        out[name] = out.get(name, 0) + int(m.group(1).replace(",", ""))
    return out


def callgrind(out, argv):
    return [VALGRIND, "--tool=callgrind", f"--callgrind-out-file={out}",
            "--trace-children=no"] + argv


def diff_top(f_big, f_small, n):
    a, b = per_function(f_big), per_function(f_small)
    rows = [(name, (ir - b.get(name, 0)) / n) for name, ir in a.items()]
    rows = [r for r in rows if r[1] >= 1]
    rows.sort(key=lambda r: -r[1])
    return rows[:TOP_FUNCS]


def driver(tmp, shape):
    files = []
    for m in DRIVER_N:
        out = os.path.join(tmp, f"driver.{shape}.{m}.out")
        argv = callgrind(out, [DRIVER, str(m), shape])
        R.remember(f"callgrind parser driver ({shape}, {m})", argv)
        p = subprocess.run(argv, capture_output=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"instr_worker failed:\n"
                               f"{p.stderr.decode()[-2000:]}")
        files.append(out)
    m1, m2 = DRIVER_N
    per = (total_ir(files[1]) - total_ir(files[0])) / (m2 - m1)
    return per, diff_top(files[1], files[0], m2 - m1)


def gets(port, n):
    """n GETs on one keep-alive connection; each must be 200 + BODY."""
    req = (f"GET {R.PW_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        buf = b""
        for _ in range(n):
            s.sendall(req)
            while True:
                end = buf.find(b"\r\n\r\n")
                if end != -1:
                    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)",
                                  buf[:end])
                    need = end + 4 + (int(m.group(1)) if m else 0)
                    if len(buf) >= need:
                        break
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("connection closed")
                buf += chunk
            if not buf.startswith(b"HTTP/1.1 200") or \
                    buf[end + 4:need] != R.BODY:
                raise RuntimeError(f"bad answer {buf[:80]!r}")
            buf = buf[need:]


def post_head(iid, sig):
    return (f"POST {R.PW_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-Instance-ID: {iid}\r\nX-Tenant-ID: {R.PROJECT}\r\n"
            f"X-Instance-ID-Signature: {sig}\r\n"
            f"Content-Type: text/plain\r\n"
            f"Content-Length: {len(R.BODY)}\r\n\r\n").encode() + R.BODY


def answer(s, buf):
    """One answer's head (and the rest of buf) from s."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end != -1:
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", buf[:end])
            need = end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) >= need:
                return buf[:end], buf[need:]
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk


def posts(port, items):
    """A POST to each (id, signature), R.CONNS at a time; each a 200."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=60)
             for _ in range(R.CONNS)]
    bufs = [b""] * len(socks)
    try:
        for k in range(0, len(items), len(socks)):
            wave = items[k:k + len(socks)]
            for i, (iid, sig) in enumerate(wave):
                socks[i].sendall(post_head(iid, sig))
            for i in range(len(wave)):
                head, bufs[i] = answer(socks[i], bufs[i])
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"POST answered {head[:60]!r}")
    finally:
        for s in socks:
            s.close()


def broker_post(tmp, n, idle=None):
    """One broker run under callgrind that registers POSTS instances and
    posts to n of them; returns (total Ir, seconds spent posting, the
    callgrind file, writes and commits while posting)."""
    out = os.path.join(tmp, f"broker.post.{n}.out")
    d = R.Sealmd(prefix=callgrind(out, []), build=INSTR_BUILD)
    try:
        d.start(timeout=120)
        ids = [R.fx.uuid4() for _ in range(POSTS)]
        R.owner_register(d.socket, ids)
        items = [(i, d.sign(i)) for i in ids[:n]]
        g0 = R.commit_groups(d)
        t0 = time.monotonic()
        if n:
            posts(d.port["proxy"], items)
        else:
            time.sleep(idle)
        spent = time.monotonic() - t0
        g1 = R.commit_groups(d)
        stop_clean(d)
    finally:
        d.cleanup()
    return total_ir(out), spent, out, (g1[0] - g0[0], g1[1] - g0[1])


def stop_clean(d):
    """Stop a run's broker; a broker that did not exit 0, or a worker
    that died, makes the run's count worthless."""
    rc = d.stop(timeout=120)
    if rc != 0:
        raise RuntimeError(f"broker exited {rc}:\n{d.log()[-3000:]}")
    deaths = d.worker_deaths()
    if deaths:
        raise RuntimeError(f"the worker died: {deaths}")


def post_ref(tmp, group):
    """post_ref's instructions per POST at this group size."""
    runs = []
    for secs in POST_REF_SECONDS:
        out = os.path.join(tmp, f"post_ref.{secs}.out")
        argv = callgrind(out, [R.POST_REF, tmp, str(secs), str(group)])
        R.remember(f"callgrind post_ref ({secs} s)", argv)
        p = subprocess.run(argv, capture_output=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"post_ref failed:\n"
                               f"{p.stderr.decode()[-2000:]}")
        runs.append((total_ir(out),
                     json.loads(p.stdout.decode().splitlines()[-1])))
    (ir1, r1), (ir2, r2) = runs
    if r2["posts"] <= r1["posts"]:
        raise RuntimeError("post_ref: the longer run posted no more")
    return (ir2 - ir1) / (r2["posts"] - r1["posts"])


def broker(tmp, n, idle=None):
    """One broker run under callgrind; returns (total Ir, seconds spent
    serving, callgrind file)."""
    out = os.path.join(tmp, f"broker.{n}.out")
    d = R.Sealmd(prefix=callgrind(out, []), build=INSTR_BUILD,
                 guests=(("direct", "127.0.0.1"),))
    try:
        d.start(timeout=120)
        R.seed_direct(d)
        t0 = time.monotonic()
        if n:
            gets(d.port["direct"], n)
        else:
            time.sleep(idle)
        spent = time.monotonic() - t0
        stop_clean(d)
    finally:
        d.cleanup()
    return total_ir(out), spent, out


def main():
    for exe in (VALGRIND, DRIVER, R.POST_REF,
                os.path.join(INSTR_BUILD, "sealmd")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench-instr: {exe} is missing; run make bench-instr")
    if R.SERVER_CPU is not None:
        os.sched_setaffinity(0, {R.CLIENT_CPU})
    tmp = tempfile.mkdtemp(prefix="sealmd-instr-")
    try:
        R.note(f"broker: {N} GETs under callgrind")
        ir_n, spent, f_n = broker(tmp, N)
        R.note(f"broker: baseline, no GETs, {spent:.1f} s idle")
        ir_0, _, f_0 = broker(tmp, 0, idle=spent)
        per_get = (ir_n - ir_0) / N
        top_b = diff_top(f_n, f_0, N)
        R.note("parser driver")
        drv = {s: driver(tmp, s) for s in ("wrk", "proxy")}
        R.note(f"broker: {POSTS} POSTs under callgrind")
        pir_n, pspent, pf_n, grp = broker_post(tmp, POSTS)
        R.note(f"broker: baseline, no POSTs, {pspent:.1f} s idle")
        pir_0, _, pf_0, _ = broker_post(tmp, 0, idle=pspent)
        per_post = (pir_n - pir_0) / POSTS
        top_p = diff_top(pf_n, pf_0, POSTS)
        group = max(1, round(grp[0] / grp[1])) if grp[1] else 1
        R.note(f"post_ref under callgrind, groups of {group}")
        ref_post = post_ref(tmp, group)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("## Instructions per guest GET and POST (callgrind)\n")
    print("| what | instructions per request |")
    print("|---|---|")
    print(f"| (a) broker, direct GET of a 344-byte value, keep-alive "
          f"({N:,} GETs minus a 0-GET run) | {per_get:,.0f} |")
    print(f"| (b) worker parser: http_parse + path_normalize + 2 header "
          f"lookups, wrk's GET head | {drv['wrk'][0]:,.0f} |")
    print(f"| (b) worker parser, the same for a neutron-proxy GET head "
          f"(8 fields) | {drv['proxy'][0]:,.0f} |")
    print(f"| (c) broker, guest POST of a 344-byte value through a proxy "
          f"listener, 64 connections ({POSTS:,} POSTs minus a 0-POST run; "
          f"{grp[0]:.0f} writes in {grp[1]:.0f} commits) "
          f"| {per_post:,.0f} |")
    print(f"| (c) post_ref, the same store work alone, groups of {group} "
          f"| {ref_post:,.0f} |")
    print(f"\nBroker totals: {ir_n:,} Ir with {N:,} GETs, {ir_0:,} Ir "
          f"without (same start, setup and {spent:.1f} s of idle time).")
    print(f"\nBroker, self instructions per GET by function (top "
          f"{TOP_FUNCS}):\n")
    print("| function | Ir per GET |")
    print("|---|---|")
    for name, v in top_b:
        print(f"| `{name}` | {v:,.0f} |")
    print(f"\nBroker, self instructions per POST by function (top "
          f"{TOP_FUNCS}):\n")
    print("| function | Ir per POST |")
    print("|---|---|")
    for name, v in top_p:
        print(f"| `{name}` | {v:,.0f} |")
    print("\nParser driver (wrk's GET), self instructions per request:\n")
    print("| function | Ir per request |")
    print("|---|---|")
    for name, v in drv["wrk"][1]:
        print(f"| `{name}` | {v:,.0f} |")
    print("\nCommands:\n\n```")
    for k, v in R.COMMANDS.items():
        print(f"# {k}\n{v}")
    print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
