# SPDX-License-Identifier: ISC
"""The hostile request corpus (tests/hostile/corpus.py) against one running
daemon with proxy identity.

Every case runs on a fresh connection.  After each, the daemon must still
answer a valid request, the worker must not have been restarted, and the
store must hold exactly what it held before (Daemon.store_snapshot()).
Prints "hostile corpus: N passed, N failed"; the test fails if any failed.
SEALMD_CORPUS=substr runs only the cases whose name contains substr.
"""
import os
import re
import socket
import sys
import time
import unittest

from sealmd_fixture import Daemon, canary, uuid4

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))
import corpus  # noqa: E402

GET_ROOT = corpus.ROOT
# Short phase timeouts so that the timeout cases stay quick; idle long
# enough that an "open" check never races the keep-alive timer.
LIMITS = {"header_timeout_ms": 2000, "body_timeout_ms": 1000,
          "idle_timeout_ms": 10000}


# Where an expected answer may come from (tests/hostile/README.md), and
# what it must never be: the implementation describing itself.
RULE_SOURCE = re.compile(r"RFC (9110|9112|6585|3629|3986) §\d|"
                         r"nova-compat §\d|README")
NOT_A_RULE = re.compile(r"worker|http\.c|\.c\b|implementation|DESIGN",
                        re.I)


class CaseFailed(Exception):
    pass


class CorpusRules(unittest.TestCase):
    """Every case states the rule its expected answer comes from."""

    def test_every_case_cites_its_rule(self):
        bad = []
        for case in corpus.CASES:
            rule = case.get("rule", "")
            if not RULE_SOURCE.search(rule) or NOT_A_RULE.search(rule):
                bad.append(f"{case['name']}: {rule!r}")
        self.assertEqual(bad, [], "cases without a cited rule (an RFC "
                         "section, nova-compat §N, or the README)")


class HostileCorpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(limits=LIMITS).start()
        d = cls.d
        cls.a = {"iid": uuid4(), "tenant": "proj-hostile-a"}
        cls.b = {"iid": uuid4(), "tenant": "proj-hostile-b"}
        for inst in (cls.a, cls.b):
            st, _ = d.register(inst["iid"], inst["tenant"])
            assert st == 201, st
            inst["sig"] = d.sign(inst["iid"])
        cls.value_set = canary("hostile-set").encode()
        st, _, _ = d.guest("POST", corpus.PW.decode(), body=cls.value_set,
                           headers=d.proxy_headers(cls.b["iid"],
                                                   cls.b["tenant"]))
        assert st == 200, st
        cls.worker = d.worker_pid()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    # --- placeholders ----------------------------------------------------
    def subst(self, data):
        a, b = self.a, self.b

        def lines(i):
            return (f"X-Instance-ID: {i['iid']}\r\nX-Tenant-ID: "
                    f"{i['tenant']}\r\nX-Instance-ID-Signature: "
                    f"{i['sig']}\r\n").encode()
        table = {
            b"{{IDENT}}": lines(a), b"{{IDENT_SET}}": lines(b),
            b"{{IID}}": a["iid"].encode(), b"{{TENANT}}": a["tenant"].encode(),
            b"{{SIG}}": a["sig"].encode(),
            b"{{SIG_UPPER}}": a["sig"].upper().encode(),
            b"{{IID_SET}}": b["iid"].encode(),
            b"{{TENANT_SET}}": b["tenant"].encode(),
            b"{{SIG_SET}}": b["sig"].encode(),
            b"{{VALUE_SET}}": self.value_set,
        }
        for k, v in table.items():
            data = data.replace(k, v)
        if b"{{" in data:
            raise CaseFailed(f"unknown placeholder in {data[:200]!r}")
        return data

    # --- one case ------------------------------------------------------------
    def send(self, c, data, split):
        try:
            if split:
                for i in range(len(data)):
                    c.sock.sendall(data[i:i + 1])
                    if i % 16 == 15:
                        time.sleep(0.001)
            else:
                c.sock.sendall(data)
        except OSError:
            # The daemon may close as soon as it has seen enough.
            pass

    def run_case(self, case):
        segs = case["raw"] if isinstance(case["raw"], list) else [case["raw"]]
        segs = [self.subst(s) for s in segs]
        wait = case.get("wait", 3.0)
        head = case.get("head", False)
        bodies = case.get("bodies")
        got = []
        c = self.d.conn(timeout=wait)
        try:
            self.send(c, segs[0], case.get("split"))
            for want in case.get("interim", []):
                r = c.read_response(interim=True, timeout=wait)
                if r is None or r.status != want:
                    raise CaseFailed(f"interim: want {want}, got "
                                     f"{r and r.status}")
            for s in segs[1:]:
                self.send(c, s, case.get("split"))
            if case.get("eof"):
                try:
                    c.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            for i, want in enumerate(case["expect"]):
                r = c.read_response(head=head, timeout=wait,
                                    interim=case.get("no_interim", False))
                if r is None:
                    raise CaseFailed(
                        f"answer {i + 1}: want {want}, got none "
                        f"(eof={c.eof}); answers so far {got}")
                got.append(r.status)
                if case.get("no_interim") and 100 <= r.status < 200:
                    raise CaseFailed(f"unexpected interim {r.status}")
                ok = want if isinstance(want, tuple) else (want,)
                if r.status not in ok:
                    raise CaseFailed(f"answer {i + 1}: want {want}, got "
                                     f"{r.status} {r.body[:120]!r}")
                if r.header("Location") is not None:
                    raise CaseFailed("answer carries Location")
                if bodies and bodies[i] is not None and \
                        r.body != self.subst(bodies[i]):
                    raise CaseFailed(f"answer {i + 1}: body {r.body[:120]!r}"
                                     f" != {self.subst(bodies[i])[:120]!r}")
            if case["after"] == "close":
                if not c.closed(timeout=wait):
                    extra = c.read_response(timeout=0.2)
                    raise CaseFailed(
                        f"connection not closed after {got} (extra answer:"
                        f" {extra and extra.status})")
            else:
                self.check_open(c, got)
        finally:
            c.close()
        return got

    def check_open(self, c, got):
        # No extra answer (a smuggled request) and no close...
        deadline = time.monotonic() + 0.1
        before = len(c.buf)
        while c._fill(deadline):
            pass
        if c.eof:
            raise CaseFailed(f"closed after {got}, want keep-alive")
        if len(c.buf) != before:
            raise CaseFailed(f"extra bytes after {got}: {c.buf[:120]!r}")
        # ...and the framing is still in step.
        try:
            c.send(GET_ROOT)
        except OSError as e:
            raise CaseFailed(f"send on kept-alive connection: {e}")
        r = c.read_response()
        if r is None or r.status != 200 or r.body != corpus.EC2_ROOT:
            raise CaseFailed(f"follow-up GET / on the same connection: "
                             f"{r}")

    # --- invariants after a case ------------------------------------------
    def check_daemon(self, digest):
        d = self.d
        with d.conn() as c:
            c.send(GET_ROOT)
            r = c.read_response()
        if r is None or r.status != 200:
            raise CaseFailed(f"daemon no longer answers GET /: {r}")
        st, _, body = d.guest("GET", corpus.PW.decode(),
                              headers=d.proxy_headers(self.b["iid"],
                                                      self.b["tenant"]))
        if (st, body) != (200, self.value_set):
            raise CaseFailed(f"valid password read now gives {st} {body!r}")
        if re.search(r"killing worker|worker \d+ (exited|killed)",
                     d.log()):
            raise CaseFailed("the worker died or was killed")
        now, snap = d.store_snapshot()
        if now != digest:
            # Put things back so later cases start from the same store.
            d.owner("DELETE", f"/servers/{self.a['iid']}/os-server-password")
            raise CaseFailed(f"store changed: {snap['pw']}")

    def test_corpus(self):
        names = [c["name"] for c in corpus.CASES]
        self.assertEqual(len(names), len(set(names)), "duplicate names")
        self.assertGreaterEqual(len(corpus.CASES), 80)
        only = os.environ.get("SEALMD_CORPUS")
        digest, _ = self.d.store_snapshot()
        passed, failed = 0, []
        t0 = time.monotonic()
        for case in corpus.CASES:
            if only and only not in case["name"]:
                continue
            t1 = time.monotonic()
            try:
                got = self.run_case(case)
                self.check_daemon(digest)
                passed += 1
            except Exception as e:     # noqa: BLE001 -- one case, not all
                if not isinstance(e, CaseFailed):
                    e = CaseFailed(f"{type(e).__name__}: {e}")
                failed.append((case, str(e)))
                print(f"FAIL {case['name']} [{case['group']}]: {e}\n"
                      f"     rule: {case['rule']}", flush=True)
                got = None
            if got is not None and os.environ.get("SEALMD_CORPUS_VERBOSE"):
                print(f"ok   {case['name']}: {got} "
                      f"({time.monotonic() - t1:.2f} s)", flush=True)
        print(f"hostile corpus: {passed} passed, {len(failed)} failed "
              f"({time.monotonic() - t0:.1f} s)", flush=True)
        self.assertEqual(self.d.worker_pid(), self.worker,
                         "worker restarted during the corpus")
        if failed:
            self.fail("hostile corpus failures:\n" + "\n".join(
                f"  {c['name']}: {why}" for c, why in failed))


if __name__ == "__main__":
    unittest.main()
