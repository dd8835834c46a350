# SPDX-License-Identifier: ISC
"""Issue 9, Ed25519 and X25519: full round trips through a running sealmd
for both key types.

- Ed25519: sealmd-guest post (key from meta_data.json or --key-file,
  random or stdin password, --chpasswd through a recording stand-in) to a
  direct-mode listener, then `sealmdctl get UUID | sealmdctl decrypt
  --identity id_ed25519`.  Also sealmdctl seal-for, 409 handling, the
  714-byte limit, and failures (no key, unregistered, timeout).
- RSA: cloudbase-init's PKCS#1 v1.5 + base64 (openssl pkeyutl), POST,
  then `sealmdctl get | sealmdctl decrypt --identity key.pem` with PKCS#8
  and PKCS#1 keys.
- The format itself, against libsodium through ctypes: values sealed in
  Python open with sealmdctl decrypt, and the other way round.

The password must never be in any argv (the stand-in chpasswd records its
own and its parent's /proc/PID/cmdline and environ) or the daemon's log.
"""
import base64
import ctypes
import os
import pty
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from sealmd_fixture import (BUILD, SEALMDCTL, Daemon, remember_secret,
                            uuid4)

SEALMD_GUEST = os.path.join(BUILD, "sealmd-guest")


def _sodium():
    try:
        lib = ctypes.CDLL("libsodium.so.23")
    except OSError:
        return None
    if lib.sodium_init() < 0:
        return None
    return lib


