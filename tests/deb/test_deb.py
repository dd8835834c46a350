# SPDX-License-Identifier: ISC
"""The Debian packages (issue 17), built by scripts/deb.sh (make deb) in a
fresh root, as on a newcomer's machine, and installed with apt into
fresh Debian minbase roots (tests/deb/base.sh caches the
base tarball outside the clone): lintian, what sealmd-guest pulls in, a
fresh install (users, modes, units, config check, the installed daemon
serving a guest POST and an owner GET through the installed sealmdctl),
remove and purge, and an upgrade from an older build that keeps the
store, keys and configuration.

Needs root (apt and chroot in the roots); skips loudly otherwise.  There
is no systemd running in the roots: the daemon runs chrooted by hand, as
root, with the shipped configuration as it is and what the shipped units
would pass it (sockets, credentials).  Every process started here is
stopped by its pid."""
import hashlib
import fcntl
import hmac
import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("SEALMD_DEB_CACHE", "/var/cache/sealmd-test")
IS_ROOT = os.geteuid() == 0
PW = "/openstack/latest/password"
# Run CMD chrooted in ROOT, in a mount namespace of its own (nothing stays
# mounted when it ends), with /proc, /dev and apt's package cache, which
# the roots share through CACHE so that each package downloads once.
INROOT = r'''
r=$1; c=$2; shift 2
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount --bind "$c/archives" "$r/var/cache/apt/archives"
exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
'''

work = None
pkgs = {}       # "new"/"old" -> directory of .deb files
base = None


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, timeout=kw.pop("timeout",
                                                                900), **kw)
    if r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n"
                             f"{r.stdout.decode(errors='replace')}"
                             f"{r.stderr.decode(errors='replace')}")
    return r.stdout.decode()


def setUpModule():
    global work
    if not IS_ROOT:
        return
    work = tempfile.mkdtemp(prefix="sealmd-deb-")
    try:
        build()
    except BaseException:
        # unittest skips tearDownModule when this fails.
        shutil.rmtree(work)
        raise


def build():
    global base
    t0 = time.monotonic()
    base = run([os.path.join(TOP, "tests/deb/base.sh")]).strip()
    print(f"\n    base root: {base} ({time.monotonic() - t0:.0f} s)",
          flush=True)
    with open(os.path.join(TOP, "debian/changelog")) as f:
        version = re.match(r"\S+ \(([^)]+)\)", f.readline()).group(1)
    # The packages under test, built in a fresh root as a newcomer would:
    # scripts/deb.sh (make deb) installs dpkg-dev, debhelper and the
    # Build-Depends there, which proves that they suffice.
    t0 = time.monotonic()
    broot = Root("build")
    try:
        shutil.copytree(TOP, broot.p("/src/sealmd"), symlinks=True,
                        ignore=shutil.ignore_patterns(
                            ".git", "build", "build-*", "__pycache__"))
        broot.out("sh", "/src/sealmd/scripts/deb.sh", "/out")
        pkgs["new"] = os.path.join(work, "new")
        shutil.copytree(broot.p("/out"), pkgs["new"])
    finally:
        broot.cleanup()
    print(f"    built packages in a fresh root ({time.monotonic() - t0:.0f} "
          "s)", flush=True)
    # The older ones for the upgrade, here: "~" sorts before anything.
    t0 = time.monotonic()
    pkgs["old"] = os.path.join(work, "old")
    run([os.path.join(TOP, "scripts/deb.sh"), pkgs["old"],
         version + "~prev"])
    print(f"    built older packages ({time.monotonic() - t0:.0f} s)",
          flush=True)
    run(["dpkg", "--compare-versions", version + "~prev", "lt", version])


def tearDownModule():
    if work:
        shutil.rmtree(work)


def deb(which, name):
    d = pkgs[which]
    f = [x for x in os.listdir(d) if x.startswith(name + "_") and
         x.endswith(".deb")]
    assert len(f) == 1, (d, name, f)
    return os.path.join(d, f[0])


