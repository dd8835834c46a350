#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make bench-pg: sealmd on PostgreSQL against sealmd on SQLite.

Two daemons alike but for [store]: one on a SQLite file, one on a
throwaway PostgreSQL cluster that this run starts (tests/pgtest.sh, a unix
socket, fsync on).  Round after round (BENCH_ROUNDS), in alternating
order, wrk runs GET keep-alive with 64 connections (BENCH_SECONDS each)
against one, then the other; the table gives the medians and the ratio
PostgreSQL / SQLite.  sealmd runs on cpu1 and wrk on cpu0 when there are
two CPUs, as in make bench; PostgreSQL's own processes are not pinned, and
their CPU is counted apart, as PostgreSQL's CPU per request, and so are
the statements sealmd's database committed (pg_stat_database), per
request.

What it shows: the price of reads across a connection.  With SQLite the
event loop reads the file itself; with PostgreSQL every guest GET goes to
a reader thread, which reads the GETs it takes from the queue together in
one prepared statement (the instances joined with their values).
Only 127.0.0.1 and the cluster's socket are contacted; only processes
started here are stopped, by pid.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as br  # noqa: E402

PGTEST = os.path.join(br.TOP, "tests", "pgtest.sh")


def main():
    pgdir = tempfile.mkdtemp(prefix="sealmd-bench-pg-")
    tmp = tempfile.mkdtemp(prefix="sealmd-bench-")
    subprocess.run([PGTEST, "start", pgdir], check=True, timeout=120)
    daemons = {}
    try:
        daemons["sqlite"] = br.Sealmd().start()
        daemons["postgresql"] = br.Sealmd(
            conninfo=br.fx.pg_newdb(pgdir)).start()
        for d in daemons.values():
            br.seed_direct(d)
        w = br.Wrk(tmp)
        runs = {name: [] for name in daemons}
        for rnd in range(br.ROUNDS):
            for name in br.alternate(rnd, "postgresql", "sqlite"):
                d = daemons[name]
                pgp = pg_pids(pgdir) if name == "postgresql" else []
                x0 = statements(pgdir, d) if pgp else 0
                c0 = br.cpu_ns(pgp)
                r = w.run(f"wrk GET keepalive ({name})",
                          w.argv(d.port["direct"], br.CONNS, br.SECONDS),
                          br.SECONDS, [p for p in d.pids().values() if p])
                r["pg_cpu_us_per_req"] = ((br.cpu_ns(pgp) - c0) / 1e3 /
                                          r["requests"]
                                          if r["requests"] else 0.0)
                r["pg_stmt_per_req"] = ((statements(pgdir, d) - x0) /
                                        r["requests"]
                                        if pgp and r["requests"] else 0.0)
                if r["errors"] or r["err_status"]:
                    raise RuntimeError(f"{name}: {r['errors']} errors, "
                                       f"{r['err_status']} bad statuses")
                runs[name].append(r)
                br.note(f"round {rnd + 1} {name}: {r['rps']:.0f} req/s, "
                        f"p99 {r['lat_p99_us']} us, sealmd "
                        f"{r['server_cpu_us_per_req']:.1f} us/req, "
                        f"PostgreSQL {r['pg_cpu_us_per_req']:.1f} us/req, "
                        f"{r['pg_stmt_per_req']:.3f} statements/req, "
                        f"others {r['foreign_cpu_pct']}% CPU")
        med = {name: {k: br.median([r[k] for r in rs])
                      for k in ("rps", "lat_p99_us",
                                "server_cpu_us_per_req",
                                "pg_cpu_us_per_req", "pg_stmt_per_req")}
               for name, rs in runs.items()}
        pg, sq = med["postgresql"], med["sqlite"]
        print(f"GET keep-alive, {br.CONNS} connections, {br.ROUNDS} rounds "
              f"of {br.SECONDS} s, medians\n")
        print("| | PostgreSQL | SQLite | PostgreSQL / SQLite |")
        print("|---|---|---|---|")
        print(f"| requests/s | {pg['rps']:.0f} | {sq['rps']:.0f} | "
              f"{pg['rps'] / sq['rps']:.2f} |")
        print(f"| p99 latency | {pg['lat_p99_us'] / 1000:.2f} ms | "
              f"{sq['lat_p99_us'] / 1000:.2f} ms | "
              f"{pg['lat_p99_us'] / sq['lat_p99_us']:.2f} |")
        pg_cpu = pg['server_cpu_us_per_req']
        sq_cpu = sq['server_cpu_us_per_req']
        print(f"| sealmd CPU per request | {pg_cpu:.1f} us | "
              f"{sq_cpu:.1f} us | {pg_cpu / sq_cpu:.2f} |")
        print(f"| PostgreSQL's CPU per request | "
              f"{pg['pg_cpu_us_per_req']:.1f} us | | |")
        print(f"| PostgreSQL statements per request | "
              f"{pg['pg_stmt_per_req']:.3f} | | |")
    finally:
        for d in daemons.values():
            d.cleanup()
        subprocess.run([PGTEST, "stop", pgdir], timeout=120)
        subprocess.run(["rm", "-rf", tmp], timeout=60)


def statements(pgdir, d):
    """Transactions committed on d's database so far: each of sealmd's
    reads is one statement in a transaction of its own."""
    db = d.conninfo.rsplit("dbname=", 1)[1]
    return int(br.fx.pg_sql(pgdir, "SELECT xact_commit FROM "
                            f"pg_stat_database WHERE datname = '{db}'"))


def pg_pids(pgdir):
    """The cluster's processes: the postmaster and its children."""
    with open(os.path.join(pgdir, "data", "postmaster.pid")) as f:
        pid = int(f.readline())
    return [pid] + br.children(pid)


if __name__ == "__main__":
    main()
