#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make bench-instr: instructions per guest GET, counted by callgrind.

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

Neither counts the kernel: system calls are one instruction each to
callgrind.  bench/README.md has the details and the limits.

Environment: BENCH_INSTR_N (GETs, default 10000), SEALMD_BUILD,
SEALMD_INSTR_BUILD (default build/instr).
"""
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
        rc = d.stop(timeout=120)
        if rc != 0:
            raise RuntimeError(f"broker exited {rc}:\n{d.log()[-3000:]}")
        deaths = d.worker_deaths()
        if deaths:
            raise RuntimeError(f"the worker died: {deaths}")
    finally:
        d.cleanup()
    return total_ir(out), spent, out


def main():
    for exe in (VALGRIND, DRIVER, os.path.join(INSTR_BUILD, "sealmd")):
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("## Instructions per guest GET (callgrind)\n")
    print("| what | instructions per GET |")
    print("|---|---|")
    print(f"| (a) broker, direct GET of a 344-byte value, keep-alive "
          f"({N:,} GETs minus a 0-GET run) | {per_get:,.0f} |")
    print(f"| (b) worker parser: http_parse + path_normalize + 2 header "
          f"lookups, wrk's GET head | {drv['wrk'][0]:,.0f} |")
    print(f"| (b) worker parser, the same for a neutron-proxy GET head "
          f"(8 fields) | {drv['proxy'][0]:,.0f} |")
    print(f"\nBroker totals: {ir_n:,} Ir with {N:,} GETs, {ir_0:,} Ir "
          f"without (same start, setup and {spent:.1f} s of idle time).")
    print(f"\nBroker, self instructions per GET by function (top "
          f"{TOP_FUNCS}):\n")
    print("| function | Ir per GET |")
    print("|---|---|")
    for name, v in top_b:
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