class Root:
    """A fresh minbase root under work/NAME."""

    def __init__(self, name):
        self.path = os.path.join(work, name)
        os.mkdir(self.path)
        run(["tar", "-C", self.path, "-xf", base])
        shutil.copy("/etc/resolv.conf",
                    os.path.join(self.path, "etc/resolv.conf"))
        os.makedirs(os.path.join(CACHE, "archives", "partial"),
                    exist_ok=True)
        self.procs = []

    def argv(self, *cmd):
        return ["unshare", "--mount", "--propagation", "private", "--",
                "sh", "-ec", INROOT, "sh", self.path, CACHE, *cmd]

    def run(self, *cmd, check=True):
        r = subprocess.run(self.argv(*cmd), capture_output=True,
                           timeout=900)
        if check and r.returncode != 0:
            raise AssertionError(f"{cmd} in {self.path} exited "
                                 f"{r.returncode}:\n"
                                 f"{r.stdout.decode(errors='replace')}"
                                 f"{r.stderr.decode(errors='replace')}")
        return r

    def out(self, *cmd):
        return self.run(*cmd).stdout.decode()

    def p(self, path):
        return os.path.join(self.path, path.lstrip("/"))

    def apt_install(self, *debs):
        names = []
        for d in debs:
            os.makedirs(self.p("/tmp/debs"), exist_ok=True)
            shutil.copy(d, self.p("/tmp/debs"))
            names.append("/tmp/debs/" + os.path.basename(d))
        cmd = ("apt-get", "install", "-y", "-q", "--no-install-recommends",
               *names)
        r = self.run(*cmd, check=False)
        if r.returncode != 0:
            # The cached root's package lists may name versions the
            # mirror no longer has.
            self.out("apt-get", "update", "-q")
            return self.out(*cmd)
        return r.stdout.decode()

    def packages(self):
        return set(self.out("dpkg-query", "-W", "-f",
                            "${Package} ${Status}\n").split("\n"))

    def write(self, path, data, mode=0o600):
        fd = os.open(self.p(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def stat(self, path):
        out = self.out("stat", "-c", "%a %U %G", path).split()
        return (int(out[0], 8), out[1], out[2])

    def sha(self, path):
        with open(self.p(path), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def cleanup(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        shutil.rmtree(self.path)


class Daemon:
    """The installed sealmd with the installed /etc/sealmd/sealmd.conf as
    it is, chrooted in a root, as root, given what the shipped units
    would give it: a loopback guest socket and the owner socket, passed
    as sealmd.socket and sealmd-owner.socket pass them, and the key ring
    and proxy secret as credentials (LoadCredential=)."""

    def __init__(self, root):
        self.root = root
        with open(root.p("/etc/sealmd/proxy_secret"), "rb") as f:
            self.secret = f.read().rstrip(b"\n")
        self.creds = creds = "/run/credentials/sealmd.service"
        os.makedirs(root.p(creds), mode=0o700)
        for name in os.listdir(root.p("/etc/sealmd/keys")):
            self.cred(creds + "/key_" + name, "/etc/sealmd/keys/" + name)
        self.cred(creds + "/proxy-secret", "/etc/sealmd/proxy_secret")
        # What RuntimeDirectory= makes.
        os.makedirs(root.p("/run/sealmd/empty"), mode=0o755, exist_ok=True)
        self.guest = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.guest.bind(("127.0.0.1", 0))
        self.guest.listen(64)
        self.port = self.guest.getsockname()[1]
        self.owner_path = root.p("/run/sealmd/owner.sock")
        if os.path.lexists(self.owner_path):
            os.unlink(self.owner_path)
        self.owner = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.owner.bind(self.owner_path)
        self.owner.listen(64)
        gid = int(root.out("getent", "group", "sealmd").split(":")[2])
        os.chown(self.owner_path, 0, gid)
        os.chmod(self.owner_path, 0o660)
        fds = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 10)
               for s in (self.guest, self.owner)]
        self.log_path = os.path.join(work, os.path.basename(root.path) +
                                     ".log")
        with open(self.log_path, "ab") as log:
            self.offset = log.tell()
            # LISTEN_PID is the pid of the shell that execs sealmd.  Bash
            # here: dash takes only one-digit descriptors.
            self.proc = subprocess.Popen(
                ["bash", "-c", f'exec "$@" 3<&{fds[0]} 4<&{fds[1]}', "sh",
                 *root.argv("sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=2 "
                            "LISTEN_FDNAMES=guest:owner "
                            f"CREDENTIALS_DIRECTORY={creds} exec "
                            "/usr/sbin/sealmd -c /etc/sealmd/sealmd.conf")],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                pass_fds=fds)
        for fd in fds:
            os.close(fd)
        root.procs.append(self.proc)
        for _ in range(600):
            text = self.log()
            if "ready" in text and "worker" in text:
                break
            if self.proc.poll() is not None:
                raise AssertionError("sealmd exited:\n" + text)
            time.sleep(0.05)
        else:
            raise AssertionError("sealmd did not become ready:\n" +
                                 self.log())

    def cred(self, dst, src):
        shutil.copyfile(self.root.p(src), self.root.p(dst))
        os.chmod(self.root.p(dst), 0o400)

    def log(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")

    def ctl(self, *args):
        return self.root.out("sealmdctl", "-s", "/run/sealmd/owner.sock",
                             *args)

    def post(self, iid, project, value):
        sig = hmac.new(self.secret, iid.encode(), hashlib.sha256).hexdigest()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", PW, body=value.encode(),
                  headers={"X-Instance-ID": iid, "X-Tenant-ID": project,
                           "X-Instance-ID-Signature": sig})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.guest.close()
        self.owner.close()
        os.unlink(self.owner_path)
        # systemd removes the credentials when the service stops.
        shutil.rmtree(self.root.p(self.creds))
        deaths = re.findall(r"worker \d+ (?:killed by|exited with).*",
                            self.log())
        assert not deaths, deaths


def configure(root):
    """What the operator does after install: the proxy secret."""
    root.write("/etc/sealmd/proxy_secret",
               secrets.token_hex(32).encode() + b"\n")


def store_and_read(test, d, tag):
    iid, project = str(uuid.uuid4()), "proj-" + tag
    value = f"deb-test-{tag}-{secrets.token_hex(8)}"
    d.ctl("instance", "add", iid, "--project", project)
    test.assertEqual(d.post(iid, project, value), 200)
    test.assertEqual(d.ctl("get", iid), value + "\n")
    return iid, value


class Version(unittest.TestCase):
    def test_changelog_is_sealmd_version(self):
        with open(os.path.join(TOP, "debian/changelog")) as f:
            deb_ver = re.match(r"\S+ \(([^)-]+)", f.readline()).group(1)
        with open(os.path.join(TOP, "broker/broker.h")) as f:
            ver = re.search(r'SEALMD_VERSION\s+"([^"]+)"', f.read()).group(1)
        self.assertEqual(deb_ver, ver, "bump debian/changelog with "
                         "SEALMD_VERSION")


@unittest.skipUnless(IS_ROOT, "NOT ROOT: the Debian package tests install "
                     "into chroots and need root")
class Lintian(unittest.TestCase):
    def test_no_errors_no_unexplained_warnings(self):
        changes = [f for f in os.listdir(pkgs["new"])
                   if f.endswith(".changes")]
        self.assertEqual(len(changes), 1)
        r = subprocess.run(["lintian", "--fail-on", "error,warning",
                            os.path.join(pkgs["new"], changes[0])],
                           capture_output=True, timeout=600)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertNotRegex(out, r"(?m)^[EW]: ")


@unittest.skipUnless(IS_ROOT, "NOT ROOT: the Debian package tests install "
                     "into chroots and need root")
class GuestAlone(unittest.TestCase):
    def test_pulls_in_only_libsodium_and_libc(self):
        f = deb("new", "sealmd-guest")
        dep = run(["dpkg-deb", "-f", f, "Depends"]).strip()
        names = {d.strip().split()[0] for d in dep.split(",")}
        self.assertEqual(names, {"libc6", "libsodium23"}, dep)
        root = Root("guest")
        try:
            before = root.packages()
            root.apt_install(f)
            new = {p.split()[0] for p in root.packages() - before}
            self.assertEqual(new, {"sealmd-guest", "libsodium23"})
            # Beside the kernel's vDSO and the dynamic loader.
            libs = {os.path.basename(x).split(".so")[0] for x in
                    re.findall(r"(?m)^\s*(\S+)",
                               root.out("ldd", "/usr/bin/sealmd-guest"))}
            libs = {x for x in libs if x != "linux-vdso" and
                    not x.startswith("ld-linux")}
            self.assertEqual(libs, {"libsodium", "libc"})
        finally:
            root.cleanup()


@unittest.skipUnless(IS_ROOT, "NOT ROOT: the Debian package tests install "
                     "into chroots and need root")
class FreshInstall(unittest.TestCase):
    """One root through install, configuration, service, remove, purge;
    the tests run in their names' order."""

    @classmethod
    def setUpClass(cls):
        cls.root = Root("fresh")
        cls.out = cls.root.apt_install(deb("new", "sealmd"),
                                       deb("new", "sealmdctl"))

    @classmethod
    def tearDownClass(cls):
        cls.root.cleanup()

    def test_1_users(self):
        r = self.root
        for user in ("sealmd", "sealmd-worker"):
            ent = r.out("getent", "passwd", user).split(":")
            self.assertEqual(ent[6].strip(), "/usr/sbin/nologin")
            self.assertLess(int(ent[2]), 1000, ent)
        r.out("getent", "group", "sealmd")

    def test_2_modes_and_first_key(self):
        r = self.root
        self.assertEqual(r.stat("/etc/sealmd"), (0o755, "root", "root"))
        self.assertEqual(r.stat("/etc/sealmd/keys"), (0o700, "root", "root"))
        self.assertEqual(os.listdir(r.p("/etc/sealmd/keys")), ["1"])
        self.assertEqual(r.stat("/etc/sealmd/keys/1"),
                         (0o600, "root", "root"))
        self.assertEqual(os.path.getsize(r.p("/etc/sealmd/keys/1")), 32)
        self.assertIn("created the first key", self.out)
        self.assertEqual(r.stat("/var/lib/sealmd"),
                         (0o700, "sealmd", "sealmd"))
        self.assertIn("/etc/sealmd/sealmd.conf ",
                      r.out("dpkg-query", "-W", "-f", "${Conffiles}",
                            "sealmd"))

    def test_3_units_enabled_not_started(self):
        r = self.root
        for link in ("sockets.target.wants/sealmd.socket",
                     "sockets.target.wants/sealmd-owner.socket",
                     "multi-user.target.wants/sealmd.service"):
            self.assertTrue(os.path.islink(r.p("/etc/systemd/system/" +
                                               link)), link)
        # There is no systemd here to watch what the scripts ask of it:
        # read them.  Nothing is started on a fresh install; an upgrade
        # restarts the service only if it runs, and not its sockets;
        # remove stops all three.
        with open(r.p("/var/lib/dpkg/info/sealmd.postinst")) as f:
            post = f.read()
        self.assertEqual(re.findall(r"deb-systemd-invoke .*", post),
                         ["deb-systemd-invoke try-restart 'sealmd.service' "
                          ">/dev/null || true"])
        self.assertIn('if [ -n "$2" ]; then\n\t\t\tdeb-systemd-invoke '
                      'try-restart', post)
        with open(r.p("/var/lib/dpkg/info/sealmd.prerm")) as f:
            pre = f.read()
        self.assertRegex(pre, r'"\$1" = remove \] &&\s+\[ -d '
                         r'/run/systemd/system \]; then\s+'
                         r'deb-systemd-invoke stop sealmd.service '
                         r'sealmd.socket \\\s+sealmd-owner.socket')

    def test_4_config_check(self):
        r = self.root
        # Without a secret the unit has nothing to load; -n reads the file.
        configure(r)
        r.out("sealmd", "-n", "-c", "/etc/sealmd/sealmd.conf")

    def test_5_serves(self):
        d = Daemon(self.root)
        try:
            store_and_read(self, d, "fresh")
        finally:
            d.stop()

    def test_6_remove_keeps_purge_deletes(self):
        r = self.root
        key = r.sha("/etc/sealmd/keys/1")
        db = r.sha("/var/lib/sealmd/sealmd.db")
        r.out("apt-get", "remove", "-y", "-q", "sealmd")
        self.assertEqual(r.sha("/etc/sealmd/keys/1"), key)
        self.assertEqual(r.sha("/var/lib/sealmd/sealmd.db"), db)
        self.assertTrue(os.path.exists(r.p("/etc/sealmd/sealmd.conf")))
        self.assertFalse(os.path.exists(r.p("/usr/sbin/sealmd")))
        r.out("apt-get", "purge", "-y", "-q", "sealmd")
        for gone in ("/var/lib/sealmd", "/etc/sealmd/keys",
                     "/etc/sealmd/sealmd.conf", "/run/sealmd"):
            self.assertFalse(os.path.lexists(r.p(gone)), gone)
        # What the operator wrote stays, as README.Debian says, and so
        # do the users.
        self.assertTrue(os.path.exists(r.p("/etc/sealmd/proxy_secret")))
        r.out("getent", "passwd", "sealmd")
        self.assertFalse(os.path.lexists(
            r.p("/etc/systemd/system/sockets.target.wants/sealmd.socket")))


@unittest.skipUnless(IS_ROOT, "NOT ROOT: the Debian package tests install "
                     "into chroots and need root")
class Upgrade(unittest.TestCase):
    def test_newer_over_older_keeps_store_keys_config(self):
        r = Root("upgrade")
        try:
            # With systemd here, postinst makes the users with
            # systemd-sysusers (FreshInstall's root has adduser only).
            r.out("apt-get", "install", "-y", "-q",
                  "--no-install-recommends", "systemd")
            r.apt_install(deb("old", "sealmd"), deb("old", "sealmdctl"))
            for user in ("sealmd", "sealmd-worker"):
                r.out("getent", "passwd", user)
            configure(r)
            with open(r.p("/etc/sealmd/sealmd.conf"), "a") as f:
                f.write("# changed by the operator\n")
            d = Daemon(r)
            iid, value = store_and_read(self, d, "old")
            d.stop()
            kept = {p: r.sha(p) for p in ("/etc/sealmd/keys/1",
                                          "/etc/sealmd/sealmd.conf",
                                          "/etc/sealmd/proxy_secret",
                                          "/var/lib/sealmd/sealmd.db")}
            out = r.apt_install(deb("new", "sealmd"),
                                deb("new", "sealmdctl"))
            self.assertNotIn("created the first key", out)
            self.assertEqual(os.listdir(r.p("/etc/sealmd/keys")), ["1"])
            for p, h in kept.items():
                self.assertEqual(r.sha(p), h, p)
            self.assertEqual(r.stat("/etc/sealmd/keys"),
                             (0o700, "root", "root"))
            ver = r.out("dpkg-query", "-W", "-f", "${Version}", "sealmd")
            self.assertNotIn("~prev", ver)
            # The units as installed, on this minimal system: procps came
            # with the package for ExecReload=; man-db did not (--man=no).
            units = ["/lib/systemd/system/" + u for u in
                     ("sealmd.service", "sealmd.socket",
                      "sealmd-owner.socket")]
            v = r.run("systemd-analyze", "verify", "--man=no", *units,
                      check=False)
            self.assertEqual((v.returncode, v.stdout + v.stderr), (0, b""))
            d = Daemon(r)
            try:
                self.assertEqual(d.ctl("get", iid), value + "\n")
                store_and_read(self, d, "new")
            finally:
                d.stop()
        finally:
            r.cleanup()


if __name__ == "__main__":
    if not IS_ROOT:
        print("check-deb: SKIPPED, NOT ROOT: the Debian package tests "
              "need root", file=sys.stderr, flush=True)
    unittest.main(verbosity=2)
