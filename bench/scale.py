#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make bench-scale: sealmd with a large registry against a small one.

Two daemons alike but for their registry, side by side in one run: "big"
gets BENCH_SCALE_N instances (default 1,000,000) through the owner API,
"small" gets 1,000.  Then, for each where it applies:

  1. registration rate: POST /instances:batch (1,000 a request) when the
     daemon has it, else PUT /instances/{uuid}; with the batch endpoint,
     the last BENCH_SCALE_PUT_REF registrations (default 20,000) go
     through single PUTs, as a reference row
  2. store size per instance: (SQLite db + WAL bytes) / instances
  3. broker and worker RSS: after registering, and at idle after a
     restart on the populated store
  4. start-up: exec to READY=1 on the populated store (a restart),
     BENCH_ROUNDS times each, medians
  5. guest GET p50/p99 through the proxy listener, each request for a
     random instance of 1,000 that hold a value, the big store against
     the small one in alternating order (BENCH_ROUNDS runs of
     BENCH_SECONDS each): target p99 big / small <= 1.5
  6. owner listing of the whole registry with `sealmdctl list` (it
     follows the `next` links), its time, and the worker's and broker's
     peak RSS meanwhile (VmHWM, reset just before through clear_refs)

The Markdown table goes to stdout, progress to stderr, everything
measured to bench/results/scale-<UTC timestamp>.json.  bench/README.md
says what each figure means.  Pinning, the quiet-machine checks and the
servers are bench/run.py's.  Only 127.0.0.1 and the daemons' owner
sockets are contacted; only processes started here are signalled, by pid.
"""
import datetime
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as br  # noqa: E402

N = int(os.environ.get("BENCH_SCALE_N", "1000000"))
PUT_REF = int(os.environ.get("BENCH_SCALE_PUT_REF", "20000"))
SMALL = 1000            # the reference registry
SAMPLE = 1000           # instances given a value, the GET targets
BATCH = 1000            # entries per POST /instances:batch (its maximum)
BATCH_CLIENTS = 4       # owner connections posting batches: the broker
                        # holds 4 at once; the worker sends 2 at a time
POST_CLIENTS = 8        # guest connections posting the sample's values
PROBE_CONNS = br.PROBE_CONNS
SECONDS = br.SECONDS
ROUNDS = br.ROUNDS
START_TIMEOUT = 120     # seconds to READY on a large store
LIST_TIMEOUT = 3600
P99_TARGET = 1.5

# Each request() is a GET for a random instance of the pool file (an
# id and its signature a line), through the proxy listener as
# nova-api-metadata would send it.
LUA_GET = br.LUA_PROBE + br.LUA_POOL + r"""
function request()
  local k = math.random(n)
  return wrk.format("GET", "@PATH@", {
    ["X-Instance-ID"] = ids[k],
    ["X-Tenant-ID"] = project,
    ["X-Instance-ID-Signature"] = sigs[k],
  })
