# SPDX-License-Identifier: ISC
"""The real worker, under its real seccomp filter, against a broker played
by this test: the only way to send it an answer no sane broker sends.
An answer whose connection and request ids match but whose type does not
fit the request is a broker bug (issue 14): the worker logs it and closes
the connection, and never renders it."""
import os
import select
import socket
import struct
import subprocess
import time
import unittest

from sealmd_fixture import BUILD, uuid4

WORKER = os.path.join(BUILD, "sealmd-worker")

MSG_INIT, MSG_INIT_DONE, MSG_CONN_NEW = 2, 3, 6
MSG_REPORTS = 70
REPORTS_MAX = 32
MSG_OWNER_INST_DEL, MSG_OWNER_INST_DEL_ANS = 24, 25
MSG_OWNER_PW_GET_ANS = 29
ROLE_OWNER = 2
PW_MAX = 1020
HDR = struct.Struct("=IIII")
WAIT = 10


def msg_init():
    # uid, gid, drop, max_conns, header/body/idle timeouts, debug, tls,
    # chroot[256]
    return struct.pack("=9I256s", os.getuid(), os.getgid(), 0, 4, 5000,
                       5000, 5000, 0, 0, b"")


def msg_conn_new():
    # role, ident, listener, authorized, tls, tokens, header[64],
    # value[256]
    return struct.pack("=6I64s256s", ROLE_OWNER, 0, 0, 1, 0, 0, b"", b"")


def msg_pw(value):
    return struct.pack("=III", 200, 0, len(value)) + value.ljust(PW_MAX,
                                                                 b"\0")


class FakeBroker:
    def __init__(self):
        self.pending = b""
        self.chan, child = socket.socketpair(socket.AF_UNIX,
                                             socket.SOCK_SEQPACKET)
        self.sign, schild = socket.socketpair(socket.AF_UNIX,
                                              socket.SOCK_SEQPACKET)

        def fds():
            os.dup2(child.fileno(), 3)
            os.dup2(schild.fileno(), 4)
            os.setsid()
        self.proc = subprocess.Popen(
            [WORKER], env={}, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=fds, close_fds=False)
        child.close()
        schild.close()
        self.send(MSG_INIT, 0, 0, msg_init())
        self.expect(MSG_INIT_DONE)

    def send(self, type_, reqid, connid, payload=b"", fd=None):
        data = HDR.pack(type_, len(payload), reqid, connid) + payload
        if fd is None:
            self.chan.sendall(data)
        else:
            socket.send_fds(self.chan, [data], [fd])

    def recv(self, timeout=WAIT):
        """The next frame; the worker packs a turn's frames into one
        datagram (chan_pack), taken here one at a time."""
        if not self.pending:
            r, _, _ = select.select([self.chan], [], [], timeout)
            if not r:
                return None
            self.pending = self.chan.recv(65536)
            if not self.pending:
                return None
        data = self.pending
        type_, n, reqid, connid = HDR.unpack_from(data)
        if HDR.size + n > len(data):
            raise AssertionError(f"frame of {n} bytes in {len(data)}")
        self.pending = data[HDR.size + n:]
        return type_, reqid, connid, data[HDR.size:HDR.size + n]

    def expect(self, type_):
        m = self.recv()
        if m is None or m[0] != type_:
            raise AssertionError(f"want message {type_}, got {m}")
        return m

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        err = self.proc.stderr.read().decode("utf-8", "replace")
        self.proc.stderr.close()
        self.chan.close()
        self.sign.close()
        return err


class WrongAnswerType(unittest.TestCase):
    def setUp(self):
        self.b = FakeBroker()
        self.connid = (1 << 16) | 0
        self.client, theirs = socket.socketpair(socket.AF_UNIX,
                                                socket.SOCK_STREAM)
        self.client.settimeout(WAIT)
        self.b.send(MSG_CONN_NEW, 0, self.connid, msg_conn_new(),
                    fd=theirs.fileno())
        theirs.close()
        self.iid = uuid4()
        self.client.sendall(f"DELETE /instances/{self.iid} HTTP/1.1\r\n"
                            "Host: x\r\n\r\n".encode())
        type_, self.reqid, connid, body = self.b.expect(MSG_OWNER_INST_DEL)
        self.assertEqual(connid, self.connid)
        self.assertEqual(body[:36], self.iid.encode())

    def tearDown(self):
        self.client.close()
        self.err = self.b.stop()

    def read_all(self):
        out = b""
        deadline = time.time() + WAIT
        while time.time() < deadline:
            try:
                chunk = self.client.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and b"Connection: close" not in out:
                break
        return out

    def test_fitting_answer_is_rendered(self):
        """The control: the right type, the same ids, is the answer."""
        self.b.send(MSG_OWNER_INST_DEL_ANS, self.reqid, self.connid,
                    struct.pack("=I", 204))
        self.assertTrue(self.read_all().startswith(b"HTTP/1.1 204 "))

    def test_password_for_a_delete_is_never_rendered(self):
        secret = b"wrong-answer-" + os.urandom(6).hex().encode()
        self.b.send(MSG_OWNER_PW_GET_ANS, self.reqid, self.connid,
                    msg_pw(secret))
        out = self.read_all()
        self.assertNotIn(secret, out)
        self.assertEqual(out, b"", "an answer was rendered")
        # Its close, reported in the turn's MSG_REPORTS: (connid, 0).
        m = self.b.expect(MSG_REPORTS)
        n = struct.unpack_from("=I", m[3])[0]
        entries = [struct.unpack_from("=II", m[3], 4 + 8 * i)
                   for i in range(min(n, REPORTS_MAX))]
        self.assertIn((self.connid, 0), entries)
        self.b.proc.kill()
        self.b.proc.wait()
        err = self.b.proc.stderr.read().decode("utf-8", "replace")
        self.assertRegex(err, r"answer of type 29 to a request of type "
                         r"24: connection closed")
        self.assertNotIn(secret.decode(), err)


if __name__ == "__main__":
    unittest.main()