SODIUM = _sodium()
SSH_KEYGEN = shutil.which("ssh-keygen")
OPENSSL = shutil.which("openssl")
ALPHABET = set("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
LIMITS = {"rate": 1000, "burst": 1000}

# The stand-in for chpasswd: records stdin, its argv and environment, and
# its parent's (sealmd-guest's) argv and environment.
RECORDER = """#!/bin/sh
out=%s
tr '\\0' '\\n' < /proc/$$/cmdline > "$out.argv"
tr '\\0' '\\n' < /proc/$$/environ > "$out.env"
tr '\\0' '\\n' < /proc/$PPID/cmdline > "$out.pargv"
tr '\\0' '\\n' < /proc/$PPID/environ > "$out.penv" 2>/dev/null
cat > "$out.stdin"
exit %d
"""


def run(cmd, stdin=None, timeout=30):
    return subprocess.run(cmd, input=stdin, capture_output=True,
                          timeout=timeout)


@unittest.skipIf(SSH_KEYGEN is None or OPENSSL is None,
                 "ssh-keygen or openssl not installed")
class Ed25519RoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sealmd-ed25519-")
        cls.key = os.path.join(cls.tmp, "id_ed25519")
        cls.key2 = os.path.join(cls.tmp, "other_ed25519")
        cls.enc = os.path.join(cls.tmp, "enc_ed25519")
        for path, pw in ((cls.key, ""), (cls.key2, ""),
                         (cls.enc, "a passphrase")):
            r = run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", pw, "-C",
                     "owner@sealmd", "-f", path])
            assert r.returncode == 0, r.stderr
        with open(cls.key + ".pub") as f:
            cls.publine = f.read().strip()
        cls.rsa8 = os.path.join(cls.tmp, "key.pem")          # PKCS#8
        cls.rsa1 = os.path.join(cls.tmp, "key-pkcs1.pem")    # PKCS#1
        cls.rsapub = os.path.join(cls.tmp, "pub.pem")
        for args in (["genpkey", "-algorithm", "RSA", "-pkeyopt",
                      "rsa_keygen_bits:2048", "-out", cls.rsa8],
                     ["rsa", "-in", cls.rsa8, "-traditional", "-out",
                      cls.rsa1],
                     ["pkey", "-in", cls.rsa8, "-pubout", "-out",
                      cls.rsapub]):
            r = run([OPENSSL, *args])
            assert r.returncode == 0, r.stderr
        r = run([SSH_KEYGEN, "-q", "-t", "rsa", "-N", "", "-f",
                 os.path.join(cls.tmp, "id_rsa")])
        assert r.returncode == 0, r.stderr
        with open(os.path.join(cls.tmp, "id_rsa.pub")) as f:
            cls.rsa_publine = f.read().strip()
        cls.rec = os.path.join(cls.tmp, "chpasswd")
        cls.recorder = cls.script("chpasswd-ok", 0)
        cls.failing = cls.script("chpasswd-fails", 3)

    @classmethod
    def script(cls, name, rc):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            f.write(RECORDER % (cls.rec, rc))
        os.chmod(path, 0o755)
        return path

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.d = Daemon(guests=(("direct", "127.0.0.1"),),
                        limits=LIMITS).start()
        self.url = f"http://127.0.0.1:{self.d.ports[0]}"
        for ext in ("argv", "env", "pargv", "penv", "stdin"):
            try:
                os.unlink(f"{self.rec}.{ext}")
            except FileNotFoundError:
                pass

    def tearDown(self):
        deaths = self.d.worker_deaths()
        self.d.cleanup()
        self.assertEqual(deaths, [])

    # --- helpers ------------------------------------------------------
    def register(self, keys=None, addresses=("127.0.0.1",)):
        iid = uuid4()
        st, _ = self.d.register(iid, "proj-ed", addresses=addresses,
                                keys=keys)
        self.assertEqual(st, 201)
        return iid

    def guest(self, *args, stdin=None, timeout=30):
        return run([SEALMD_GUEST, "post", "--url", self.url, *args],
                   stdin=stdin, timeout=timeout)

    def get_decrypt(self, iid, identity):
        """sealmdctl get UUID | sealmdctl decrypt --identity FILE."""
        get = subprocess.Popen([SEALMDCTL, "-s", self.d.socket, "get", iid],
                               stdout=subprocess.PIPE)
        dec = subprocess.run([SEALMDCTL, "decrypt", "--identity", identity],
                             stdin=get.stdout, capture_output=True,
                             timeout=30)
        get.stdout.close()
        self.assertEqual(get.wait(30), 0)
        return dec

    def stored(self, iid):
        r = self.d.ctl("get", iid)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def recorded(self, ext):
        with open(f"{self.rec}.{ext}", "rb") as f:
            return f.read()

    def assert_not_in_log(self, secret):
        log = self.d.all_logs()
        raw = secret.encode()
        for form in (raw, base64.b64encode(raw), raw.hex().encode()):
            self.assertNotIn(form, log)

    # --- Ed25519 ------------------------------------------------------
    def test_guest_post_key_from_metadata_with_chpasswd(self):
        iid = self.register(keys={"default": self.publine})
        r = self.guest("--chpasswd", "tester", "--chpasswd-program",
                       self.recorder)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"password posted", r.stderr)
        self.assertIn(b"password set for tester", r.stderr)
        self.assertEqual(r.stdout, b"")

        line = self.recorded("stdin")
        self.assertTrue(line.startswith(b"tester:") and
                        line.endswith(b"\n"), line)
        pw = line[len(b"tester:"):-1].decode()
        remember_secret(pw)
        self.assertEqual(len(pw), 20)
        self.assertTrue(set(pw) <= ALPHABET, pw)

        # Not in argv or environment of chpasswd or of sealmd-guest.
        self.assertEqual(self.recorded("argv").split(b"\n")[1:],
                         [self.recorder.encode(), b""])
        self.assertEqual(self.recorded("env"),
                         b"PATH=/usr/sbin:/usr/bin:/sbin:/bin\n")
        pargv = self.recorded("pargv")
        self.assertIn(b"sealmd-guest", pargv)
        for ext in ("argv", "env", "pargv"):
            self.assertNotIn(pw.encode(), self.recorded(ext), ext)
        if os.path.exists(f"{self.rec}.penv"):
            self.assertNotIn(pw.encode(), self.recorded("penv"))

        value = self.stored(iid)
        self.assertTrue(value.startswith(b"sx1:"), value)
        self.assertNotIn(pw.encode(), value)
        self.assertLessEqual(len(value.strip()), 1020)
        dec = self.get_decrypt(iid, self.key)
        self.assertEqual(dec.returncode, 0, dec.stderr)
        self.assertEqual(dec.stdout, pw.encode() + b"\n")
        self.assertEqual(dec.stderr, b"")

        # Another key, an encrypted key, an RSA key: refused, no output.
        for key, why in ((self.key2, b"wrong key"),
                         (self.enc, b"passphrase"),
                         (self.rsa8, b"ssh-ed25519 private key")):
            dec = self.get_decrypt(iid, key)
            self.assertEqual(dec.returncode, 1, key)
            self.assertEqual(dec.stdout, b"")
            self.assertIn(why, dec.stderr)
            self.assertNotIn(pw.encode(), dec.stderr)

        # Posting again: 409, exit 0, and the account is left alone.
        os.unlink(f"{self.rec}.stdin")
        r = self.guest("--chpasswd", "tester", "--chpasswd-program",
                       self.recorder)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"already set", r.stderr)
        self.assertFalse(os.path.exists(f"{self.rec}.stdin"))
        self.assertEqual(self.stored(iid), value)
        self.assert_not_in_log(pw)

    def test_guest_post_stdin_and_key_file(self):
        iid = self.register()       # no key in meta_data.json
        pw = remember_secret("sealmd-ed-stdin P@ss:wörd-中")
        r = self.guest("--stdin", "--key-file", self.key + ".pub",
                       stdin=pw.encode() + b"\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        dec = self.get_decrypt(iid, self.key)
        self.assertEqual(dec.returncode, 0, dec.stderr)
        self.assertEqual(dec.stdout, pw.encode() + b"\n")
        # The owner clears it: the guest may post again.
        self.assertEqual(self.d.ctl("clear", iid).returncode, 0)
        pw2 = remember_secret("sealmd-ed-second")
        r = self.guest("--stdin", "--key-file", self.key + ".pub",
                       stdin=pw2.encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.get_decrypt(iid, self.key).stdout,
                         pw2.encode() + b"\n")
        self.assert_not_in_log(pw)
        self.assert_not_in_log(pw2)

    def test_chpasswd_failure_is_reported(self):
        iid = self.register(keys={"default": self.publine})
        # A missing program is found before anything is posted.
        r = self.guest("--chpasswd", "tester", "--chpasswd-program",
                       os.path.join(self.tmp, "missing"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"missing", r.stderr)
        self.assertEqual(self.stored(iid), b"")
        # One that fails after the post: exit 1, and it says so.
        r = self.guest("--chpasswd", "tester", "--chpasswd-program",
                       self.failing)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"password posted", r.stderr)
        self.assertIn(b"NOT set for tester", r.stderr)
        pw = self.recorded("stdin")[len(b"tester:"):-1]
        remember_secret(pw)
        self.assertNotIn(pw, r.stderr)
        self.assertTrue(self.stored(iid).startswith(b"sx1:"))

    def test_seal_for_then_post(self):
        iid = self.register()
        pw = remember_secret("sealmd-ed-seal-for-é")
        r = run([SEALMDCTL, "seal-for", self.key + ".pub"],
                stdin=pw.encode() + b"\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        value = r.stdout.strip()
        self.assertTrue(value.startswith(b"sx1:"))
        st, _, _ = self.d.guest("POST", "/openstack/latest/password",
                                body=value)
        self.assertEqual(st, 200)
        self.assertEqual(self.stored(iid), value + b"\n")
        self.assertEqual(self.get_decrypt(iid, self.key).stdout,
                         pw.encode() + b"\n")

        # --random: the password goes to a new 0600 file, stdout holds
        # only the value.
        self.assertEqual(self.d.ctl("clear", iid).returncode, 0)
        pwfile = os.path.join(self.tmp, "generated")
        r = run([SEALMDCTL, "seal-for", "--random", "24",
                 "--password-file", pwfile, self.key + ".pub"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(pwfile) as f:
            gen = f.read()
        self.assertEqual(os.stat(pwfile).st_mode & 0o777, 0o600)
        os.unlink(pwfile)
        self.assertEqual(len(gen), 25)
        gen = remember_secret(gen.strip())
        self.assertNotIn(gen.encode(), r.stdout)
        self.assertEqual(r.stdout.count(b"\n"), 1)
        st, _, _ = self.d.guest("POST", "/openstack/latest/password",
                                body=r.stdout.strip())
        self.assertEqual(st, 200)
        self.assertEqual(self.get_decrypt(iid, self.key).stdout,
                         gen.encode() + b"\n")
        # --random without a file would lose the password: refused.
        r = run([SEALMDCTL, "seal-for", "--random", "24",
                 self.key + ".pub"])
        self.assertEqual(r.returncode, 2)

    def test_decrypt_escapes_controls_on_a_terminal(self):
        # Anyone with the public key can seal: a hostile guest's "password"
        # must not drive the owner's terminal.
        hostile = b"pw\x1b]0;owned\x07\x1b[2J"
        r = run([SEALMDCTL, "seal-for", self.key + ".pub"], stdin=hostile)
        self.assertEqual(r.returncode, 0, r.stderr)
        value = r.stdout
        dec = run([SEALMDCTL, "decrypt", "-i", self.key], stdin=value)
        self.assertEqual(dec.stdout, hostile + b"\n")     # a pipe: raw
        master, slave = pty.openpty()
        try:
            p = subprocess.run([SEALMDCTL, "decrypt", "-i", self.key],
                               input=value, stdout=slave,
                               stderr=subprocess.PIPE, timeout=30)
            os.close(slave)
            slave = None
            out = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(b"\x1b", out)
        self.assertIn(b"pw\\x1b]0;owned\\x07\\x1b[2J", out)
        self.assertIn(b"control characters", p.stderr)

    def seal_on_tty(self, first, second):
        """seal-for with its stdin on a terminal; answers each prompt."""
        master, slave = pty.openpty()
        p = subprocess.Popen([SEALMDCTL, "seal-for", self.key + ".pub"],
                             stdin=slave, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        os.close(slave)
        err = b""
        try:
            for prompt, answer in ((b"Password: ", first),
                                   (b"Again: ", second)):
                deadline = time.monotonic() + 10
                while not err.endswith(prompt) and \
                        time.monotonic() < deadline:
                    chunk = os.read(p.stderr.fileno(), 256)
                    if not chunk:
                        break
                    err += chunk
                if not err.endswith(prompt):
                    break
                time.sleep(0.1)     # the mode is set after the prompt
                os.write(master, answer)
            out, rest = p.communicate(timeout=10)
        finally:
            os.close(master)
        return p.returncode, out, err + rest

    def test_seal_for_prompts_on_a_terminal(self):
        rc, out, err = self.seal_on_tty(b"tty-pw\n", b"tty-pw\n")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"tty-pw", err)
        dec = run([SEALMDCTL, "decrypt", "-i", self.key], stdin=out)
        self.assertEqual(dec.stdout, b"tty-pw\n")
        rc, out, err = self.seal_on_tty(b"one\n", b"two\n")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn(b"differ", err)
        rc, out, err = self.seal_on_tty(b"abc\x03\n", b"")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn(b"interrupted", err)

    def test_length_limit_is_nova_limit(self):
        iid = self.register()
        pw = "x" * 714
        r = run([SEALMDCTL, "seal-for", self.key + ".pub"],
                stdin=pw.encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        value = r.stdout.strip()
        self.assertEqual(len(value), 1020)
        st, _, _ = self.d.guest("POST", "/openstack/latest/password",
                                body=value)
        self.assertEqual(st, 200)
        self.assertEqual(self.get_decrypt(iid, self.key).stdout,
                         pw.encode() + b"\n")
        r = run([SEALMDCTL, "seal-for", self.key + ".pub"],
                stdin=b"x" * 715)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"714", r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(self.d.ctl("clear", iid).returncode, 0)
        r = self.guest("--stdin", "--key-file", self.key + ".pub",
                       stdin=b"y" * 715)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"714", r.stderr)
        self.assertEqual(self.stored(iid), b"")

    def test_guest_failures(self):
        # Not registered: the service answers 404, nothing is posted.
        r = self.guest("--key-file", self.key + ".pub")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"answered 404", r.stderr)
        # Registered with an RSA key only: no key to seal to.
        iid = self.register(keys={"rsa": self.rsa_publine})
        r = self.guest()
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no ssh-ed25519 key", r.stderr)
        self.assertEqual(self.stored(iid), b"")
        # Two different ed25519 keys: the guest will not guess.
        with open(self.key2 + ".pub") as f:
            other = f.read().strip()
        self.assertEqual(self.d.register(
            iid, "proj-ed", addresses=["127.0.0.1"],
            keys={"a": self.publine, "b": other})[0], 200)
        r = self.guest()
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"several ssh-ed25519 keys", r.stderr)
        # Nothing listening.
        r = run([SEALMD_GUEST, "post", "--url", "http://127.0.0.1:1",
                 "--key-file", self.key + ".pub"])
        self.assertEqual(r.returncode, 1)
        # Usage errors exit 2; the password is never an argument.
        for args in (["--password", "x"], ["--stdin", "--length", "20"],
                     ["--url", "http://example.com"], ["extra"]):
            r = run([SEALMD_GUEST, "post", *args])
            self.assertEqual(r.returncode, 2, args)

    def test_guest_timeout(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        held = []

        def hold():
            c, _ = srv.accept()
            held.append(c)      # never answers

        t = threading.Thread(target=hold, daemon=True)
        t.start()
        try:
            start = time.monotonic()
            r = run([SEALMD_GUEST, "post", "--url",
                     f"http://127.0.0.1:{srv.getsockname()[1]}",
                     "--timeout", "1", "--key-file", self.key + ".pub"])
            took = time.monotonic() - start
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"no answer within 1 seconds", r.stderr)
            self.assertLess(took, 5)
        finally:
            t.join(5)
            for c in held:
                c.close()
            srv.close()

    # --- the format, checked against libsodium without our C code ---------
    @unittest.skipIf(SODIUM is None, "libsodium.so.23 not loadable")
    def test_format_is_a_plain_sealed_box(self):
        with open(self.key + ".pub") as f:
            blob = base64.b64decode(f.read().split()[1], validate=True)
        edpk = blob[-32:]
        xpk = ctypes.create_string_buffer(32)
        self.assertEqual(SODIUM.crypto_sign_ed25519_pk_to_curve25519(
            xpk, edpk), 0)
        # Sealed here, opened by sealmdctl decrypt with ssh-keygen's key.
        pw = remember_secret("sealmd-ed-interop-\u00e9").encode()
        box = ctypes.create_string_buffer(len(pw) + 48)
        self.assertEqual(SODIUM.crypto_box_seal(box, pw,
                                                ctypes.c_ulonglong(len(pw)),
                                                xpk), 0)
        value = b"sx1:" + base64.b64encode(box.raw)
        dec = run([SEALMDCTL, "decrypt", "--identity", self.key],
                  stdin=value + b"\n")
        self.assertEqual(dec.returncode, 0, dec.stderr)
        self.assertEqual(dec.stdout, pw + b"\n")

        # Sealed by sealmdctl seal-for, opened here from a fresh key pair.
        edpk = ctypes.create_string_buffer(32)
        edsk = ctypes.create_string_buffer(64)
        self.assertEqual(SODIUM.crypto_sign_keypair(edpk, edsk), 0)
        t = b"ssh-ed25519"
        line = b"ssh-ed25519 " + base64.b64encode(
            len(t).to_bytes(4, "big") + t + (32).to_bytes(4, "big") +
            edpk.raw) + b" made-in-python\n"
        pub = os.path.join(self.tmp, "python.pub")
        with open(pub, "wb") as f:
            f.write(line)
        r = run([SEALMDCTL, "seal-for", pub], stdin=pw)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"sx1:"))
        box = base64.b64decode(r.stdout[4:].strip(), validate=True)
        self.assertEqual(len(box), len(pw) + 48)
        xpk = ctypes.create_string_buffer(32)
        xsk = ctypes.create_string_buffer(32)
        self.assertEqual(SODIUM.crypto_sign_ed25519_pk_to_curve25519(
            xpk, edpk), 0)
        self.assertEqual(SODIUM.crypto_sign_ed25519_sk_to_curve25519(
            xsk, edsk), 0)
        out = ctypes.create_string_buffer(len(box) - 48)
        self.assertEqual(SODIUM.crypto_box_seal_open(
            out, box, ctypes.c_ulonglong(len(box)), xpk, xsk), 0)
        self.assertEqual(out.raw, pw)

    # --- RSA ----------------------------------------------------------
    def test_rsa_round_trip(self):
        pw = remember_secret("P@ssw0rd-é中-rsa-ed25519-suite")
        for key in (self.rsa8, self.rsa1):
            iid = self.register(addresses=("127.0.0.3",))
            r = run([OPENSSL, "pkeyutl", "-encrypt", "-pubin", "-inkey",
                     self.rsapub, "-pkeyopt", "rsa_padding_mode:pkcs1"],
                    stdin=pw.encode())
            self.assertEqual(r.returncode, 0, r.stderr)
            b64 = base64.b64encode(r.stdout)        # cloudbase-init
            st, _, _ = self.d.guest("POST", "/openstack/2013-04-04/password",
                                    body=b64, source="127.0.0.3")
            self.assertEqual(st, 200)
            dec = self.get_decrypt(iid, key)
            self.assertEqual(dec.returncode, 0, dec.stderr)
            self.assertEqual(dec.stdout, pw.encode() + b"\n")
            # The ed25519 key cannot open RSA ciphertext: says why.
            dec = self.get_decrypt(iid, self.key)
            self.assertEqual(dec.returncode, 1)
            self.assertIn(b"PEM RSA key", dec.stderr)
            self.assertEqual(dec.stdout, b"")
            self.assertEqual(self.d.owner("DELETE",
                                          f"/instances/{iid}")[0], 204)
        # Line-wrapped base64 ("openssl base64" without -A) also decrypts.
        r = run([OPENSSL, "pkeyutl", "-encrypt", "-pubin", "-inkey",
                 self.rsapub, "-pkeyopt", "rsa_padding_mode:pkcs1"],
                stdin=pw.encode())
        wrapped = base64.encodebytes(r.stdout)
        dec = run([SEALMDCTL, "decrypt", "-i", self.rsa8], stdin=wrapped)
        self.assertEqual(dec.stdout, pw.encode() + b"\n", dec.stderr)
        # Altered ciphertext fails without output.
        ct = bytearray(r.stdout)
        ct[-1] ^= 1
        dec = run([SEALMDCTL, "decrypt", "-i", self.rsa8],
                  stdin=base64.b64encode(bytes(ct)))
        self.assertEqual((dec.returncode, dec.stdout), (1, b""))
        self.assert_not_in_log(pw)


if __name__ == "__main__":
    unittest.main()