end
"""

note = br.note
fmt = br.fmt
median = br.median


class OwnerConn(http.client.HTTPConnection):
    """HTTP on the owner socket; reconnects there when the daemon closes
    a keep-alive connection (owner_conn_requests)."""

    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def entry(iid):
    return {"id": iid, "project_id": br.PROJECT, "addresses": []}


def batch_post(conn, ids, retries=50):
    """One POST /instances:batch of ids, retried after a 503 or a lost
    connection; (status, body) of the last answer."""
    body = "".join(json.dumps(entry(i)) + "\n" for i in ids).encode()
    for attempt in range(retries):
        try:
            conn.request("POST", "/instances:batch", body=body, headers={
                "Content-Type": "application/x-ndjson"})
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            data, r = b"", None
        if r is not None and r.status != 503:
            return r.status, data
        time.sleep(0.02 * (attempt + 1))
    raise RuntimeError(f"POST /instances:batch: no answer but 503 after "
                       f"{retries} tries")


def batch_probe(d, iid):
    """Registers iid through POST /instances:batch; False if the daemon
    has no such endpoint (404, 405), and then registers nothing."""
    conn = OwnerConn(d.socket)
    try:
        st, body = batch_post(conn, [iid])
    finally:
        conn.close()
    if st in (404, 405):
        return False
    if st // 100 != 2:
        raise RuntimeError(f"POST /instances:batch: {st} {body[:200]!r}")
    return True


def register_batch(d, ids):
    """ids in batches of BATCH from BATCH_CLIENTS connections; every batch
    must be answered 2xx (all-or-nothing per batch)."""
    batches = [ids[k:k + BATCH] for k in range(0, len(ids), BATCH)]
    lock = threading.Lock()
    done = [0]

    def client(part):
        conn = OwnerConn(d.socket)
        try:
            for b in part:
                st, body = batch_post(conn, b)
                if st // 100 != 2:
                    raise RuntimeError(f"POST /instances:batch: {st} "
                                       f"{body[:200]!r}")
                with lock:
                    done[0] += len(b)
                    if done[0] % 100000 < BATCH:
                        note(f"registered {done[0]:,} of {len(ids):,} "
                             f"(batch)")
        finally:
            conn.close()

    t0 = time.monotonic()
    br.run_threads(client, [batches[k::BATCH_CLIENTS]
                            for k in range(BATCH_CLIENTS)], "registration")
    return time.monotonic() - t0


def register_put(d, ids):
    """Seconds for ids through PUT /instances/{uuid}, as bench/run.py
    registers its pool: 16 clients each pipelining 64 PUTs on a
    keep-alive connection."""
    done = threading.Event()
    progress = threading.Thread(target=put_progress,
                                args=(d, time.monotonic(), done),
                                daemon=True)
    t0 = time.monotonic()
    progress.start()
    try:
        br.owner_register(d.socket, ids)
    finally:
        done.set()
        progress.join()
    return time.monotonic() - t0


def put_progress(d, t0, done):
    """A line every 30 s while single PUTs run (from GET /status, which
    may meet a 503 while the registering clients fill the owner cap)."""
    while not done.wait(30):
        try:
            have = d.status().get("instances")
        except (OSError, RuntimeError, ValueError):
            continue
        note(f"{have:,} instances registered, "
             f"{time.monotonic() - t0:.0f} s into the single PUTs")


def register(d, n, put_ref):
    """n fresh instances; the registration rows for the table and the
    ids.  The first id probes for the batch endpoint."""
    ids = [br.fx.uuid4() for _ in range(n)]
    rows = []
    t0 = time.monotonic()
    have_batch = batch_probe(d, ids[0])
    if have_batch:
        nref = min(put_ref, n - 1)
        bulk = ids[1:n - nref]
        register_batch(d, bulk)
        secs = time.monotonic() - t0    # the probe's entry too
        rows.append({"path": "batch", "count": len(bulk) + 1,
                     "seconds": secs})
        if nref:
            rows.append({"path": "put", "count": nref,
                         "seconds": register_put(d, ids[n - nref:])})
    else:
        note("no POST /instances:batch here (404/405): single PUTs")
        rows.append({"path": "put", "count": n,
                     "seconds": register_put(d, ids)})
    for r in rows:
        r["per_s"] = r["count"] / r["seconds"] if r["seconds"] else None
        note(f"registered {r['count']:,} by {r['path']} in "
             f"{r['seconds']:.1f} s: {r['per_s']:,.0f}/s")
    st = d.status()
    if st.get("instances") != n + 1:    # + the seeded 127.0.0.1
        raise RuntimeError(f"/status counts {st.get('instances')} "
                           f"instances, not {n + 1}")
    return rows, ids


def post_values(d, ids):
    """The 344-byte value posted once to each of ids, through the proxy
    listener from POST_CLIENTS keep-alive connections."""
    def client(part):
        conn = http.client.HTTPConnection("127.0.0.1", d.port["proxy"],
                                          timeout=30)
        try:
            for iid in part:
                post_value(conn, d, iid)
        finally:
            conn.close()

    br.run_threads(client, [ids[k::POST_CLIENTS]
                            for k in range(POST_CLIENTS)], "posting values")


def post_value(conn, d, iid, retries=20):
    """One POST on conn, retried after a 503 or a lost connection."""
    hdrs = d.proxy_headers(iid, br.PROJECT)
    hdrs["Content-Type"] = "text/plain"
    for attempt in range(retries):
        try:
            conn.request("POST", br.PW_PATH, body=br.BODY, headers=hdrs)
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            time.sleep(0.05)
            continue
        if r.status == 200:
            return
        if r.status != 503:
            raise RuntimeError(f"POST value for {iid}: {r.status}")
        time.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"POST value for {iid}: no 200 after {retries} "
                       f"tries")


# --- /proc and the store ---------------------------------------------------

def proc_kib(pid, keys=("VmRSS", "VmHWM", "RssAnon", "RssFile")):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])
    return out


def reset_hwm(pid):
    """Resets VmHWM to the current RSS (clear_refs 5); False where the
    kernel or our privileges do not allow it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss(d):
    return {k: proc_kib(p) for k, p in d.pids().items() if p}


