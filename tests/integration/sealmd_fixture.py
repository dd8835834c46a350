"""Start the real sealmd (broker + confined worker) for integration tests.

Each Daemon gets its own temporary state directory, key ring, proxy secret,
owner socket and ephemeral guest ports (port 0; the bound port is read from
the broker's "listening:" log line).  Only processes started here are ever
signalled, by pid.
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(TOP, "build")
SEALMD = os.path.join(BUILD, "sealmd")
SEALMDCTL = os.path.join(BUILD, "sealmdctl")
IS_ROOT = os.geteuid() == 0


def uuid4():
    b = bytearray(secrets.token_bytes(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class Daemon:
    """One running sealmd with a generated configuration."""

    def __init__(self, guests=(("proxy", "127.0.0.1"),), instances=(),
                 limits=None, extra="", state=None, keep_state=False):
        self.state = state or tempfile.mkdtemp(prefix="sealmd-it-")
        self.keep_state = keep_state
        os.chmod(self.state, 0o700)
        keys = os.path.join(self.state, "keys")
        if not os.path.isdir(keys):
            os.mkdir(keys, 0o700)
            self._write0600(os.path.join(keys, "1"), secrets.token_bytes(32))
        self.secret_file = os.path.join(self.state, "proxy_secret")
        if not os.path.exists(self.secret_file):
            self._write0600(self.secret_file,
                            secrets.token_hex(32).encode() + b"\n")
        with open(self.secret_file, "rb") as f:
            self.secret = f.read().rstrip(b"\n")
        self.socket = os.path.join(self.state, "owner.sock")
        self.log_path = os.path.join(self.state, "sealmd.log")
        self.db = os.path.join(self.state, "sealmd.db")
        lines = ["[sealmd]", f"state_dir = {self.state}",
                 f"key_dir = {keys}"]
        if not IS_ROOT:
            lines.append("# not root: no chroot")
        lines += ["", "[limits]"]
        for k, v in (limits or {}).items():
            lines.append(f"{k} = {v}")
        for i, (mode, host) in enumerate(guests):
            name = "guest" if i == 0 else f"guest g{i}"
            lines += ["", f"[{name}]", f"listen = {host}:0",
                      f"identity = {mode}"]
            if mode == "proxy":
                lines.append(f"proxy_secret_file = {self.secret_file}")
        lines += ["", "[owner]", f"socket = {self.socket}", "",
                  "[store]", "backend = sqlite", f"path = {self.db}"]
        for inst in instances:
            lines += ["", f"[instance {inst['id']}]",
                      f"project = {inst['project']}"]
            for a in inst.get("addresses", []):
                lines.append(f"address = {a}")
        lines.append(extra)
        self.conf = os.path.join(self.state, "sealmd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.ports = []

    @staticmethod
    def _write0600(path, data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def start(self, timeout=10):
        self.logf = open(self.log_path, "ab")
        self.log_offset = self.logf.tell()
        self.proc = subprocess.Popen([SEALMD, "-c", self.conf],
                                     stdout=self.logf, stderr=self.logf,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log()
            if "ready" in text and "worker" in text:
                self.ports = [int(p) for p in re.findall(
                    r"listening: guest:[^ ]*:(\d+)", text)]
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("sealmd exited:\n" + text)
            time.sleep(0.05)
        raise RuntimeError("sealmd did not become ready:\n" + self.log())

    def log(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return f.read().decode("utf-8", "replace")

    def all_logs(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def wait_log(self, pattern, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.log()):
                return True
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logf", None):
            self.logf.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        if not self.keep_state:
            shutil.rmtree(self.state, ignore_errors=True)

    def worker_pid(self):
        pids = re.findall(r"worker (\d+) ready", self.log())
        return int(pids[-1]) if pids else None

    # --- guest side -----------------------------------------------------
    def sign(self, instance_id):
        return hmac.new(self.secret, instance_id.encode(),
                        hashlib.sha256).hexdigest()

    def proxy_headers(self, instance_id, project, sig=None):
        return {"X-Instance-ID": instance_id, "X-Tenant-ID": project,
                "X-Instance-ID-Signature":
                    self.sign(instance_id) if sig is None else sig}

    def guest(self, method, path, body=None, headers=None, port=None,
              source=None):
        """One request on a fresh connection; returns (status, hdrs, body)."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", port or self.ports[0], timeout=10,
            source_address=(source, 0) if source else None)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def raw(self, data, port=None, timeout=5, read_until_close=True):
        """Send raw bytes; return everything read until close/timeout."""
        s = socket.create_connection(("127.0.0.1", port or self.ports[0]),
                                     timeout=timeout)
        try:
            s.sendall(data)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
                if not read_until_close:
                    break
            return out
        finally:
            s.close()

    # --- owner side -----------------------------------------------------
    def owner(self, method, path, body=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.socket)
        conn = http.client.HTTPConnection("localhost")
        conn.sock = s
        try:
            hdrs = {}
            if body is not None:
                body = json.dumps(body).encode() if not isinstance(
                    body, (bytes, str)) else body
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data and
                              r.getheader("Content-Type", "").startswith(
                                  "application/json") else data)
        finally:
            conn.close()

    def register(self, instance_id, project, addresses=(), keys=None,
                 hostname=None):
        body = {"project_id": project, "addresses": list(addresses)}
        if keys:
            body["public_keys"] = keys
        if hostname:
            body["hostname"] = hostname
        return self.owner("PUT", f"/instances/{instance_id}", body)

    def ctl(self, *args, stdin=None):
        return subprocess.run([SEALMDCTL, "-s", self.socket, *args],
                              capture_output=True, input=stdin, timeout=30)
