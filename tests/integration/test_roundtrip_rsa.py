# SPDX-License-Identifier: ISC
"""A real round trip (nova-compat §8): cloudbase-init's encryption and
POST, the owner's GET and novaclient-style decryption with openssl, and
the same bytes again after a restart on the same state directory."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from sealmd_fixture import Daemon, remember_secret, uuid4

PASSWORD = "P@ssw0rd-é中"
OPENSSL = shutil.which("openssl")


def openssl(*args, stdin=None):
    r = subprocess.run([OPENSSL, *args], input=stdin, capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"openssl {args[0]} failed: {r.stderr!r}")
    return r.stdout


def ssh_rsa_line(pub_pem, comment):
    """The OpenSSH public key line of an RSA public key (PEM)."""
    text = openssl("rsa", "-pubin", "-in", pub_pem, "-noout", "-text"
                   ).decode()
    # "Modulus:\n    00:c3:..." then "Exponent: 65537 (0x10001)"
    mod_hex = text.split("Modulus:")[1].split("Exponent:")[0]
    n = int("".join(mod_hex.split()).replace(":", ""), 16)
    e = int(text.split("Exponent:")[1].split()[0])

    def mpint(x):
        b = x.to_bytes((x.bit_length() + 8) // 8, "big")
        return len(b).to_bytes(4, "big") + b

    blob = (len(b"ssh-rsa").to_bytes(4, "big") + b"ssh-rsa" + mpint(e) +
            mpint(n))
    return f"ssh-rsa {base64.b64encode(blob).decode()} {comment}"


@unittest.skipIf(OPENSSL is None, "openssl not installed")
class RsaRoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sealmd-rsa-")
        cls.keys = {}
        for bits in (2048, 4096):
            key = os.path.join(cls.tmp, f"key{bits}.pem")
            pub = os.path.join(cls.tmp, f"pub{bits}.pem")
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                    f"rsa_keygen_bits:{bits}", "-out", key)
            os.chmod(key, 0o600)
            openssl("pkey", "-in", key, "-pubout", "-out", pub)
            cls.keys[bits] = (key, pub)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def encrypt(self, pub):
        ct = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pub,
                     "-pkeyopt", "rsa_padding_mode:pkcs1",
                     stdin=PASSWORD.encode())
        return base64.b64encode(ct)            # no newlines

    def decrypt(self, key, b64):
        ct = base64.b64decode(b64, validate=True)
        return openssl("pkeyutl", "-decrypt", "-inkey", key, "-pkeyopt",
                       "rsa_padding_mode:pkcs1", stdin=ct).decode()

    def test_round_trip_and_restart(self):
        state = tempfile.mkdtemp(prefix="sealmd-it-rsa-")
        d = Daemon(state=state, keep_state=True).start()
        posted = {}
        try:
            for bits, want_len in ((2048, 344), (4096, 684)):
                key, pub = self.keys[bits]
                iid = uuid4()
                line = ssh_rsa_line(pub, f"owner-{bits}")
                self.assertEqual(d.register(iid, "proj-rsa",
                                            keys={"default": line})[0], 201)
                h = d.proxy_headers(iid, "proj-rsa")
                # cloudbase-init: meta_data.json, then is_password_set.
                st, _, body = d.guest(
                    "GET", "/openstack/2013-04-04/meta_data.json", headers=h)
                self.assertEqual(st, 200)
                md = json.loads(body)
                self.assertEqual(md["public_keys"], {"default": line})
                self.assertTrue(md["keys"][0]["data"].startswith("ssh-rsa "))
                st, _, body = d.guest("GET", "/openstack/2013-04-04/password",
                                      headers=h)
                self.assertEqual((st, body), (200, b""))
                b64 = self.encrypt(pub)
                self.assertEqual(len(b64), want_len)
                self.assertNotIn(b"\n", b64)
                remember_secret(b64)
                st, _, body = d.guest("POST",
                                      "/openstack/2013-04-04/password",
                                      body=b64, headers=h)
                self.assertEqual((st, body), (200, b""))
                # Owner side, as novaclient does it.
                st, js = d.owner("GET", f"/servers/{iid}/os-server-password")
                self.assertEqual(st, 200)
                self.assertEqual(js["password"], b64.decode())
                self.assertEqual(self.decrypt(key, js["password"]), PASSWORD)
                # sealmdctl get prints the same ciphertext.
                r = d.ctl("get", iid)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, b64 + b"\n")
                self.assertEqual(self.decrypt(key, r.stdout.strip()),
                                 PASSWORD)
                posted[bits] = (iid, b64)
            # The ciphertext itself is never on disk.
            for path, data in d.raw_files().items():
                for _, b64 in posted.values():
                    self.assertNotIn(b64, data, path)
                    self.assertNotIn(base64.b64decode(b64), data, path)
        finally:
            deaths = d.worker_deaths()
            d.cleanup()
        self.assertEqual(deaths, [])

        # Restart on the same state directory: byte-identical values.
        d2 = Daemon(state=state).start()
        try:
            for bits, (iid, b64) in posted.items():
                key, _ = self.keys[bits]
                st, js = d2.owner("GET",
                                  f"/servers/{iid}/os-server-password")
                self.assertEqual((st, js), (200, {"password": b64.decode()}))
                self.assertEqual(self.decrypt(key, js["password"]), PASSWORD)
                h = d2.proxy_headers(iid, "proj-rsa")
                st, _, body = d2.guest("GET", "/openstack/latest/password",
                                       headers=h)
                self.assertEqual((st, body), (200, b64))
                # Still set once across the restart.
                st, _, _ = d2.guest("POST", "/openstack/2013-04-04/password",
                                    body=b"x", headers=h)
                self.assertEqual(st, 409)
        finally:
            deaths = d2.worker_deaths()
            d2.cleanup()
        self.assertEqual(deaths, [])
        self.assertFalse(os.path.exists(state))

    def test_rsa_8192_ciphertext_too_large(self):
        # nova-compat §2: 8192-bit ciphertext is 1368 base64 chars: 400.
        d = Daemon().start()
        try:
            iid = uuid4()
            self.assertEqual(d.register(iid, "proj-big")[0], 201)
            b64 = base64.b64encode(os.urandom(1024))
            self.assertEqual(len(b64), 1368)
            st, _, _ = d.guest("POST", "/openstack/2013-04-04/password",
                               body=b64, headers=d.proxy_headers(iid,
                                                                 "proj-big"))
            self.assertEqual(st, 400)
            self.assertEqual(d.owner("GET", f"/servers/{iid}/"
                                     "os-server-password")[1],
                             {"password": ""})
        finally:
            deaths = d.worker_deaths()
            d.cleanup()
        self.assertEqual(deaths, [])


if __name__ == "__main__":
    unittest.main()