def store_bytes(d):
    out = {}
    for suffix in ("", "-wal", "-shm"):
        try:
            out["db" + suffix] = os.path.getsize(d.db + suffix)
        except OSError:
            out["db" + suffix] = 0
    return out


# --- the measurements ------------------------------------------------------

def restarts(daemons):
    """Exec to READY=1, and to the first guest answer, on each store as
    it is, ROUNDS times, the daemons alternating; the runs, and the RSS
    at idle after the last."""
    runs = {name: [] for name in daemons}
    for rnd in range(ROUNDS):
        for name in br.alternate(rnd, "big", "small"):
            d = daemons[name]
            d.stop()
            d.start(timeout=START_TIMEOUT)
            t1 = br.first_answer(d.port["direct"], time.monotonic() + 30)
            runs[name].append({"ready_ms": d.t_ready * 1e3,
                               "first_answer_ms": (t1 - d.t0) * 1e3})
    time.sleep(0.5)
    return {name: (runs[name], rss(d)) for name, d in daemons.items()}


def sample_file(d, ids, tmp, name):
    path = os.path.join(tmp, f"sample-{name}.txt")
    with open(path, "w") as f:
        for iid in ids:
            f.write(f"{iid} {d.sign(iid)}\n")
    return path


def scen_get(w, daemons, files):
    """The GET probe, the big and the small store alternating."""
    runs = {name: [] for name in daemons}
    for rnd in range(ROUNDS):
        for name in br.alternate(rnd, "big", "small"):
            d = daemons[name]
            argv = w.argv(d.port["proxy"], PROBE_CONNS, SECONDS,
                          script="scale", args=[files[name]])
            r = w.run(f"wrk GET probe, proxy, random instance ({name})",
                      argv, SECONDS, [p for p in d.pids().values() if p])
            if r["errors"] or r["err_status"]:
                raise RuntimeError(f"GET {name}: {r['errors']} errors, "
                                   f"{r['err_status']} bad statuses")
            runs[name].append(r)
            note(f"GET round {rnd + 1} {name}: p50 {r['lat_p50_us']} p99 "
                 f"{r['lat_p99_us']} us, {r['rps']:.0f} req/s, others "
                 f"{r['foreign_cpu_pct']}%")
    return runs


