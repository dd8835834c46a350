# SPDX-License-Identifier: ISC
"""Runs last (alphabetical): no posted value, in any encoding, is in any
log output or raw store file; no expected proxy signature or key is in a
log; the audit log still records every operation with a fingerprint.

Besides its own daemon, it checks what every other test module's daemons
left behind (sealmd_fixture.ARCHIVE) for every canary they posted
(sealmd_fixture.CANARIES) and every signature they computed."""
import base64
import binascii
import hashlib
import os
import re
import unittest

import sealmd_fixture as fx
from sealmd_fixture import Daemon, canary, uuid4

PW = "/openstack/latest/password"
FP = re.compile(r"fp=([0-9a-f]{16})\b")


def encodings(value):
    """The forms a leaked value could take in a text log or a file."""
    raw = value.encode() if isinstance(value, str) else value
    forms = {raw, base64.b64encode(raw), binascii.hexlify(raw),
             base64.urlsafe_b64encode(raw).rstrip(b"=")}
    if len(raw) >= 24:
        # Any 24-byte window of a long value (chunk boundaries).
        forms |= {raw[i:i + 24] for i in range(0, len(raw) - 23, 24)}
    return {f for f in forms if len(f) >= 8}


class Secrets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(guests=(("proxy", "127.0.0.1"),
                               ("direct", "127.0.0.1"))).start()

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"

    def assert_absent(self, needles, haystack, where):
        for n in needles:
            for form in encodings(n):
                self.assertNotIn(form, haystack,
                                 f"{form[:40]!r} found in {where}")

    def test_no_secret_in_logs_or_store(self):
        d = self.d
        proxy_port, direct_port = d.ports
        a, b = uuid4(), uuid4()
        self.assertEqual(d.register(a, "proj-sec")[0], 201)
        self.assertEqual(d.register(b, "proj-sec",
                                    addresses=["127.0.0.12"])[0], 201)
        ha = d.proxy_headers(a, "proj-sec")
        sig_a = ha["X-Instance-ID-Signature"]
        sig_b = d.sign(b)
        secret_a = canary("zz-proxy") + "-é中-" + canary("zz-tail")
        secret_b = canary("zz-direct")
        rejected = [canary("zz-409"), canary("zz-toolong") * 30,
                    canary("zz-badutf8"), canary("zz-badsig"),
                    canary("zz-unknown")]
        posted = [secret_a, secret_b] + rejected

        # The accepted writes, through each identity mode.
        self.assertEqual(d.guest("POST", PW, body=secret_a.encode(),
                                 headers=ha, port=proxy_port)[0], 200)
        self.assertEqual(d.guest("POST", PW, body=secret_b.encode(),
                                 port=direct_port, source="127.0.0.12")[0],
                         200)
        # Refused writes carrying other values.
        self.assertEqual(d.guest("POST", PW, body=rejected[0].encode(),
                                 headers=ha)[0], 409)
        c = uuid4()
        self.assertEqual(d.register(c, "proj-sec")[0], 201)
        hc = d.proxy_headers(c, "proj-sec")
        self.assertEqual(d.guest("POST", PW, body=rejected[1].encode(),
                                 headers=hc)[0], 400)
        self.assertEqual(d.guest("POST", PW, body=rejected[2].encode() +
                                 b"\xff", headers=hc)[0], 400)
        # A signature for another instance, and a bad one.
        self.assertEqual(d.guest("POST", PW, body=rejected[3].encode(),
                                 headers=dict(hc, **{
                                     "X-Instance-ID-Signature": sig_a}))[0],
                         403)
        self.assertEqual(d.guest("POST", PW, body=rejected[3].encode(),
                                 headers=dict(hc, **{
                                     "X-Instance-ID-Signature": "f" * 64}))[0],
                         403)
        self.assertEqual(d.guest("POST", PW, body=rejected[4].encode(),
                                 headers=d.proxy_headers(uuid4(),
                                                         "proj-sec"))[0], 404)
        # Reads through every path.
        self.assertEqual(d.guest("GET", PW, headers=ha)[2],
                         secret_a.encode())
        self.assertEqual(d.guest("GET", PW, port=direct_port,
                                 source="127.0.0.12")[2], secret_b.encode())
        self.assertEqual(d.owner("GET", f"/servers/{a}/os-server-password"),
                         (200, {"password": secret_a}))
        r = d.ctl("get", b)
        self.assertEqual(r.stdout, secret_b.encode() + b"\n")
        self.assertEqual(d.owner("DELETE",
                                 f"/servers/{b}/os-server-password")[0], 204)

        # While running: the raw database and its WAL hold none of it.
        files = d.raw_files()
        self.assertTrue(any(p.endswith(".db") or p.startswith("pg_dump")
                            for p in files))
        for path, data in files.items():
            self.assert_absent(posted, data, path + " (running)")

        self.assertEqual(d.stop(), 0)
        log = d.all_logs()
        for path, data in d.raw_files().items():
            self.assert_absent(posted, data, path + " (stopped)")
        self.assert_absent(posted, log, "log")

        # No signature (expected for a, b or c), no proxy secret, no key.
        for sig in (sig_a, sig_b, d.sign(c)):
            self.assertNotIn(sig.encode(), log)
            self.assertNotIn(sig.upper().encode(), log)
        self.assertNotIn(d.secret, log)
        with open(os.path.join(d.state, "keys", "1"), "rb") as f:
            key = f.read()
        for form in (key, binascii.hexlify(key), base64.b64encode(key)):
            self.assertNotIn(form, log)

        # But the audit trail is there, with fingerprints.
        text = log.decode("utf-8", "replace")
        put_ok = re.findall(r"audit op=guest\.pw\.put listener=guest:\S+ "
                            r"peer=127\.0\.0\.\d+:\d+ instance=(\S+) "
                            r"status=200 fp=([0-9a-f]{16})\n", text)
        self.assertEqual(sorted(i for i, _ in put_ok), sorted([a, b]))
        fps = {i: fp for i, fp in put_ok}
        self.assertNotEqual(fps[a], fps[b])
        for i, value in ((a, secret_a), (b, secret_b)):
            raw = value.encode()
            for unkeyed in (hashlib.blake2b(raw, digest_size=8).hexdigest(),
                            hashlib.blake2b(raw, digest_size=32).hexdigest(),
                            hashlib.sha256(raw).hexdigest(),
                            hashlib.md5(raw).hexdigest()):
                self.assertNotEqual(fps[i], unkeyed[:16])
        self.assertRegex(text, rf"op=guest\.pw\.put .*instance={a} "
                         r"status=409 fp=-")
        self.assertRegex(text, rf"op=guest\.pw\.put .*instance={c} "
                         r"status=400 fp=-")
        self.assertRegex(text, r"op=guest\.pw\.put .*status=403 fp=-")
        self.assertRegex(text, r"op=guest\.pw\.put .*status=404 fp=-")
        self.assertRegex(text, rf"op=guest\.pw\.get .*instance={a} "
                         r"status=200 fp=-")
        self.assertRegex(text, rf"op=guest\.pw\.get listener=guest:\S+ "
                         rf"peer=127\.0\.0\.12:\d+ instance={b} status=200")
        self.assertRegex(text, rf"op=owner\.pw\.get listener=owner:\S+ "
                         rf"peer=uid=\d+,gid=\d+,pid=\d+ instance={a} "
                         r"status=200")
        self.assertRegex(text, rf"op=owner\.pw\.get .*instance={b} "
                         r"status=200")
        self.assertRegex(text, rf"op=owner\.pw\.clear .*instance={b} "
                         r"status=204")
        self.assertRegex(text, rf"op=owner\.instance\.put .*instance={c} "
                         r"status=201")
        # Each audit line is one line of logfmt, nothing else attached.
        for line in text.splitlines():
            if " audit " in line:
                self.assertRegex(line, r"audit op=\S+ listener=\S+ peer=\S+ "
                                 r"instance=\S+ status=\d{3} fp=(-|[0-9a-f]"
                                 r"{16})$")

    def test_zz_everything_the_other_tests_left(self):
        """Every log and raw store file from the whole run, against every
        canary and every expected signature computed in the run."""
        if not fx.ARCHIVE:
            self.skipTest("no other test module ran in this process")
        canaries = [c for c in fx.CANARIES if len(c.encode()) >= 12]
        self.assertTrue(canaries)
        # The archive is real: daemons logged accepted writes in it.
        self.assertTrue(any(re.search(rb"op=guest\.pw\.put .* status=200 "
                                      rb"fp=[0-9a-f]{16}", e["log"])
                            for e in fx.ARCHIVE))
        self.assertTrue(any(e["files"] for e in fx.ARCHIVE))
        sigs = [s.encode() for s in fx.SIGNATURES]
        for entry in fx.ARCHIVE:
            where = f"{entry['state']} ({entry['when']})"
            self.assert_absent(canaries, entry["log"], "log of " + where)
            for sig in sigs:
                self.assertNotIn(sig, entry["log"], "log of " + where)
            for path, data in entry["files"].items():
                self.assert_absent(canaries, data, f"{path} ({entry['when']})")


if __name__ == "__main__":
    unittest.main()
