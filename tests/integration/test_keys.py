# SPDX-License-Identifier: ISC
"""Key rotation (issue 9): rotate, rewrap in bounded batches while the
daemon serves, retire only unused keys, and a kill -9 in the middle of a
rewrap leaves every value openable."""
import ctypes
import json
import os
import random
import secrets
import re
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

from sealmd_fixture import Daemon, canary, pg_bin, pg_sql, uuid4

PW = "/openstack/latest/password"


def _sodium():
    try:
        lib = ctypes.CDLL("libsodium.so.23")
    except OSError:
        return None
    return lib if lib.sodium_init() >= 0 else None


SODIUM = _sodium()


def rewrap(test, d, timeout=30):
    """Start a rewrap on d and wait until it has finished: GET /keys."""
    test.assertEqual(d.owner("POST", "/keys/rewrap")[0], 200)
    deadline = time.time() + timeout
    while time.time() < deadline:
        js = d.owner("GET", "/keys")[1]
        if not js["rewrap"]["running"]:
            return js
        time.sleep(0.05)
    test.fail("rewrap did not finish")


class Rotation(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(guests=(("proxy", "127.0.0.1"),),
                        limits={"rate": 0}, keep_state=True).start()
        self.addCleanup(self.cleanup)
        self.values = {}

    def cleanup(self):
        self.d.keep_state = False
        self.d.cleanup()

    def post(self, n):
        for _ in range(n):
            iid = uuid4()
            self.assertEqual(self.d.register(iid, "rot")[0], 201)
            v = f"value-{iid}".encode()
            h = self.d.proxy_headers(iid, "rot")
            self.assertEqual(self.d.guest("POST", PW, body=v,
                                          headers=h)[0], 200)
            self.values[iid] = v

    def keys(self):
        st, js = self.d.owner("GET", "/keys")
        self.assertEqual(st, 200)
        return js

    def all_open(self):
        for iid, v in self.values.items():
            st, js = self.d.owner("GET", f"/servers/{iid}/os-server-password")
            self.assertEqual((st, js), (200, {"password": v.decode()}), iid)

    def wait_rewrap(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            js = self.keys()
            if not js["rewrap"]["running"]:
                return js
            time.sleep(0.05)
        self.fail("rewrap did not finish")

    def test_rotate_rewrap_retire(self):
        self.post(40)
        js = self.keys()
        self.assertEqual((js["newest"], js["keys"]),
                         (1, [{"id": 1, "values": 40}]))
        st, js = self.d.owner("POST", "/keys/rotate")
        self.assertEqual((st, js["newest"]), (200, 2))
        self.assertTrue(os.path.exists(os.path.join(self.d.state, "keys",
                                                    "2")))
        self.assertEqual(os.stat(os.path.join(
            self.d.state, "keys", "2")).st_mode & 0o777, 0o600)
        self.post(5)                   # new values use key 2 at once
        js = self.keys()
        self.assertEqual(js["keys"], [{"id": 1, "values": 40},
                                      {"id": 2, "values": 5}])
        # Key 1 still seals values; key 2 is the newest.
        self.assertEqual(self.d.owner("DELETE", "/keys/1")[0], 409)
        self.assertEqual(self.d.owner("DELETE", "/keys/2")[0], 409)
        self.assertEqual(self.d.owner("DELETE", "/keys/7")[0], 404)
        self.assertEqual(self.d.owner("DELETE", "/keys/x")[0], 400)
        self.assertEqual(self.d.owner("POST", "/keys/rewrap")[0], 200)
        # Guests are served while it runs.
        some = next(iter(self.values))
        self.assertEqual(self.d.guest("GET", PW, headers=self.d.proxy_headers(
            some, "rot"))[2], self.values[some])
        js = self.wait_rewrap()
        self.assertEqual(js["keys"], [{"id": 1, "values": 0},
                                      {"id": 2, "values": 45}])
        self.assertEqual(js["rewrap"]["resealed"], 40)
        self.all_open()
        self.assertEqual(self.d.owner("DELETE", "/keys/1")[0], 204)
        self.assertFalse(os.path.exists(os.path.join(self.d.state, "keys",
                                                     "1")))
        self.assertEqual(self.keys()["keys"], [{"id": 2, "values": 45}])
        self.all_open()
        # And after a restart, with key 1 gone for good.
        self.d.stop()
        self.d = Daemon(state=self.d.state, keep_state=True,
                        limits={"rate": 0}).start()
        self.all_open()

    def test_kill_during_rewrap_loses_nothing(self):
        self.post(120)
        self.assertEqual(self.d.owner("POST", "/keys/rotate")[0], 200)
        rnd = random.Random(os.getpid())
        for cycle in range(3):
            self.assertEqual(self.d.owner("POST", "/keys/rewrap")[0], 200)
            time.sleep(rnd.uniform(0.0, 0.05))
            os.kill(self.d.proc.pid, signal.SIGKILL)
            self.d.proc.wait(10)
            self.d.stop()
            self.d = Daemon(state=self.d.state, keep_state=True,
                            limits={"rate": 0}).start()
            self.all_open()
        self.assertEqual(self.d.owner("POST", "/keys/rewrap")[0], 200)
        js = self.wait_rewrap()
        self.assertEqual(js["keys"][-1], {"id": 2, "values": 120})
        self.all_open()


class NoLongerOpens(unittest.TestCase):
    """A stored value that no longer opens, because the key that sealed it
    is gone or its row was altered: the owner and the guest get 500 (the
    owner's body says why), the log names the instance and the key id and
    never the value, and a rewrap leaves the row as it is."""

    def setUp(self):
        self.d = Daemon(limits={"rate": 0}, keep_state=True).start()
        self.addCleanup(self.cleanup)

    def cleanup(self):
        self.d.keep_state = False
        self.d.cleanup()

    def sql(self, query, params=()):
        """Rows of query, run behind the daemon's back."""
        if self.d.conninfo:
            ci = dict(kv.split("=", 1) for kv in self.d.conninfo.split())
            for p in params:
                query = query.replace("?", f"'{p}'", 1)
            out = pg_sql(ci["host"], query, db=ci["dbname"])
            return [tuple(r.split("|")) for r in out.splitlines()]
        db = sqlite3.connect(self.d.db)
        try:
            rows = [tuple(str(c) for c in r)
                    for r in db.execute(query, params)]
            db.commit()
            return rows
        finally:
            db.close()

    def rows(self, iid):
        hexf = "encode({}, 'hex')" if self.d.conninfo else "hex({})"
        return self.sql(f"SELECT idx, key_id, {hexf.format('nonce')}, "
                        f"{hexf.format('sealed')} FROM password_chunks "
                        "WHERE instance_id = ? ORDER BY idx", (iid,))

    def post(self, iid, value):
        self.assertEqual(self.d.register(iid, "gone")[0], 201)
        self.assertEqual(self.d.guest("POST", PW, body=value.encode(),
                                      headers=self.d.proxy_headers(
                                          iid, "gone"))[0], 200)

    def owner_get(self, iid):
        return self.d.owner("GET", f"/servers/{iid}/os-server-password")

    def assert_logged(self, text):
        self.assertTrue(self.d.wait_log(re.escape(text)), text)

    def start_again(self):
        self.d = Daemon(state=self.d.state, keep_state=True,
                        limits={"rate": 0}).start()

    def test_lost_key_and_altered_row(self):
        lost, altered, good = uuid4(), uuid4(), uuid4()
        values = {lost: canary("lost"), altered: canary("altered"),
                  good: canary("good")}
        self.post(lost, values[lost])               # key 1
        self.assertEqual(self.d.owner("POST", "/keys/rotate")[0], 200)
        self.post(altered, values[altered])         # key 2
        self.post(good, values[good])               # key 2
        self.d.stop()
        # Key 1 is lost; one bit of the altered value's ciphertext flips.
        key1 = os.path.join(self.d.state, "keys", "1")
        with open(key1, "rb") as f:
            key1_bytes = f.read()
        os.unlink(key1)
        if self.d.conninfo:
            self.sql("UPDATE password_chunks SET sealed = set_byte(sealed, "
                     "0, get_byte(sealed, 0) # 1) WHERE instance_id = ?",
                     (altered,))
        else:
            db = sqlite3.connect(self.d.db)
            (blob,), = db.execute("SELECT sealed FROM password_chunks "
                                  "WHERE instance_id = ?", (altered,))
            db.close()
            self.sql("UPDATE password_chunks SET sealed = ? WHERE "
                     "instance_id = ?", (bytes([blob[0] ^ 1]) + blob[1:],
                                         altered))
        before = {iid: self.rows(iid) for iid in (lost, altered)}
        self.start_again()

        for iid, key, why in ((lost, 1, "its key is not in the ring"),
                              (altered, 2, "altered")):
            self.assertEqual(self.owner_get(iid), (500, {
                "error": "the stored value does not open"}))
            st, _, body = self.d.guest("GET", PW, headers=self.d.
                                       proxy_headers(iid, "gone"))
            self.assertEqual(st, 500)
            self.assertNotIn(values[iid].encode(), body)
            r = self.d.ctl("get", iid)
            self.assertEqual((r.returncode, r.stdout), (1, b""), r.stderr)
            self.assert_logged(f"stored value of {iid} does not open "
                               f"(chunk 0, key {key}): {why}")
        self.assertEqual(self.owner_get(good),
                         (200, {"password": values[good]}))

        # A rewrap re-seals the good value and leaves the others alone.
        self.assertEqual(self.d.owner("POST", "/keys/rotate")[0], 200)
        js = rewrap(self, self.d)
        self.assertEqual(js["rewrap"]["resealed"], 1, js)
        self.assertEqual(js["keys"], [{"id": 2, "values": 1},
                                      {"id": 3, "values": 1}])
        for iid, key, why in ((lost, 1, "its key is not in the ring"),
                              (altered, 2, "altered")):
            self.assert_logged(f"rewrap: the value of {iid} does not "
                               f"open (chunk 0, key {key}): {why}")
            self.assertEqual(self.rows(iid), before[iid])
        self.assertEqual(self.owner_get(good),
                         (200, {"password": values[good]}))
        log = self.d.all_logs()
        for v in values.values():
            self.assertNotIn(v.encode(), log)

        # The lost key found again: its value opens, as it was.
        self.d.stop()
        with open(os.open(key1, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                          0o600), "wb") as f:
            f.write(key1_bytes)
        self.start_again()
        self.assertEqual(self.owner_get(lost),
                         (200, {"password": values[lost]}))
        self.assertEqual(self.owner_get(altered)[0], 500)

    def test_one_time_value_that_does_not_open_is_kept(self):
        """A one-time read takes the value before opening it: one that
        does not open is answered 500 and written back, not consumed."""
        iid = uuid4()
        value = canary("once-lost")
        self.assertEqual(self.d.owner("PUT", f"/instances/{iid}", {
            "project_id": "gone", "one_time_read": True})[0], 201)
        self.assertEqual(self.d.guest("POST", PW, body=value.encode(),
                                      headers=self.d.proxy_headers(
                                          iid, "gone"))[0], 200)
        self.assertEqual(self.d.owner("POST", "/keys/rotate")[0], 200)
        self.d.stop()
        key1 = os.path.join(self.d.state, "keys", "1")
        with open(key1, "rb") as f:
            key1_bytes = f.read()
        os.unlink(key1)
        before = self.rows(iid)
        self.start_again()
        self.assertEqual(self.owner_get(iid), (500, {
            "error": "the stored value does not open"}))
        # Written back by the writer, after the answer.
        self.assertTrue(self.d.wait_log(
            rf"op=pw\.one_time_restore .*instance={iid} status=200"),
            self.d.log())
        self.assertNotRegex(self.d.audit_log(),
                            rf"op=pw\.one_time_clear .*instance={iid}")
        self.assertEqual(self.rows(iid), before)
        self.assertNotIn(value.encode(), self.d.all_logs())
        # The key is back: the value opens, once.
        self.d.stop()
        with open(os.open(key1, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                          0o600), "wb") as f:
            f.write(key1_bytes)
        self.start_again()
        self.assertEqual(self.owner_get(iid), (200, {"password": value}))
        self.assertEqual(self.owner_get(iid), (200, {"password": ""}))

    def test_malformed_row(self):
        """A row the store itself refuses (here a nonce of one byte): a
        store error, 503, for that value only; the log names the
        instance; a rewrap leaves the row alone."""
        bad, good = uuid4(), uuid4()
        values = {bad: canary("malformed"), good: canary("fine")}
        self.post(bad, values[bad])
        self.post(good, values[good])
        self.d.stop()
        if self.d.conninfo:
            self.sql("UPDATE password_chunks SET nonce = '\\x00'::bytea "
                     "WHERE instance_id = ?", (bad,))
        else:
            self.sql("UPDATE password_chunks SET nonce = ? WHERE "
                     "instance_id = ?", (b"\x00", bad))
        before = self.rows(bad)
        self.start_again()

        self.assertEqual(self.owner_get(bad),
                         (503, {"error": "store unavailable"}))
        st, _, body = self.d.guest("GET", PW, headers=self.d.proxy_headers(
            bad, "gone"))
        self.assertEqual(st, 503)
        self.assertNotIn(values[bad].encode(), body)
        r = self.d.ctl("get", bad)
        self.assertEqual((r.returncode, r.stdout), (1, b""), r.stderr)
        self.assert_logged(f"instance {bad}: stored password has a "
                           "malformed shape")
        self.assertEqual(self.owner_get(good),
                         (200, {"password": values[good]}))
        self.assertEqual(self.d.owner("POST", "/keys/rotate")[0], 200)
        self.assertEqual(self.d.owner("POST", "/keys/rewrap")[0], 200)
        for _ in range(600):
            st, js = self.d.owner("GET", "/keys")
            if not js["rewrap"]["running"]:
                break
            time.sleep(0.05)
        self.assertEqual((js["rewrap"]["running"], js["rewrap"]["resealed"]),
                         (False, 1), js)
        self.assert_logged(f"rewrap: the value of {bad} cannot be read; "
                           "left as it is")
        self.assertEqual(self.rows(bad), before)
        self.assertEqual(self.owner_get(good),
                         (200, {"password": values[good]}))
        log = self.d.all_logs()
        for v in values.values():
            self.assertNotIn(v.encode(), log)

    def test_kind_and_set_at_are_sealed(self):
        # A database writer turns a value into a verifier (the owner
        # would be told there is only a verifier) or moves its set_at
        # (it would live past its TTL): neither opens any more.
        kind, when = uuid4(), uuid4()
        values = {kind: canary("kind"), when: canary("when")}
        self.post(kind, values[kind])
        self.post(when, values[when])
        self.d.stop()
        self.sql("UPDATE password_chunks SET kind = 1 WHERE instance_id = ?",
                 (kind,))
        self.sql("UPDATE password_chunks SET set_at = set_at + 86400 "
                 "WHERE instance_id = ?", (when,))
        self.start_again()
        for iid in (kind, when):
            self.assertEqual(self.owner_get(iid), (500, {
                "error": "the stored value does not open"}), iid)
            self.assert_logged(f"stored value of {iid} does not open "
                               "(chunk 0, key 1): altered")

    @unittest.skipIf(SODIUM is None, "libsodium.so.23 not loadable")
    def test_v1_seal_opens_and_rewrap_reseals_it(self):
        # A value sealed before format v2 (its AD without kind and
        # set_at), made here with key 1 as an older sealmd did.
        iid = uuid4()
        value = canary("v1").encode()
        self.post(iid, "placeholder")
        self.d.stop()
        with open(os.path.join(self.d.state, "keys", "1"), "rb") as f:
            key = f.read()
        ad = (b"sealmd-chunk-v1" + bytes([len(iid)]) + iid.encode() +
              bytes([0, 1]) + (1).to_bytes(4, "big"))
        nonce = secrets.token_bytes(24)
        ct = ctypes.create_string_buffer(len(value) + 16)
        clen = ctypes.c_ulonglong()
        self.assertEqual(SODIUM.crypto_aead_xchacha20poly1305_ietf_encrypt(
            ct, ctypes.byref(clen), value, ctypes.c_ulonglong(len(value)),
            ad, ctypes.c_ulonglong(len(ad)), None, nonce, key), 0)
        sealed = ct.raw[:clen.value]
        if self.d.conninfo:
            self.sql("UPDATE password_chunks SET nonce = ?::bytea, sealed = "
                     "?::bytea, seal_format = 1 WHERE instance_id = ?",
                     ("\\x" + nonce.hex(), "\\x" + sealed.hex(), iid))
        else:
            self.sql("UPDATE password_chunks SET nonce = ?, sealed = ?, "
                     "seal_format = 1 WHERE instance_id = ?",
                     (nonce, sealed, iid))
        self.start_again()
        self.assertEqual(self.owner_get(iid),
                         (200, {"password": value.decode()}))
        # Key 1 is the newest: only the old format makes it due.
        js = rewrap(self, self.d)
        self.assertEqual(js["rewrap"]["resealed"], 1, js)
        self.assertEqual(self.sql("SELECT seal_format FROM password_chunks "
                                  "WHERE instance_id = ?", (iid,)), [("2",)])
        self.assertEqual(self.owner_get(iid),
                         (200, {"password": value.decode()}))


class HeldWrites:
    """A session of the test's own that blocks the store's writes (not
    its reads) until release(): the writer waits with its jobs queued."""

    def __init__(self, d):
        self.p = self.con = None
        if d.conninfo:
            opts = dict(kv.split("=", 1) for kv in d.conninfo.split())
            self.p = subprocess.Popen(
                [pg_bin("psql"), "-h", opts["host"], "-U", opts["user"],
                 "-d", opts["dbname"], "-q", "-v", "ON_ERROR_STOP=1"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            self.p.stdin.write(b"BEGIN; LOCK TABLE password_chunks IN "
                               b"SHARE MODE; SELECT 1;\n")
            self.p.stdin.flush()
        else:
            self.con = sqlite3.connect(d.db, timeout=10,
                                       isolation_level=None)
            self.con.execute("BEGIN IMMEDIATE")

    def release(self):
        if self.p is not None and not self.p.stdin.closed:
            self.p.stdin.write(b"COMMIT;\n")
            self.p.stdin.close()
            self.p.wait(30)
        if self.con is not None:
            self.con.execute("COMMIT")
            self.con.close()
            self.con = None


class RetireWhileQueued(unittest.TestCase):
    """A value sealed by key k and still queued for the writer when k is
    retired: the retirement must count it (409), or the value would be
    written under a key that no longer exists."""

    def test_queued_put_keeps_its_key(self):
        d = Daemon(guests=(("proxy", "127.0.0.1"),), limits={"rate": 0})
        self.addCleanup(d.cleanup)
        d.start()
        # The PUT must be sealed before the rotation for the case to
        # arise; the store says afterwards which key sealed it, and a run
        # where the rotation came first is tried again.
        for attempt in range(5):
            iid = uuid4()
            self.assertEqual(d.register(iid, "rq")[0], 201)
            old = d.owner("GET", "/keys")[1]["newest"]
            value = f"queued-{iid}".encode()
            got = {}
            lock = HeldWrites(d)
            try:
                post = threading.Thread(target=lambda: got.update(
                    put=d.guest("POST", PW, body=value, headers=d.
                                proxy_headers(iid, "rq"))[0]))
                post.start()
                time.sleep(0.3)
                self.assertEqual(d.owner("POST", "/keys/rotate")[0], 200)
                retire = threading.Thread(target=lambda: got.update(
                    retire=d.owner("DELETE", f"/keys/{old}")[0]))
                retire.start()
                time.sleep(0.3)
            finally:
                lock.release()
            post.join(30)
            retire.join(30)
            if got.get("put") != 200:
                continue        # the writer gave up waiting: nothing stored
            st, js = d.owner("GET", f"/servers/{iid}/os-server-password")
            self.assertEqual((st, js), (200, {"password": value.decode()}),
                             f"key {old} retired: {got}")
            sealed_by_old = {"id": old, "values": 1} in \
                d.owner("GET", "/keys")[1]["keys"]
            if not sealed_by_old:
                continue        # sealed by the new key: not the case
            self.assertEqual(got["retire"], 409)
            # Once rewrapped, the old key goes.
            rewrap(self, d)
            self.assertEqual(d.owner("DELETE", f"/keys/{old}")[0], 204)
            self.assertEqual(d.owner(
                "GET", f"/servers/{iid}/os-server-password")[0], 200)
            return
        self.fail("in 5 tries, no value was sealed before the rotation")



if __name__ == "__main__":
    unittest.main()