def listing(d, expect):
    """sealmdctl list over the whole registry: seconds, lines, and the
    peak RSS of the worker and broker meanwhile."""
    pids = {k: p for k, p in d.pids().items() if p}
    before = {k: proc_kib(p) for k, p in pids.items()}
    reset = {k: reset_hwm(p) for k, p in pids.items()}
    peak = {k: 0 for k in pids}
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            for k, p in pids.items():
                try:
                    peak[k] = max(peak[k], proc_kib(p, ("VmRSS",))["VmRSS"])
                except OSError:
                    pass
            stop.wait(0.01)

    th = threading.Thread(target=sampler, daemon=True)
    argv = [br.fx.SEALMDCTL, "-s", d.socket, "list"]
    br.remember("sealmdctl list", argv)
    th.start()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = 0
    while chunk := p.stdout.read(1 << 20):
        lines += chunk.count(b"\n")
    err = p.stderr.read()
    rc = p.wait(LIST_TIMEOUT)
    secs = time.monotonic() - t0
    stop.set()
    th.join()
    after = {k: proc_kib(p_) for k, p_ in pids.items()}
    if rc != 0 or lines != expect:
        raise RuntimeError(f"sealmdctl list: exit {rc}, {lines} lines, "
                           f"expected {expect}: {err[:400]!r}")
    out = {"seconds": secs, "instances": lines, "per_s": lines / secs,
           "before_kib": before, "after_kib": after,
           "hwm_reset": reset, "sampled_peak_rss_kib": peak}
    for k in pids:
        # VmHWM is the peak since the reset when it worked; else the
        # 10 ms samples are all there is.
        out.setdefault("peak_kib", {})[k] = (after[k]["VmHWM"] if reset[k]
                                             else peak[k])
        out.setdefault("peak_above_idle_kib", {})[k] = (
            out["peak_kib"][k] - before[k]["VmRSS"])
    note(f"listing {lines:,} instances: {secs:.2f} s, peak RSS "
         + ", ".join(f"{k} {v:,} KiB ({out['peak_above_idle_kib'][k]:+,})"
                     for k, v in out["peak_kib"].items()))
    return out


# --- report ------------------------------------------------------------------

def mib(kib):
    return None if kib is None else kib / 1024


def build_rows(res):
    rows = []

    def row(name, big, small, ratio="—", target="", met=None):
        rows.append({"figure": name, "big": big, "small": small,
                     "ratio": ratio, "target": target,
                     "verdict": "" if met is None else
                     ("met" if met else "missed")})

    for r in res["big"]["registration"]:
        what = ("`POST /instances:batch`, 1,000 a request, "
                f"{BATCH_CLIENTS} clients" if r["path"] == "batch" else
                f"single `PUT /instances/{{uuid}}`, {br.REG_THREADS} "
                f"clients pipelining {br.OWNER_PIPELINE}")
        row(f"Registration: {what}",
            f"{fmt(r['per_s'])}/s ({r['count']:,} in "
            f"{fmt(r['seconds'], 1)} s)",
            "—", target="≥ 20,000/s" if r["path"] == "batch" else "",
            met=r["per_s"] >= 20000 if r["path"] == "batch" else None)
    sz = {k: res[k]["store_after_registration"] for k in ("big", "small")}

    def per(k):
        b = sz[k]
        return (b["db"] + b["db-wal"]) / res[k]["instances"]
    row("Store size per instance (db + WAL)",
        f"{fmt(per('big'))} B ({fmt(sz['big']['db'] / 2**20, 1)} MiB db "
        f"+ {fmt(sz['big']['db-wal'] / 2**20, 1)} MiB WAL)",
        f"{fmt(per('small'))} B ({fmt(sz['small']['db'] / 2**20, 2)} MiB "
        f"db + {fmt(sz['small']['db-wal'] / 2**20, 2)} MiB WAL)")
    for who in ("broker", "worker"):
        reg = res["big"]["rss_after_registration"][who]
        row(f"{who.capitalize()} RSS after registering (peak)",
            f"{fmt(mib(reg['VmRSS']), 1)} MiB (peak "
            f"{fmt(mib(reg['VmHWM']), 1)})", "—")
        b, s = (res[k]["rss_idle"][who]["VmRSS"] for k in ("big", "small"))
        row(f"{who.capitalize()} RSS at idle after a restart",
            f"{fmt(mib(b), 2)} MiB", f"{fmt(mib(s), 2)} MiB",
            f"{b / s:.2f}×")
    rb, rs = (median([r["ready_ms"] for r in res[k]["restarts"]])
              for k in ("big", "small"))
    fb, fs = (median([r["first_answer_ms"] for r in res[k]["restarts"]])
              for k in ("big", "small"))
    row("Restart: exec to READY=1 (first answer)",
        f"{fmt(rb, 1)} ms ({fmt(fb, 1)} ms)",
        f"{fmt(rs, 1)} ms ({fmt(fs, 1)} ms)", f"{rb / rs:.2f}×")
    g = res["get"]
    b50, s50 = (median([r["lat_p50_us"] for r in g[k]])
                for k in ("big", "small"))
    b99, s99 = (median([r["lat_p99_us"] for r in g[k]])
                for k in ("big", "small"))
    ratio = b99 / s99 if b99 and s99 else None
    res["p99_ratio"] = ratio
    row("Guest GET, random instance: p99 (p50)",
        f"{fmt(b99)} µs ({fmt(b50)} µs)", f"{fmt(s99)} µs ({fmt(s50)} µs)",
        f"{fmt(ratio, 2)}× (p50 {fmt(b50 / s50 if s50 else None, 2)}×)",
        f"p99 ≤ {P99_TARGET}× the 1,000 store",
        ratio is not None and ratio <= P99_TARGET)
    lb, ls = res["big"]["listing"], res["small"]["listing"]
    row("Owner listing, `sealmdctl list`",
        f"{fmt(lb['seconds'], 2)} s ({fmt(lb['per_s'])}/s)",
        f"{fmt(ls['seconds'], 3)} s", f"{lb['seconds'] / ls['seconds']:.1f}×")
    for who in ("worker", "broker"):
        row(f"{who.capitalize()} peak RSS during the listing (above idle)",
            f"{fmt(mib(lb['peak_kib'][who]), 2)} MiB "
            f"({lb['peak_above_idle_kib'][who]:+,} KiB)",
            f"{fmt(mib(ls['peak_kib'][who]), 2)} MiB "
            f"({ls['peak_above_idle_kib'][who]:+,} KiB)",
            target="a few MiB above idle" if who == "worker" else "",
            met=(lb["peak_above_idle_kib"][who] <= 4096
                 if who == "worker" else None))
    return rows


