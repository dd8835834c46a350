# SPDX-License-Identifier: ISC
"""A full disk under the store: writes fail with 503 (never a false 200),
reads keep working, and writes work again once there is room.

The state directory lives on a 2 MiB tmpfs mounted for this test.  The
log goes elsewhere (a full disk also fails writes to a log in the state
directory, and the test wants to read it; in production journald keeps it
on another file system).

Getting SQLite to really hit the wall: in WAL mode a commit appends frames
to the -wal file, which only starts over after a checkpoint, and SQLite
checkpoints on its own only at 1000 pages (4 MiB), more than this file
system holds.  So after the filler takes the last free page, the next
commit must grow the -wal file and fails with SQLITE_FULL.  The -shm file
is written page by page when SQLite creates it (os_unix.c allocates shared
memory that way so that a full disk is an error, not a SIGBUS), so reads
go on working.
"""
import errno
import os
import shutil
import subprocess
import tempfile
import unittest

from sealmd_fixture import IS_ROOT, Daemon, canary, uuid4

PW = "/openstack/latest/password"


def fill(path, limit=8 << 20):
    """Write to path until the file system refuses, from 64 KiB writes down
    to single bytes.  Returns the bytes written (at most limit)."""
    total = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            chunk = b"\0" * size
            for _ in range(limit // size + 1):
                if total >= limit:
                    break
                try:
                    n = os.write(fd, chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
                total += n
                if n < size:
                    break
        os.fsync(fd)
    finally:
        os.close(fd)
    return total


class FullDisk(unittest.TestCase):
    def setUp(self):
        if not IS_ROOT:
            self.skipTest("SKIPPED (loudly): mounting a tmpfs needs root")
        self.mnt = tempfile.mkdtemp(prefix="sealmd-fulldisk-")
        self.logdir = tempfile.mkdtemp(prefix="sealmd-fulldisk-log-")
        self.addCleanup(shutil.rmtree, self.logdir, True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=2m,mode=0700", "tmpfs", self.mnt],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            os.rmdir(self.mnt)
            self.skipTest("SKIPPED (loudly): cannot mount a tmpfs: " +
                          r.stderr.decode(errors="replace").strip())
        self.addCleanup(self.unmount)
        self.daemons = []
        self.addCleanup(self.stop_all)

    def unmount(self):
        r = subprocess.run(["umount", self.mnt], capture_output=True,
                           timeout=30)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", self.mnt], capture_output=True,
                           timeout=30)
        try:
            os.rmdir(self.mnt)
        except OSError:
            pass

    def stop_all(self):
        for d in self.daemons:
            d.cleanup()

    def start(self, n):
        d = Daemon(state=self.mnt, keep_state=True)
        # Before start(): the log goes off the small file system.
        d.log_path = os.path.join(self.logdir, f"sealmd-{n}.log")
        self.daemons.append(d)
        return d.start()

    def pw(self, d, iid):
        st, js = d.owner("GET", f"/servers/{iid}/os-server-password")
        self.assertEqual(st, 200, js)
        return js["password"]

    def test_full_disk(self):
        d = self.start(1)
        a, b, c = uuid4(), uuid4(), uuid4()
        for iid in (a, b, c):
            self.assertEqual(d.register(iid, "proj-full")[0], 201)
        va, vb, vc = (canary(t).encode() for t in ("full-a", "full-b",
                                                    "full-c"))
        ha, hb, hc = (d.proxy_headers(i, "proj-full") for i in (a, b, c))
        self.assertEqual(d.guest("POST", PW, body=va, headers=ha)[0], 200)

        filler = os.path.join(self.mnt, "filler")
        wrote = fill(filler)
        st = os.statvfs(self.mnt)
        print(f"\nfull disk: filler {wrote} bytes, {st.f_bavail} blocks "
              f"free; db files: " + ", ".join(
                  f"{os.path.basename(p)}={os.path.getsize(p)}"
                  for p in (d.db, d.db + "-wal", d.db + "-shm")
                  if os.path.exists(p)), flush=True)
        self.assertEqual(st.f_bavail, 0, "the file system is not full")

        # A write: 503, never 200, and nothing half-stored.
        status, _, _ = d.guest("POST", PW, body=vb * 20, headers=hb)
        self.assertEqual(status, 503, "POST on a full disk")
        self.assertTrue(d.wait_log(r"database or disk is full", 2),
                        "no log line about the full disk")
        self.assertEqual(self.pw(d, b), "")
        # A registration (another write): 503 too, and it did not happen.
        e = uuid4()
        self.assertEqual(d.register(e, "proj-full")[0], 503)
        self.assertEqual(d.owner("GET", f"/instances/{e}")[0], 404)
        # Reads go on: the owner and the guest see the stored value.
        self.assertEqual(self.pw(d, a), va.decode())
        self.assertEqual(d.guest("GET", PW, headers=ha)[:3:2], (200, va))
        st, listing = d.owner("GET", "/instances")
        self.assertEqual(st, 200)
        self.assertEqual(len(listing["instances"]), 3)
        self.assertEqual(d.owner("GET", "/status")[0], 200)
        # The guest may retry later: still 503 while full, no 409.
        self.assertEqual(d.guest("POST", PW, body=vb, headers=hb)[0], 503)

        # Room again: writes work, with no restart.
        os.unlink(filler)
        self.assertEqual(d.guest("POST", PW, body=vb, headers=hb)[0], 200)
        self.assertEqual(d.guest("POST", PW, body=vc, headers=hc)[0], 200)
        self.assertEqual(d.register(e, "proj-full")[0], 201)
        self.assertEqual(self.pw(d, b), vb.decode())
        self.assertEqual(self.pw(d, c), vc.decode())
        self.assertNotRegex(d.log(), r"killing worker|worker \d+ (exited|"
                                     r"killed)")

        # And all of it is on disk: a restart on the same state reads it.
        self.assertEqual(d.stop(), 0)
        d2 = self.start(2)
        for iid, v in ((a, va), (b, vb), (c, vc)):
            self.assertEqual(self.pw(d2, iid), v.decode())
        self.assertEqual(d2.owner("GET", f"/instances/{e}")[0], 200)


if __name__ == "__main__":
    unittest.main()
