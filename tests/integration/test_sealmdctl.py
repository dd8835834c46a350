# SPDX-License-Identifier: ISC
"""sealmdctl against the real daemon: every command, --json, keygen, and
its exit codes (0 ok, 1 failure, 2 usage)."""
import base64
import json
import os
import stat
import subprocess
import tempfile
import unittest

from sealmd_fixture import SEALMDCTL, STORE_NAME, Daemon, canary, uuid4

PW = "/openstack/latest/password"
ED_BLOB = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" +
                           bytes(range(100, 132))).decode()
ED_KEY = f"ssh-ed25519 {ED_BLOB} carol@example"


def run_ctl(*args, env=None, stdin=None):
    e = dict(os.environ)
    e.pop("SEALMD_SOCKET", None)
    e.update(env or {})
    return subprocess.run([SEALMDCTL, *args], capture_output=True,
                          input=stdin, timeout=30, env=e)


class Ctl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.tmp = tempfile.mkdtemp(prefix="sealmdctl-it-")

    @classmethod
    def tearDownClass(cls):
        deaths = cls.d.worker_deaths()
        cls.d.cleanup()
        assert not deaths, f"the worker died: {deaths}"
        for root, dirs, files in os.walk(cls.tmp, topdown=False):
            for f in files:
                os.unlink(os.path.join(root, f))
            for dd in dirs:
                os.rmdir(os.path.join(root, dd))
        os.rmdir(cls.tmp)

    def ok(self, *args):
        r = self.d.ctl(*args)
        self.assertEqual(r.returncode, 0, (args, r.stderr))
        return r.stdout.decode()

    def keyfile(self, text, name=None):
        path = os.path.join(self.tmp, name or f"key-{uuid4()}.pub")
        with open(path, "w") as f:
            f.write(text)
        return path

    def post(self, iid, project, value):
        st, _, _ = self.d.guest("POST", PW, body=value.encode(),
                                headers=self.d.proxy_headers(iid, project))
        self.assertEqual(st, 200)

    def test_instance_add_get_clear(self):
        iid = uuid4()
        kf = self.keyfile("\n" + ED_KEY + "\n")
        out = self.ok("instance", "add", iid, "--project", "proj-ctl",
                      "--address", "10.20.0.1", "--address", "fd00::20",
                      "--hostname", "ctl-vm.example",
                      "--public-key-file", kf)
        self.assertEqual(out, f"created {iid}\n")
        st, js = self.d.owner("GET", f"/instances/{iid}")
        self.assertEqual(st, 200)
        self.assertEqual(js["project_id"], "proj-ctl")
        self.assertEqual(js["addresses"], ["10.20.0.1", "fd00::20"])
        self.assertEqual(js["hostname"], "ctl-vm.example")
        self.assertEqual(js["public_keys"], {"carol@example": ED_KEY})
        # Options may also come first; replacing says so.
        out = self.ok("instance", "add", "--project", "proj-ctl2", iid)
        self.assertEqual(out, f"replaced {iid}\n")
        st, js = self.d.owner("GET", f"/instances/{iid}")
        self.assertEqual((js["project_id"], js["addresses"],
                          js["public_keys"]), ("proj-ctl2", [], {}))
        # get: nothing set yet prints nothing.
        self.assertEqual(self.ok("get", iid), "")
        self.assertEqual(json.loads(self.ok("--json", "get", iid)),
                         {"password": ""})
        v = canary("ctl-get")
        self.post(iid, "proj-ctl2", v)
        self.assertEqual(self.ok("get", iid), v + "\n")
        self.assertEqual(self.ok("get", iid.upper()), v + "\n")
        self.assertEqual(json.loads(self.ok("get", iid, "--json")),
                         {"password": v})
        self.assertEqual(self.ok("clear", iid), "")
        self.assertEqual(self.ok("get", iid), "")
        self.assertEqual(self.d.owner(
            "GET", f"/servers/{iid}/os-server-password")[1], {"password": ""})
        # After a clear the guest may post again.
        v2 = canary("ctl-get2")
        self.post(iid, "proj-ctl2", v2)
        self.assertEqual(self.ok("get", iid), v2 + "\n")

    def test_get_value_with_nul_and_controls(self):
        # Nova stores any UTF-8 text, NUL included (nova-compat §1); the
        # owner API returns it JSON-escaped and "get" prints it verbatim.
        iid = uuid4()
        self.ok("instance", "add", iid, "--project", "proj-nul")
        v = "a\x00b\x01\x1b[0m\"q\"\\é中"
        self.post(iid, "proj-nul", v)
        r = self.d.ctl("get", iid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, v.encode() + b"\n")
        r = self.d.ctl("--json", "get", iid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"password": v})
        self.assertNotIn(b"\x00", r.stdout)

    def test_two_keys_and_names(self):
        iid = uuid4()
        k1 = self.keyfile(ED_KEY + "\n")
        k2 = self.keyfile(f"ssh-ed25519 {ED_BLOB}\n")          # no comment
        k3 = self.keyfile(f"ssh-ed25519 {ED_BLOB} carol@example\n")
        self.ok("instance", "add", iid, "--project", "p",
                "--public-key-file", k1, "--public-key-file", k2,
                "--public-key-file", k3)
        keys = self.d.owner("GET", f"/instances/{iid}")[1]["public_keys"]
        self.assertEqual(keys["carol@example"], ED_KEY)
        self.assertEqual(len(keys), 3)
        self.assertEqual(sorted(keys), ["carol@example", "key-2", "key-3"])

    def test_bad_key_files(self):
        iid = uuid4()
        secret_line = "b3BlbnNzaC1rZXktdjEAAAAA" + canary("privkey")
        priv = self.keyfile("-----BEGIN OPENSSH PRIVATE KEY-----\n" +
                            secret_line + "\n"
                            "-----END OPENSSH PRIVATE KEY-----\n")
        for path in (priv, self.keyfile("not a key\n"), self.keyfile(""),
                     self.keyfile("ssh-rsa " + ED_BLOB + " x\n"),
                     os.path.join(self.tmp, "missing.pub"), self.tmp):
            r = self.d.ctl("instance", "add", iid, "--project", "p",
                           "--public-key-file", path)
            self.assertEqual(r.returncode, 1, (path, r.stderr))
            self.assertEqual(r.stdout, b"")
            self.assertNotIn(secret_line.encode(), r.stderr)
        self.assertEqual(self.d.owner("GET", f"/instances/{iid}")[0], 404)

    def test_list_and_ls(self):
        ids = sorted(uuid4() for _ in range(3))
        for i, iid in enumerate(ids):
            self.ok("instance", "add", iid, "--project", f"proj-ls{i}")
        out = self.ok("list")
        lines = out.splitlines()
        for i, iid in enumerate(ids):
            self.assertIn(f"{iid} proj-ls{i}", lines)
        self.assertEqual(self.ok("instance", "ls"), out)
        js = json.loads(self.ok("--json", "list"))
        self.assertEqual(list(js), ["instances"])
        got = {e["id"]: e["project_id"] for e in js["instances"]}
        for i, iid in enumerate(ids):
            self.assertEqual(got[iid], f"proj-ls{i}")
        self.assertEqual(len(js["instances"]), len(lines))
        self.assertEqual(json.loads(self.ok("instance", "ls", "--json")), js)

    def test_instance_rm(self):
        iid = uuid4()
        self.ok("instance", "add", iid, "--project", "p-rm")
        self.assertEqual(self.ok("instance", "rm", iid), "")
        self.assertEqual(self.d.owner("GET", f"/instances/{iid}")[0], 404)
        r = self.d.ctl("instance", "rm", iid)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"404", r.stderr)

    def test_status(self):
        out = self.ok("status")
        fields = dict(line.split(": ", 1) for line in out.splitlines())
        for k in ("version", "uptime", "instances", "passwords", "listeners",
                  "worker_pid", "worker_restarts", "store", "key_newest",
                  "keys"):
            self.assertIn(k, fields)
        self.assertEqual(fields["store"], STORE_NAME)
        js = json.loads(self.ok("--json", "status"))
        self.assertEqual(js["store"], STORE_NAME)
        self.assertEqual(js["version"], fields["version"])
        self.assertEqual(js["worker_pid"], self.d.worker_pid())

    def test_socket_from_environment(self):
        r = run_ctl("status", env={"SEALMD_SOCKET": self.d.socket})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"store: " + STORE_NAME.encode(), r.stdout)

    def test_usage_errors_exit_2(self):
        iid = uuid4()
        for args in ((), ("frobnicate",), ("get",), ("get", "not-a-uuid"),
                     ("get", iid, iid), ("get", iid[:-1] + "g"),
                     ("clear",), ("--bogus", "status"), ("status", "--bogus"),
                     ("status", "extra"), ("list", "extra"), ("instance",),
                     ("instance", "frob"), ("instance", "add", iid),
                     ("instance", "add", "--project", "p"),
                     ("instance", "add", iid, "--project"),
                     ("instance", "add", iid, "--project", "a",
                      "--project", "b"),
                     ("instance", "rm"), ("keygen",), ("-s",),
                     ("get", "--json=1", iid)):
            r = self.d.ctl(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(r.stdout, b"", args)
            self.assertTrue(r.stderr, args)
        r = run_ctl("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"usage:", r.stdout)

    def test_server_errors_exit_1(self):
        unknown = uuid4()
        for args in (("get", unknown), ("clear", unknown),
                     ("instance", "rm", unknown), ("--json", "get", unknown)):
            r = self.d.ctl(*args)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertEqual(r.stdout, b"", args)
            self.assertIn(b"404", r.stderr, args)
        # Server-side validation and conflicts are failures, not usage.
        a, b = uuid4(), uuid4()
        self.ok("instance", "add", a, "--project", "p", "--address",
                "10.30.0.1")
        r = self.d.ctl("instance", "add", b, "--project", "p", "--address",
                       "10.30.0.1")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"409", r.stderr)
        r = self.d.ctl("instance", "add", b, "--project", "bad project")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"400", r.stderr)
        r = self.d.ctl("instance", "add", b, "--project", "p", "--address",
                       "10.30.0.01")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(self.d.owner("GET", f"/instances/{b}")[0], 404)

    def test_cannot_connect_exit_1(self):
        missing = os.path.join(self.tmp, "no-such.sock")
        for args in (("-s", missing, "status"), ("-s", missing, "list"),
                     ("-s", missing, "get", uuid4())):
            r = run_ctl(*args)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn(b"cannot connect", r.stderr)
            self.assertEqual(r.stdout, b"")
        r = run_ctl("status", env={"SEALMD_SOCKET": missing})
        self.assertEqual(r.returncode, 1)
        # A path that is not a socket.
        notsock = self.keyfile("x")
        self.assertEqual(run_ctl("-s", notsock, "status").returncode, 1)

    def test_keygen(self):
        kdir = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(kdir, 0o700)
        contents = []
        for n in ("1", "2"):
            r = run_ctl("keygen", kdir)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"created key {n}".encode(), r.stdout)
            path = os.path.join(kdir, n)
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            self.assertEqual(st.st_size, 32)
            with open(path, "rb") as f:
                contents.append(f.read())
        self.assertEqual(sorted(os.listdir(kdir)), ["1", "2"])
        self.assertNotEqual(contents[0], contents[1])
        self.assertNotEqual(contents[0], bytes(32))
        # Continues after the highest numeric name.
        with open(os.path.join(kdir, "7"), "wb") as f:
            f.write(b"k" * 32)
        os.chmod(os.path.join(kdir, "7"), 0o600)
        self.assertEqual(run_ctl("keygen", kdir).returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(kdir, "8")))
        # A directory open to others is refused, nothing is created.
        open_dir = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(open_dir, 0o755)
        r = run_ctl("keygen", open_dir)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(os.listdir(open_dir), [])
        r = run_ctl("keygen", os.path.join(self.tmp, "missing-dir"))
        self.assertEqual(r.returncode, 1)
        # The key works: a daemon starts with the generated ring.
        d2 = Daemon()
        try:
            for n in ("2", "7", "8"):
                with open(os.path.join(kdir, n), "rb") as f:
                    data = f.read()
                fd = os.open(os.path.join(d2.state, "keys", n),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.write(fd, data)
                os.close(fd)
            d2.start()
            st, js = d2.owner("GET", "/status")
            self.assertEqual((st, js["keys"], js["key_newest"]), (200, 4, 8))
        finally:
            deaths = d2.worker_deaths()
            d2.cleanup()
        self.assertEqual(deaths, [])


if __name__ == "__main__":
    unittest.main()
