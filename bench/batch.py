#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make bench-batch: how fast bulk registration goes, on SQLite.

For each of BENCH_ROUNDS rounds, on a fresh daemon each time (the
fixture's daemon from the build in SEALMD_BUILD, rate limit off), and
BENCH_BATCH_N instances (default 100,000) each time:

  import    `sealmdctl instance import FILE`: wall time from its exec
            to its exit, the file written beforehand
  post-C    POST /instances:batch of 1,000 entries from C owner
            connections at once (C = 1, 2, 4), each its own keep-alive
            connection, the bodies built beforehand
  put       PUT /instances/{uuid}, one connection, BENCH_BATCH_PUT
            (default 5,000) registrations: the reference, one commit each

Each row gives registrations per second (median of the rounds, and the
spread) and the CPU seconds the broker and worker spent per 1,000.  The
machine is shared: the rates say how the ways compare in one run, and the
CPU columns what they cost; bench/README.md says more.  Markdown goes to
stdout, progress to stderr.  Only the daemons' owner sockets are used,
and only processes started here are signalled, by pid.
"""
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import sealmd_fixture as fx  # noqa: E402

N = int(os.environ.get("BENCH_BATCH_N", "100000"))
PUT_N = int(os.environ.get("BENCH_BATCH_PUT", "5000"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
BATCH = 1000
CLIENTS = (1, 2, 4)
TIMEOUT = 600


def note(msg):
    print(msg, file=sys.stderr, flush=True)


def lines(n, base=0):
    return [json.dumps({"id": fx.uuid4(), "project_id": "bench",
                        "addresses": [f"10.{i >> 16 & 255}.{i >> 8 & 255}."
                                      f"{i & 255}"]}) + "\n"
            for i in range(base, base + n)]


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


class Owner(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=TIMEOUT)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(self.path)


def post_all(d, bodies, clients):
    """Each client posts every clients-th body on its own connection."""
    errors = []

    def run(k):
        conn = Owner(d.socket)
        try:
            for body in bodies[k::clients]:
                conn.request("POST", "/instances:batch", body=body)
                r = conn.getresponse()
                data = r.read()
                if r.status != 200:
                    errors.append((r.status, data[:200]))
                    return
        finally:
            conn.close()

    ts = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"POST /instances:batch: {errors[0]}")


def put_all(d, ls):
    """One PUT at a time; a new connection every 1,000, well within
    owner_conn_requests (4,096 by default)."""
    conn = None
    try:
        for k, ln in enumerate(ls):
            if k % 1000 == 0:
                if conn is not None:
                    conn.close()
                conn = Owner(d.socket)
            e = json.loads(ln)
            iid = e.pop("id")
            conn.request("PUT", f"/instances/{iid}", body=json.dumps(e))
            r = conn.getresponse()
            r.read()
            if r.status != 201:
                raise RuntimeError(f"PUT: {r.status}")
    finally:
        if conn is not None:
            conn.close()


def measure(name, n, run):
    """One fresh daemon; run(d) registers n; (rate, cpu per 1,000)."""
    d = fx.Daemon(limits={"rate": 0}).start()
    try:
        pids = (d.proc.pid, d.worker_pid())
        c0 = [cpu_s(p) for p in pids]
        t0 = time.monotonic()
        run(d)
        t = time.monotonic() - t0
        c1 = [cpu_s(p) for p in pids]
        st, js = d.owner("GET", "/status")
        if st != 200 or js["instances"] != n:
            raise RuntimeError(f"{name}: {js.get('instances')} of {n}")
    finally:
        d.cleanup()
    cpu = [(b - a) * 1000 / n for a, b in zip(c0, c1)]
    note(f"  {name}: {n / t:,.0f}/s ({t:.2f} s), CPU per 1,000: broker "
         f"{cpu[0]:.3f} s, worker {cpu[1]:.3f} s")
    return n / t, cpu


def main():
    note(f"bench-batch: {N:,} instances, {ROUNDS} rounds, load average "
         f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ls = lines(N)
    bodies = ["".join(ls[i:i + BATCH]).encode()
              for i in range(0, N, BATCH)]
    tmp = os.path.join(fx.tempfile.gettempdir(),
                       f"sealmd-bench-batch-{os.getpid()}.ndjson")
    with open(tmp, "w") as f:
        f.writelines(ls)

    def ctl(d):
        subprocess.run([fx.SEALMDCTL, "-s", d.socket, "instance", "import",
                        tmp], check=True, capture_output=True,
                       timeout=TIMEOUT)

    rows = {"import": []}
    rows.update({f"post-{c}": [] for c in CLIENTS})
    rows["put"] = []
    try:
        for rnd in range(ROUNDS):
            note(f"round {rnd + 1} of {ROUNDS}")
            rows["import"].append(measure("import", N, ctl))
            for c in CLIENTS:
                rows[f"post-{c}"].append(measure(
                    f"post-{c}", N,
                    lambda d, c=c: post_all(d, bodies, c)))
            rows["put"].append(measure("put", PUT_N,
                                       lambda d: put_all(d, ls[:PUT_N])))
    finally:
        os.unlink(tmp)
    print(f"| way | registrations/s, median (spread) | broker CPU s "
          f"per 1,000 | worker CPU s per 1,000 |")
    print("|---|---|---|---|")
    for name, rs in rows.items():
        rates = [r for r, _ in rs]
        print(f"| {name} | {statistics.median(rates):,.0f} "
              f"({min(rates):,.0f} to {max(rates):,.0f}) | "
              f"{statistics.median(c[0] for _, c in rs):.3f} | "
              f"{statistics.median(c[1] for _, c in rs):.3f} |")
    print(f"\n{N:,} instances per row ({PUT_N:,} for put), {ROUNDS} "
          f"rounds, load average {os.getloadavg()[0]:.1f} at the end on "
          f"{os.cpu_count()} CPUs.")


if __name__ == "__main__":
    main()
