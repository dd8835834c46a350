# SPDX-License-Identifier: ISC
"""Session tokens across nodes (issue 16, part 3): two daemons with one
token key, as behind a load balancer without stickiness.  A token from
node A works on node B; bound to one guest it fails for another; expired
it fails on both; a node with another key refuses it; a rotation by
reload keeps the previous key's tokens working until it is dropped."""
import os
import re
import secrets
import shutil
import signal
import tempfile
import time
import unittest

from sealmd_fixture import (Daemon, canary, cleanup_all, remember_secret,
                            uuid4)

PW = "/openstack/latest/password"
TOKEN = "/openstack/api/token"
WAIT = 10           # seconds a reload may take on a loaded machine


def key_file(where, name, data=None):
    path = os.path.join(where, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        # test_zz_secrets looks for the key in every log and store.
        f.write(data or remember_secret(secrets.token_hex(32)).encode() +
                b"\n")
    return path


def key_dir(test):
    where = tempfile.mkdtemp(prefix="sealmd-tokkey-")
    test.addClassCleanup(shutil.rmtree, where, True)
    return where


GUESTS = (("direct", "127.0.0.1", "session_tokens = required"),
          ("proxy", "127.0.0.1", "session_tokens = optional"))


class TwoNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        where = key_dir(cls)
        cls.key1 = key_file(where, "token_key_1")
        cls.key2 = key_file(where, "token_key_2")
        cls.nodes = []
        # B shares A's sealing key and proxy secret, as nodes must, and
        # its PostgreSQL store when there is one (make integration-pg).
        for i in range(2):
            d = Daemon(guests=GUESTS, limits={"rate": 0},
                       share=cls.nodes[0] if i else None,
                       conninfo=cls.nodes[0].conninfo if i else None,
                       extra_sealmd=f"token_key_file = {cls.key1}")
            cls.nodes.append(d)
            cls.addClassCleanup(d.cleanup)
            d.start()
        cls.a, cls.b = cls.nodes
        cls.inst1, cls.inst2 = uuid4(), uuid4()
        shared = cls.a.conninfo is not None
        for d in cls.nodes[:1] if shared else cls.nodes:
            for inst, addr in ((cls.inst1, "127.0.0.1"),
                               (cls.inst2, "127.0.0.2")):
                st, _ = d.register(inst, "tok", addresses=[addr])
                if st not in (200, 201):
                    raise RuntimeError(f"register: {st}")

    def token(self, d, ttl="60", source=None, port=None, extra=None):
        h = {"X-Metadata-Token-TTL-Seconds": ttl}
        h.update(extra or {})
        st, _, tok = d.guest("PUT", TOKEN, headers=h, source=source,
                             port=port)
        self.assertEqual(st, 200)
        self.assertEqual(len(tok), 60)
        return remember_secret(tok)

    def get(self, d, tok, source=None):
        return d.guest("GET", PW, source=source,
                       headers={"X-Metadata-Token": tok})[0]

    def reload(self, d, conf_lines):
        """Rewrite the token key lines of d's [sealmd], SIGHUP, wait."""
        with open(d.conf) as f:
            conf = f.read()
        conf = re.sub(r"^token_key.*\n", "", conf, flags=re.M)
        conf = conf.replace("[sealmd]\n", "[sealmd]\n" + conf_lines, 1)
        with open(d.conf, "w") as f:
            f.write(conf)
        pos = len(d.log())
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + WAIT
        while time.time() < deadline:
            text = d.log()[pos:]
            if re.search(r"sealmd: reload: .*running configuration stays",
                         text):
                self.fail("reload refused:\n" + text)
            if re.search(r"sealmd: reloaded: ", text):
                return text
            time.sleep(0.05)
        self.fail("no reload line:\n" + d.log()[pos:])

    def test_a_token_from_one_node_works_on_the_other(self):
        tok = self.token(self.a)
        self.assertEqual(self.get(self.b, tok), 200)
        self.assertEqual(self.get(self.a, tok), 200)
        tok = self.token(self.b)
        self.assertEqual(self.get(self.a, tok), 200)
        # The log names the same key on both, and never the token.
        kid = re.findall(r"session tokens: shared key ([0-9a-f]{8})",
                         self.a.log())
        self.assertTrue(kid, self.a.log())
        self.assertIn(f"session tokens: shared key {kid[-1]}", self.b.log())
        for d in self.nodes:
            self.assertNotIn(tok, d.log())

    def test_bound_to_one_guest_fails_for_another(self):
        tok = self.token(self.a, source="127.0.0.1")
        self.assertEqual(self.get(self.b, tok, source="127.0.0.2"), 401)
        tok2 = self.token(self.a, source="127.0.0.2")
        self.assertEqual(self.get(self.b, tok2, source="127.0.0.2"), 200)
        self.assertEqual(self.get(self.b, tok2, source="127.0.0.1"), 401)

    def test_a_post_with_the_other_node_s_token(self):
        """The guest's POST, with a token from A, lands through B."""
        value = canary("tokens-nodes")
        tok = self.token(self.a, source="127.0.0.2")
        st, _, _ = self.b.guest("POST", PW, body=value.encode(),
                                source="127.0.0.2",
                                headers={"X-Metadata-Token": tok})
        self.assertEqual(st, 200)
        st, js = self.b.owner("GET", f"/servers/{self.inst2}/"
                              "os-server-password")
        self.assertEqual((st, js), (200, {"password": value}))

    def test_proxy_token_bound_to_its_instance_on_the_other_node(self):
        port_a, port_b = self.a.ports[1], self.b.ports[1]
        h1 = dict(self.a.proxy_headers(self.inst1, "tok"),
                  **{"X-Forwarded-For": "10.0.0.5"})
        tok = self.token(self.a, port=port_a, extra=h1)
        h1["X-Metadata-Token"] = tok
        self.assertEqual(self.b.guest("GET", PW, headers=h1,
                                      port=port_b)[0], 200)
        h2 = dict(self.b.proxy_headers(self.inst2, "tok"),
                  **{"X-Metadata-Token": tok})
        self.assertEqual(self.b.guest("GET", PW, headers=h2,
                                      port=port_b)[0], 401)
        # A proxy listener's token is not a direct listener's.
        self.assertEqual(self.get(self.b, tok), 401)

    def test_expired_fails_on_both(self):
        tok = self.token(self.a, ttl="1")
        self.assertEqual(self.get(self.b, tok), 200)
        time.sleep(1.2)
        # Bounded: an expired token must fail at once, on every node.
        self.assertEqual(self.get(self.b, tok), 401)
        self.assertEqual(self.get(self.a, tok), 401)

    def test_zz_rotation_by_reload(self):
        old = self.token(self.a)
        # 1: every node accepts the next key before any issues with it.
        for d in self.nodes:
            self.reload(d, f"token_key_file = {self.key1}\n"
                           f"token_key_previous_file = {self.key2}\n")
        self.assertEqual(self.get(self.b, old), 200)
        # 2: every node issues with it and still accepts the old one.
        # Node A goes first: its new tokens work on B before B moves.
        self.reload(self.a, f"token_key_file = {self.key2}\n"
                            f"token_key_previous_file = {self.key1}\n")
        new = self.token(self.a)
        self.assertEqual(self.get(self.b, new), 200)
        self.reload(self.b, f"token_key_file = {self.key2}\n"
                            f"token_key_previous_file = {self.key1}\n")
        self.assertEqual(self.get(self.b, old), 200)
        self.assertEqual(self.get(self.a, self.token(self.b)), 200)
        # 3: once the old tokens could have expired, the old key goes.
        for d in self.nodes:
            self.reload(d, f"token_key_file = {self.key2}\n")
        self.assertEqual(self.get(self.b, old), 401)
        self.assertEqual(self.get(self.a, old), 401)
        self.assertEqual(self.get(self.b, new), 200)


class KeyConfiguration(unittest.TestCase):
    def test_node_without_the_key_refuses(self):
        """Without token_key_file a node has a key of its own, says so,
        and refuses the tokens of a node that has one."""
        key = key_file(key_dir(self), "token_key")
        a = Daemon(guests=GUESTS[:1], limits={"rate": 0},
                   extra_sealmd=f"token_key_file = {key}")
        b = Daemon(guests=GUESTS[:1], limits={"rate": 0})
        try:
            a.start()
            b.start()
            self.assertRegex(b.log(), r"session tokens: a key of this "
                             r"node's own")
            for d in (a, b):
                d.register(uuid4(), "k", addresses=["127.0.0.1"])
            st, _, tok = a.guest("PUT", TOKEN, headers={
                "X-Metadata-Token-TTL-Seconds": "60"})
            self.assertEqual(st, 200)
            h = {"X-Metadata-Token": tok.decode()}
            self.assertEqual(a.guest("GET", PW, headers=h)[0], 200)
            self.assertEqual(b.guest("GET", PW, headers=h)[0], 401)
        finally:
            cleanup_all(a, b)

    def test_short_key_refused_at_start(self):
        path = key_file(key_dir(self), "short", b"too short\n")
        d = Daemon(guests=GUESTS[:1], extra_sealmd=f"token_key_file = {path}")
        try:
            d.expect_exit()
            with self.assertRaises(RuntimeError):
                d.start()
            self.assertIn("token key is shorter than 32 bytes", d.log())
            self.assertNotIn("too short", d.log())
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