def markdown(rows, info, res, stamp, outfile):
    out = [f"## sealmd scale benchmark, {stamp}\n",
           f"{res['big']['instances']:,} instances against "
           f"{res['small']['instances']:,}, SQLite, side by side.  "
           f"Machine: {info['nproc']} CPUs, {info['cpu_model']}, kernel "
           f"{info['kernel']}, {info['memory']}; state on "
           f"{info['state_fs']}.  Pinning: {info['pinning']}.  GET: "
           f"{ROUNDS} rounds of {SECONDS} s, wrk -c{PROBE_CONNS} pausing "
           f"{br.PROBE_DELAY_MS} ms between requests, medians; restarts: "
           f"{ROUNDS} each, medians.  Wall time "
           f"{res['wall_seconds']:.0f} s.\n"]
    for k in ("quiet_before", "quiet_after"):
        warn = br.quiet_text(res[k])
        if warn:
            out.append(f"**Warning ({k.replace('_', ' ')}):** {warn}.  "
                       f"Ratios taken side by side still compare, but "
                       f"absolute figures are low and noisy.\n")
    fr = {k: median([r["foreign_cpu_pct"] for r in res["get"][k]])
          for k in ("big", "small")}
    if max(fr.values()) > 10:
        out.append(f"**Warning:** other processes used {fmt(fr['big'])}% "
                   f"and {fmt(fr['small'])}% of a CPU during the GET runs "
                   f"(big, small; median).\n")
    out.append(f"| figure | {res['big']['instances']:,} instances | "
               f"{res['small']['instances']:,} instances | ratio | target "
               f"| |")
    out.append("|---|---|---|---|---|---|")
    for r in rows:
        out.append(f"| {r['figure']} | {r['big']} | {r['small']} | "
                   f"{r['ratio']} | {r['target']} | {r['verdict']} |")
    if res["p99_ratio"] is not None:
        out.append(f"\nGuest GET p99 ratio {res['p99_ratio']:.2f}×: "
                   + ("within" if res["p99_ratio"] <= P99_TARGET else
                      "NOT within")
                   + f" the target of {P99_TARGET}×.  Each run's p99 "
                   "(p50), in µs: " + "; ".join(
                       f"{k} " + ", ".join(f"{r['lat_p99_us']:,} "
                                           f"({r['lat_p50_us']:,})"
                                           for r in res["get"][k])
                       for k in ("big", "small")) + ".")
    lb = res["big"]["listing"]
    if not all(lb["hwm_reset"].values()):
        out.append("VmHWM could not be reset before the listing; its peaks "
                   "are 10 ms samples of VmRSS.")
    out.append("\nCommands:\n")
    out.append("```")
    for k, v in br.COMMANDS.items():
        out.append(f"# {k}\n{v}")
    out.append("```")
    out.append(f"\nEverything measured: {outfile}")
    return "\n".join(out)


