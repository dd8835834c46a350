# SPDX-License-Identifier: ISC
"""GET /metrics on the owner API: strict Prometheus text format, counters
that move by exactly the requests sent, and no instance id or secret in
any label; sealmdctl status shows the daemon's state."""
import json
import re
import signal
import time
import unittest

from sealmd_fixture import IS_ROOT, SANITIZE, Daemon, uuid4

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{{LABEL}(?:,{LABEL})*\}})? "
                    r"(-?[0-9.e+-]+|\+Inf|NaN)$")


def parse_prometheus(text):
    """Parse text format 0.0.4 strictly; return {(name, labels): value}."""
    assert text.endswith("\n"), "no final newline"
    types, helps, samples = {}, {}, {}
    for n, line in enumerate(text[:-1].split("\n"), 1):
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert re.fullmatch(NAME, name), f"{n}: bad name"
            assert name not in helps, f"{n}: HELP twice for {name}"
            helps[name] = line
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            assert len(parts) == 4, f"{n}: bad TYPE line"
            assert parts[3] in ("counter", "gauge", "histogram"), line
            assert parts[2] not in types, f"{n}: TYPE twice"
            types[parts[2]] = parts[3]
            continue
        assert not line.startswith("#"), f"{n}: stray comment"
        m = SAMPLE.match(line)
        assert m, f"{n}: not a sample: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        family = base if types.get(base) == "histogram" else name
        assert family in types, f"{n}: sample before its TYPE: {name}"
        key = (name, labels)
        assert key not in samples, f"{n}: duplicate sample {key}"
        samples[key] = float(value)
    for fam, t in types.items():
        if t != "histogram":
            continue
        buckets = sorted(((float(re.search(r'le="([^"]+)"', l).group(1)
                                 .replace("+Inf", "inf")), v)
                          for (nm, l), v in samples.items()
                          if nm == fam + "_bucket"))
        assert buckets and buckets[-1][0] == float("inf"), fam
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), f"{fam}: buckets not cumulative"
        assert samples[(fam + "_count", "")] == counts[-1], fam
    return samples


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(guests=(("proxy", "127.0.0.1"),
                               ("direct", "127.0.0.1")),
                       limits={"rate": 0, "header_timeout_ms": 500}).start()
        cls.iid = uuid4()
        cls.d.register(cls.iid, "met", addresses=["127.0.0.1"])

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def scrape(self):
        st, body = self.d.owner("GET", "/metrics")
        self.assertEqual(st, 200)
        return parse_prometheus(body.decode())

    def val(self, s, name, missing=None, **labels):
        """The sample's value.  A sample not there fails the test, unless
        the caller says what its absence means (missing=0.0: a counter
        not yet incremented, in a scrape taken before)."""
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for (n, l), v in s.items():
            got = ",".join(sorted(l.strip("{}").split(","))) if l else ""
            if n == name and got == want:
                return v
        if missing is None:
            self.fail(f"no sample {name}{{{want}}} in /metrics")
        return missing

    def test_counters_move_exactly(self):
        before = self.scrape()
        h = self.d.proxy_headers(self.iid, "met")
        for _ in range(3):
            self.assertEqual(self.d.guest(
                "GET", "/openstack/latest/password", headers=h)[0], 200)
        bad = self.d.proxy_headers(self.iid, "met", sig="0" * 64)
        self.assertEqual(self.d.guest("GET", "/openstack/latest/password",
                                      headers=bad)[0], 403)
        self.assertEqual(self.d.guest("POST", "/openstack/latest/password",
                                      body=b"m1", headers=h)[0], 200)
        after = self.scrape()
        diff = lambda name, **kw: (self.val(after, name, **kw) -
                                   self.val(before, name, missing=0.0,
                                            **kw))
        self.assertEqual(diff("sealmd_requests_total", op="guest.pw.get",
                              status="200"), 3)
        self.assertEqual(diff("sealmd_requests_total", op="guest.pw.get",
                              status="403"), 1)
        self.assertEqual(diff("sealmd_requests_total", op="guest.pw.put",
                              status="200"), 1)
        listener = f"guest:127.0.0.1:{self.d.ports[0]}"
        self.assertEqual(diff("sealmd_listener_requests_total",
                              listener=listener, status="200"), 4)
        self.assertEqual(diff("sealmd_store_commit_group_size_count"), 1)
        self.assertEqual(self.val(after, "sealmd_instances_registered"), 1)
        self.assertEqual(self.val(after, "sealmd_passwords_stored"), 1)

    def test_every_answer_counted(self):
        """Issue 14: what the worker answers alone (a scan's errors) is
        counted too, by listener and status, exactly once each."""
        h = self.d.proxy_headers(self.iid, "met")
        bad = self.d.proxy_headers(self.iid, "met", sig="0" * 64)

        def hdrs(d):
            return "".join(f"{k}: {v}\r\n" for k, v in d.items())
        broker = [
            f"GET /openstack/latest/password HTTP/1.1\r\n{hdrs(h)}\r\n",
            f"GET /openstack/latest/password HTTP/1.1\r\n{hdrs(bad)}\r\n",
            f"GET /openstack/latest/vendor_data.json HTTP/1.1\r\n"
            f"{hdrs(h)}\r\n",
        ]
        alone = [
            "GET / HTTP/1.1\r\n\r\n",
            "GARBAGE\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: " + "a" * 20000 + "\r\n\r\n",
            "GET /" + "a" * 9000 + " HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nExpect: x\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "POST /latest HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
            "GET / HTTP/1.1\r\n",  # never finished: 408
        ]
        before = self.scrape()
        sent, sent_alone = {}, {}
        for r in broker + alone:
            out = self.d.raw(r.encode(), timeout=5)
            m = re.match(rb"HTTP/1\.1 (\d{3}) ", out)
            self.assertIsNotNone(m, f"{r[:40]!r}: {out[:60]!r}")
            st = m.group(1).decode()
            sent[st] = sent.get(st, 0) + 1
            if r in alone:
                sent_alone[st] = sent_alone.get(st, 0) + 1
        self.assertIn("408", sent)
        self.assertIn("431", sent)
        st = str(self.d.owner("GET", "/no/such/route")[0])
        sent_alone[st] = sent_alone.get(st, 0) + 1
        after = self.scrape()

        def moved(name, **kw):
            out = {}
            for (n, l), v in after.items():
                m = re.search(r'status="(\w+)"', l)
                if n == name and all(f'{k}="{x}"' in l
                                     for k, x in kw.items()):
                    d = v - self.val(before, name, missing=0.0,
                                     status=m.group(1), **kw)
                    if d:
                        out[m.group(1)] = d
            return out
        listener = f"guest:127.0.0.1:{self.d.ports[0]}"
        got = moved("sealmd_listener_requests_total",
                    listener=listener)
        self.assertEqual(got, sent)
        self.assertEqual(sum(got.values()), len(broker) + len(alone))
        self.assertEqual(moved("sealmd_requests_total",
                               op="worker.alone"), sent_alone)

    def test_rate_limit_and_connections(self):
        d = Daemon(guests=(("direct", "127.0.0.1"),),
                   limits={"rate": 2, "burst": 2}).start()
        try:
            st, body = d.owner("GET", "/metrics")
            before = parse_prometheus(body.decode())
            codes = [d.guest("GET", "/openstack")[0] for _ in range(5)]
            self.assertIn(429, codes)
            st, body = d.owner("GET", "/metrics")
            after = parse_prometheus(body.decode())
        finally:
            d.cleanup()
        self.assertEqual(self.val(after, "sealmd_ratelimit_refusals_total") -
                         self.val(before, "sealmd_ratelimit_refusals_total"),
                         codes.count(429))
        self.assertGreaterEqual(self.val(
            after, "sealmd_connections_open", role="owner"), 1)
        self.assertGreaterEqual(self.val(
            after, "sealmd_channel_rtt_seconds_count"), 1)

    def test_no_instance_ids_or_secrets_in_labels(self):
        st, body = self.d.owner("GET", "/metrics")
        text = body.decode()
        self.assertNotIn(self.iid, text)
        self.assertNotIn(self.d.secret.decode(), text)
        self.assertNotIn(self.d.sign(self.iid), text)

    @unittest.skipUnless(IS_ROOT, "needs root to kill the worker's uid")
    def test_restarts_by_cause(self):
        before = self.scrape()
        # ASan catches a SIGSEGV, reports and exits 1 (cause "exit"):
        # a sanitizer build dies of SIGKILL instead.
        self.d.kill_worker(signal.SIGKILL if SANITIZE else signal.SIGSEGV)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                s = self.scrape()
                if self.val(s, "sealmd_worker_restarts_total",
                            cause="signal") > self.val(
                        before, "sealmd_worker_restarts_total",
                        cause="signal"):
                    break
            except (OSError, AssertionError):
                pass
            time.sleep(0.1)
        self.assertEqual(self.val(s, "sealmd_worker_restarts_total",
                                  cause="signal") -
                         self.val(before, "sealmd_worker_restarts_total",
                                  cause="signal"), 1)
        # Every cause is exported from the start: none may be missing.
        self.assertEqual(self.val(s, "sealmd_worker_restarts_total",
                                  cause="violation"),
                         self.val(before, "sealmd_worker_restarts_total",
                                  cause="violation"))

    def test_status(self):
        r = self.d.ctl("--json", "status")
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(r.stdout)
        for k in ("version", "uptime", "worker_pid", "worker_restarts",
                  "store", "store_state", "key_ids", "listener_list"):
            self.assertIn(k, st)
        self.assertEqual(st["store_state"], "ok")
        self.assertEqual(st["key_ids"], [1])
        # What each key seals, as key rotation needs to watch.
        self.assertEqual(list(st["key_values"]), ["1"])
        self.assertEqual(st["key_values"]["1"], st["passwords"])
        modes = sorted(l["mode"] for l in st["listener_list"])
        self.assertEqual(modes, ["direct", "owner", "proxy"])


if __name__ == "__main__":
    unittest.main()
