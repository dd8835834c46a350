# SPDX-License-Identifier: ISC
"""An audit line the broker cannot write stops it before the answer
leaves (docs/audit.md, "When a line is written"): with its stderr a pipe
whose reader has gone, as when journald is gone, a guest read of a stored
value gets no value, and the broker exits 1."""
import http.client
import os
import select
import threading
import unittest

from sealmd_fixture import Daemon, canary, uuid4

VALUE_PATH = "/openstack/latest/password"


class AuditUnwritable(unittest.TestCase):
    def test_no_value_leaves_unaudited(self):
        d = Daemon(stderr_pipe=True)
        cut = threading.Event()

        def copy(pipe):
            """The fixture's copier, until cut: then the pipe's only
            reader closes it, and the broker's writes fail (EPIPE)."""
            fd = pipe.fileno()
            with pipe:
                while not cut.is_set():
                    if not select.select([fd], [], [], 0.05)[0]:
                        continue
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        return
                    d.logf.write(chunk)
                    d.logf.flush()

        d._copy_stderr = copy
        d.start()
        self.addCleanup(d.cleanup)
        iid = uuid4()
        value = canary("audit-unwritable").encode()
        self.assertEqual(d.register(iid, "p")[0], 201)
        h = d.proxy_headers(iid, "p")
        self.assertEqual(d.guest("POST", VALUE_PATH, body=value,
                                 headers=h)[0], 200)
        # The log works until now: the write's own line is there.
        self.assertTrue(d.wait_log(r"audit op=guest\.pw\.put .*status=200"),
                        d.log())

        d.expect_exit()
        d.expect_worker_deaths()
        cut.set()
        d.copier.join(5)
        self.assertFalse(d.copier.is_alive(), "the copier did not stop")
        try:
            status, _, body = d.guest("GET", VALUE_PATH, headers=h)
        except (OSError, http.client.HTTPException):
            status, body = None, b""
        self.assertNotIn(value, body, "the value left unaudited")
        self.assertNotEqual(status, 200)
        self.assertEqual(d.proc.wait(10), 1)


if __name__ == "__main__":
    unittest.main()