def measure(d, name, n, tmp, files):
    """n instances registered in d, a value for a sample of them; the
    figures so far."""
    br.seed_direct(d)
    res = {"instances": n + 1}
    note(f"{name}: registering {n:,} instances")
    res["registration"], ids = register(d, n, PUT_REF if n > SMALL else 0)
    res["store_after_registration"] = store_bytes(d)
    sample = random.Random(n).sample(ids, min(SAMPLE, n))
    post_values(d, sample)
    res["rss_after_registration"] = rss(d)
    files[name] = sample_file(d, sample, tmp, name)
    note(f"{name}: store {res['store_after_registration']}, RSS "
         f"{res['rss_after_registration']}")
    return res


def main():
    if not os.access(br.WRK, os.X_OK) or not os.access(br.SEALMD, os.X_OK):
        sys.exit(f"bench-scale: needs wrk ({br.WRK}) and sealmd "
                 f"({br.SEALMD}); run make bench-scale")
    if N < SMALL:
        sys.exit(f"bench-scale: BENCH_SCALE_N={N} is below the "
                 f"reference's {SMALL}")
    if br.SERVER_CPU is not None:
        os.sched_setaffinity(0, {br.CLIENT_CPU})
    info = br.machine()
    res = {"quiet_before": br.quiet_check()}
    warn = br.quiet_text(res["quiet_before"])
    if warn:
        note("WARNING: " + warn)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y%m%dT%H%M%SZ")
    tmp = tempfile.mkdtemp(prefix="sealmd-bench-scale-")
    t_start = time.monotonic()
    daemons, files = {}, {}
    try:
        w = br.Wrk(tmp)
        path = os.path.join(tmp, "scale.lua")
        with open(path, "w") as f:
            f.write(LUA_GET.replace("@PROJECT@", br.PROJECT)
                    .replace("@PATH@", br.PW_PATH))
        w.scripts["scale"] = path
        for name, n in (("small", SMALL), ("big", N)):
            # In daemons before anything can fail: cleanup() stops it.
            daemons[name] = br.Sealmd().start()
            res[name] = measure(daemons[name], name, n, tmp, files)
        for name, (runs, idle) in restarts(daemons).items():
            res[name]["restarts"], res[name]["rss_idle"] = runs, idle
            note(f"{name}: restarts {res[name]['restarts']}, RSS at idle "
                 f"{res[name]['rss_idle']}")
        res["get"] = scen_get(w, daemons, files)
        for name, d in daemons.items():
            res[name]["listing"] = listing(d, res[name]["instances"])
            res[name]["store_at_end"] = store_bytes(d)
        for name, d in daemons.items():
            deaths = d.worker_deaths()
            res[name]["worker_deaths"] = deaths
            if deaths:
                note(f"{name}: the worker died during the run: {deaths}")
        res["quiet_after"] = br.quiet_check()
    finally:
        for d in daemons.values():
            d.cleanup()
        subprocess.run(["rm", "-rf", tmp], timeout=600)
    res["wall_seconds"] = time.monotonic() - t_start
    rows = build_rows(res)
    os.makedirs(br.OUT_DIR, exist_ok=True)
    outfile = os.path.join(br.OUT_DIR, f"scale-{stamp}.json")
    doc = {"timestamp": stamp, "machine": info, "n": N, "small": SMALL,
           "sample": SAMPLE, "seconds": SECONDS, "rounds": ROUNDS,
           "probe": {"conns": PROBE_CONNS, "delay_ms": br.PROBE_DELAY_MS},
           "commands": br.COMMANDS, "table": rows, "data": res}
    with open(outfile, "w") as f:
        json.dump(doc, f, indent=1, default=str)
    print(markdown(rows, info, res, stamp, os.path.relpath(outfile, br.TOP)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
