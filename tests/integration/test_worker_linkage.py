# SPDX-License-Identifier: ISC
"""The worker binaries link neither the store, nor the sealing code, nor
libsodium's secret-key APIs (DESIGN.md §1), and the one for deployments
without TLS links no TLS library.  Shown with nm and readelf on the built
executables; the broker is checked the other way round, so that an nm
that lists nothing cannot pass the test.
"""
import os
import re
import shutil
import subprocess
import unittest

from sealmd_fixture import BUILD

WORKER = os.path.join(BUILD, "sealmd-worker")
WORKER_TLS = os.path.join(BUILD, "sealmd-worker-tls")
WORKERS = (WORKER, WORKER_TLS)
BROKER = os.path.join(BUILD, "sealmd")

# Imports the worker must never have.
FORBIDDEN = re.compile(
    r"^(crypto_aead_|crypto_secretbox|crypto_box|crypto_sign|crypto_kdf|"
    r"crypto_auth|crypto_pwhash|crypto_stream|crypto_onetimeauth|"
    r"crypto_kx|crypto_scalarmult|crypto_secretstream|"
    r"sodium_malloc$|sodium_allocarray$|sodium_mprotect_|"
    r"randombytes_buf|sqlite3_|PQ)")
# The broker's code the worker must not contain, by module prefix.
BROKER_ONLY = re.compile(r"^(store_|seal_|keyring_|secret_|ident_|ops_|"
                         r"audit_|tlskey_|tlsauth_)")
# TLS: the worker loads certificates only; parsing a private key or
# signing with one happens in the broker (tlskey.c).
PRIVATE_KEY = re.compile(
    r"^(PEM_read_bio_PrivateKey|PEM_read_PrivateKey|d2i_ECPrivateKey|"
    r"d2i_AutoPrivateKey|d2i_PrivateKey|ECDSA_sign|ECDSA_do_sign|"
    r"EVP_PKEY_sign|EVP_DigestSign|tls_config_set_key_|"
    r"tls_config_set_keypair_|tls_config_add_keypair_|tls_load_file)")
# What the worker may take from libsodium: hashing (the chunk digest) and
# the memory helpers.  Anything else is a new use to review.
SODIUM_ALLOWED = re.compile(
    r"^(crypto_generichash(_init|_update|_final)?|sodium_init|"
    r"sodium_memzero|sodium_memcmp|sodium_is_zero)$")


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          check=True).stdout


def undefined(path):
    """Dynamic imports, without symbol versions."""
    out = run("nm", "-D", "--undefined-only", path)
    return {line.split()[-1].split("@")[0] for line in out.splitlines()
            if line.strip()}


def defined_functions(path):
    """Functions in the full symbol table (the build keeps it: -g)."""
    out = run("nm", "--defined-only", path)
    return {f[2] for f in (line.split() for line in out.splitlines())
            if len(f) == 3 and f[1] in "Tt"}


def needed(path):
    out = run("readelf", "-d", path)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


@unittest.skipUnless(shutil.which("nm") and shutil.which("readelf"),
                     "binutils (nm, readelf) not installed")
class WorkerLinkage(unittest.TestCase):
    def setUp(self):
        for p in WORKERS + (BROKER,):
            if not os.path.exists(p):
                self.skipTest(f"{p} not built: make all")

    def test_broker_proves_nm_works(self):
        imports = undefined(BROKER)
        self.assertIn("crypto_aead_xchacha20poly1305_ietf_encrypt", imports)
        self.assertIn("sqlite3_open_v2", imports)
        # The patterns below do match what a broker needs.
        self.assertIn("crypto_auth_hmacsha256_init",
                      {s for s in imports if FORBIDDEN.match(s)})
        self.assertTrue(any(n.startswith("libsqlite3.")
                            for n in needed(BROKER)))
        funcs = defined_functions(BROKER)
        self.assertIn("store_pw_put_if_absent", funcs)
        self.assertIn("seal_chunk", funcs)

    def test_worker_imports_no_secret_key_api(self):
        for w in WORKERS:
            imports = undefined(w)
            self.assertIn("crypto_generichash_final", imports)  # nm sees it
            bad = sorted(s for s in imports if FORBIDDEN.match(s))
            self.assertEqual(bad, [], f"{w} imports secret-key, random "
                             "or store functions")

    def test_worker_sodium_use_is_hashing_only(self):
        for w in WORKERS:
            used = sorted(s for s in undefined(w)
                          if re.match(r"^(crypto_|sodium_|randombytes_)", s))
            extra = [s for s in used if not SODIUM_ALLOWED.match(s)]
            self.assertEqual(extra, [], f"{w}: libsodium functions beyond "
                             f"hashing: {extra} (all: {used})")

    def test_private_keys_are_the_brokers(self):
        self.assertIn("d2i_ECPrivateKey", undefined(BROKER))  # nm sees it
        self.assertIn("tls_config_use_fake_private_key",
                      undefined(WORKER_TLS))
        bad = sorted(s for s in undefined(WORKER_TLS)
                     if PRIVATE_KEY.match(s))
        self.assertEqual(bad, [], "the worker can parse or use a private "
                         "key")

    def test_worker_needs_no_store_library(self):
        for w in WORKERS:
            libs = needed(w)
            self.assertTrue(libs, "readelf found no NEEDED entries")
            for lib in libs:
                self.assertFalse(lib.startswith(("libsqlite3.", "libpq.")),
                                 f"{w} links {lib}")

    def test_plain_worker_links_no_tls_library(self):
        self.assertTrue(any(n.startswith("libtls.")
                            for n in needed(WORKER_TLS)))  # readelf sees it
        tls = [n for n in needed(WORKER)
               if n.startswith(("libtls.", "libssl.", "libcrypto."))]
        self.assertEqual(tls, [], "sealmd-worker links a TLS library")
        self.assertFalse([s for s in undefined(WORKER)
                          if s.startswith(("tls_", "SSL_", "EVP_", "EC_"))])

    def test_worker_contains_no_broker_code(self):
        for w in WORKERS:
            funcs = defined_functions(w)
            if not funcs:
                self.skipTest("the worker binary is stripped")
            self.assertIn("conn_loop", funcs)  # the table is the worker's
            leaked = sorted(f for f in funcs if BROKER_ONLY.match(f))
            self.assertEqual(leaked, [], f"broker code linked into {w}")


if __name__ == "__main__":
    unittest.main()
