"""The proxy against upstreams that misbehave and clients that push the protocol's corners."""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import unittest

from gantry_support import HELLO, Agent, http_request, raw_exchange, wait_for, write_app

ROGUE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rogue_upstream.py")


def connection(address):
    host, port = address.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=10)


class MisbehavingUpstream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(f"""
services:
  rogue:
    command: [{sys.executable}, {ROGUE}]
    health: {{ tcp: true }}
gateway:
  routes:
    - {{ path: /, service: rogue }}
"""), workers=1)
        cls.agent.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    def test_interim_responses_are_skipped_and_answers_never_cross(self):
        conn = connection(self.agent.gateway)
        for i in range(20):
            conn.request("POST", f"/item/{i}", body=f"payload-{i}")
            response = conn.getresponse()
            self.assertEqual((response.status, response.read().decode()), (200, f"POST /item/{i} payload-{i}"))
        conn.close()

    def test_head_answered_with_a_body_does_not_corrupt_the_next_exchange(self):
        for i in range(5):
            self.assertEqual(http_request(self.agent.gateway, "HEAD", f"/h{i}")[0], 200)
        for i in range(10):
            status, _, body = http_request(self.agent.gateway, "GET", f"/g{i}")
            self.assertEqual((status, body), (200, f"GET /g{i} "))

    def test_bad_chunked_framing_before_anything_was_forwarded_is_a_502(self):
        for method in ("GET", "POST"):
            status, _, body = http_request(self.agent.gateway, method, "/bad-chunked", body="x")
            self.assertEqual(status, 502, body)
            self.assertEqual(json.loads(body)["code"], "upstream_reset")

    def test_connections_the_upstream_closed_while_idle_are_not_used(self):
        def fill():
            http_request(self.agent.gateway, "GET", "/fill")
        threads = [threading.Thread(target=fill) for _ in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        time.sleep(1.5)  # the scenario itself: the upstream's idle timeout (1 s) passes
        for method in ("GET", "POST", "GET", "POST"):
            status, _, body = http_request(self.agent.gateway, method, "/after-idle", body="x")
            self.assertEqual(status, 200, body)

    def test_client_expecting_100_continue_gets_it_then_its_answer(self):
        host, port = self.agent.gateway.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
            interim = b""
            while not interim.endswith(b"\r\n\r\n"):  # before the body is sent: gantry must not wait
                chunk = sock.recv(100)
                self.assertTrue(chunk, interim)
                interim += chunk
            self.assertEqual(interim, b"HTTP/1.1 100 Continue\r\n\r\n")
            sock.sendall(b"hello")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
        self.assertTrue(reply.endswith(b"POST /upload hello"), reply)

    def test_hop_by_hop_and_connection_named_headers_are_not_forwarded(self):
        status, _, body = http_request(self.agent.gateway, "GET", "/headers", headers={
            "Connection": "keep-alive, X-Hop", "X-Hop": "secret", "Keep-Alive": "timeout=5",
            "X-End-To-End": "kept", "Expect": "100-continue"})
        self.assertEqual(status, 200)
        seen = json.loads(body)
        for dropped in ("x-hop", "keep-alive", "expect"):
            self.assertNotIn(dropped, seen)
        self.assertEqual(seen["x-end-to-end"], "kept")
        self.assertIn("host", seen)

    def test_absolute_form_sets_host_from_the_uri(self):
        reply = raw_exchange(self.agent.gateway, b"GET HTTP://shop.example/headers HTTP/1.1\r\n"
                             b"Host: other.example\r\nConnection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
        self.assertEqual(json.loads(reply.split(b"\r\n\r\n", 1)[1])["host"], "shop.example")

    def test_connect_and_odd_targets_are_refused(self):
        reply = raw_exchange(self.agent.gateway, b"CONNECT example:443 HTTP/1.1\r\nHost: example:443\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 501"), reply)
        reply = raw_exchange(self.agent.gateway, b"GET ftp://x/y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply)

    def test_error_answers_to_head_carry_no_body(self):
        conn = connection(self.agent.mesh)
        conn.request("HEAD", "/", headers={"Host": "nope"})
        response = conn.getresponse()
        self.assertEqual((response.status, response.read()), (404, b""))
        conn.request("GET", "/", headers={"Host": "nope"})  # same connection: must parse cleanly
        response = conn.getresponse()
        self.assertEqual(json.loads(response.read())["code"], "unknown_service")
        conn.close()


def remote_ports_of(pid):
    """Remote ports of process `pid`'s TCP sockets (from /proc/net/tcp; listeners give 0)."""
    inodes = set()
    folder = f"/proc/{pid}/fd"
    for fd in os.listdir(folder):
        try:
            link = os.readlink(os.path.join(folder, fd))
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            remote, inode = fields[2], fields[9]
            if inode in inodes:  # any state: a pooled socket to a dead peer sits in CLOSE_WAIT
                ports.add(int(remote.split(":")[1], 16))
    return ports


class PoolHygiene(unittest.TestCase):
    def test_restarted_replicas_leave_no_pooled_connections_behind(self):
        app = write_app(f"""
services:
  hello:
    command: [{HELLO}]
    health: {{ http: /healthz }}
gateway:
  routes:
    - {{ path: /, service: hello }}
""")
        with Agent(app, workers=1) as agent:
            agent.wait_ready()

            def fill_pool():
                threads = [threading.Thread(target=http_request, args=(agent.gateway, "GET", "/"))
                           for _ in range(12)]
                [t.start() for t in threads]
                [t.join() for t in threads]

            fill_pool()
            dead_ports = set()
            for _ in range(3):
                old = agent.ps()[0]
                self.assertIn(int(old["address"].rsplit(":", 1)[1]), remote_ports_of(agent.proc.pid))
                dead_ports.add(int(old["address"].rsplit(":", 1)[1]))
                os.kill(old["pid"], signal.SIGKILL)
                wait_for(lambda: agent.ps()[0]["pid"] not in (0, old["pid"]) and agent.ps()[0]["health"] == "healthy",
                         10, "a new healthy replica")
                fill_pool()
            # No connection to a dead replica's port is left in the pool.
            wait_for(lambda: not (remote_ports_of(agent.proc.pid) & dead_ports), 10,
                     f"connections to dead replicas {dead_ports} to close: "
                     f"{remote_ports_of(agent.proc.pid) & dead_ports}")


if __name__ == "__main__":
    unittest.main()
