# SPDX-License-Identifier: ISC
"""Certificates and TLS configuration for the TLS integration tests.

Certs(dir) makes, with the openssl command, a test CA, ECDSA server
certificates for 127.0.0.1 and client certificates signed by the CA.  Key
files are 0600, as sealmd wants them.  enable_tls() and enable_owner_tls()
add TLS lines to a Daemon's generated configuration before it starts.
"""
import hashlib
import os
import re
import subprocess


def openssl(*args, cwd=None, stdin=None):
    return subprocess.run(["openssl", *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=60, check=True).stdout


class Certs:
    def __init__(self, path):
        self.dir = path
        os.makedirs(path, mode=0o700, exist_ok=True)
        self.ca, self.ca_key = self._p("ca.crt"), self._p("ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.ca_key,
                "-out", self.ca, "-days", "30", "-subj", "/CN=sealmd test CA")

    def _p(self, name):
        return os.path.join(self.dir, name)

    def key(self, name, kind="P-256"):
        """A new private key file, mode 0600: P-256, P-384 or RSA."""
        path = self._p(name + ".key")
        if kind == "RSA":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", path)
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                    f"ec_paramgen_curve:{kind}", "-out", path)
        os.chmod(path, 0o600)
        return path

    def server(self, name, kind="P-256"):
        """(cert, key) for 127.0.0.1 and localhost, self-signed."""
        key = self.key(name, kind)
        crt = self._p(name + ".crt")
        openssl("req", "-x509", "-new", "-key", key, "-out", crt, "-days",
                "30", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1")
        return crt, key

    def client(self, name, subject):
        """(cert, key) of a client, signed by the test CA."""
        key = self.key(name)
        csr, crt = self._p(name + ".csr"), self._p(name + ".crt")
        openssl("req", "-new", "-key", key, "-out", csr, "-subj", subject)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                self.ca_key, "-CAcreateserial", "-out", crt, "-days", "30")
        return crt, key


def key_id(cert):
    """What sealmd names a key by: SHA-256 of the SPKI DER."""
    pub = openssl("x509", "-in", cert, "-noout", "-pubkey")
    der = openssl("pkey", "-pubin", "-outform", "DER", stdin=pub)
    return hashlib.sha256(der).hexdigest()


def _insert_after(daemon, pattern, lines):
    with open(daemon.conf) as f:
        text = f.read()
    m = re.search(pattern, text, re.M)
    if not m:
        raise AssertionError(f"no {pattern!r} in {daemon.conf}")
    text = text[:m.end()] + "\n" + "\n".join(lines) + text[m.end():]
    with open(daemon.conf, "w") as f:
        f.write(text)


def enable_tls(daemon, section, cert, key):
    """Make a guest section of a Daemon's configuration TLS."""
    _insert_after(daemon, rf"^\[{re.escape(section)}\]$",
                  ["tls = yes", f"tls_cert = {cert}", f"tls_key = {key}"])


def enable_owner_tls(daemon, cert, key, ca=None, subjects=(), tokens=None):
    """An owner TLS listener on an ephemeral port; tokens: a hash file."""
    lines = ["listen_tls = 127.0.0.1:0", f"tls_cert = {cert}",
             f"tls_key = {key}"]
    if ca:
        lines.append(f"tls_client_ca = {ca}")
    lines += [f"allow_subject = {s}" for s in subjects]
    if tokens:
        lines.append(f"token_hashes_file = {tokens}")
    _insert_after(daemon, r"^socket = .*$", lines)


def owner_port(daemon):
    m = re.search(r"listening: owner:127\.0\.0\.1:(\d+)", daemon.log())
    return int(m.group(1)) if m else None


def sign_count(daemon):
    return len(re.findall(r"audit op=tls\.sign ", daemon.audit_log()))
