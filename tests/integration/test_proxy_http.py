"""HTTP/1.1 through the real gateway: the smuggling and limits suite in raw bytes (each
malformed request gets its 4xx and a closed connection while a bystander connection keeps being
served), forwarding headers, keep-alive, slow clients (408) and the connection cap."""
import http.client
import json
import os
import socket
import sys
import time
import unittest

from gantry_support import Agent, http_request, raw_exchange, write_app

FLAKY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flaky_upstream.py")
CLOSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "close_delimited_upstream.py")

APP = f"""
services:
  echo:
    command: [{sys.executable}, {FLAKY}]
    health: {{ http: /healthz, interval: 200ms }}
  closer:
    command: [{sys.executable}, {CLOSER}]
    health: {{ http: /healthz, interval: 200ms }}
gateway:
  routes:
    - {{ path: /closer, service: closer }}
    - {{ path: /, service: echo }}
"""

LONG = b"a" * 9000
BIG_FIELD = b"X-Big: " + b"b" * 17000 + b"\r\n"
MANY_FIELDS = b"".join(b"X-F%d: v\r\n" % i for i in range(101))

# (what, raw request, expected status)
MALFORMED = [
    ("CL.TE", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400),
    ("TE.CL", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
    ("duplicate CL", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
    ("CL list", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\na", 400),
    ("negative CL", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    ("CL with a sign", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na", 400),
    ("TE obfuscated", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 400),
    ("TE twice", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE not last", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400),
    ("TE in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("space before colon", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: x\n\n", 400),
    ("bare CR", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
    ("NUL in a value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("bad header name", b"GET / HTTP/1.1\r\nHost: x\r\nX{A}: b\r\n\r\n", 400),
    ("missing Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("bad chunk size", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk size overflow", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400),
    ("chunk without CRLF", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    ("unknown expectation", b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417),
    ("request line too long", b"GET /" + LONG + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("header too large", b"GET / HTTP/1.1\r\nHost: x\r\n" + BIG_FIELD + b"\r\n", 431),
    ("too many fields", b"GET / HTTP/1.1\r\nHost: x\r\n" + MANY_FIELDS + b"\r\n", 431),
    ("body too large", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),
]

# Not malformed, but not built yet: refused, never silently downgraded.
NOT_SUPPORTED = [
    ("h2c upgrade", b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"),
    ("CONNECT", b"CONNECT example:443 HTTP/1.1\r\nHost: example:443\r\n\r\n"),
]


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


class Http(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=2)
        cls.agent.wait_ready(timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    def test_malformed_requests_get_their_status_and_a_close(self):
        self.assertGreaterEqual(len(MALFORMED), 20)
        host, port = self.agent.gateway.rsplit(":", 1)
        bystander = http.client.HTTPConnection(host, int(port), timeout=10)
        for what, raw, expected in MALFORMED:
            with self.subTest(what):
                reply = raw_exchange(self.agent.gateway, raw)  # reads until gantry closes
                self.assertEqual(status_of(reply), expected, reply[:200])
                self.assertIn(b"Connection: close", reply.split(b"\r\n\r\n")[0])
                bystander.request("GET", f"/still-served/{len(what)}")
                response = bystander.getresponse()
                self.assertEqual(response.status, 200)
                response.read()
        bystander.close()

    def test_upgrades_and_tunnels_are_refused_with_501(self):
        for what, raw in NOT_SUPPORTED:
            with self.subTest(what):
                host, port = self.agent.gateway.rsplit(":", 1)
                with socket.create_connection((host, int(port)), timeout=5) as sock:
                    sock.sendall(raw)
                    reply = sock.recv(4096)
                self.assertEqual(status_of(reply), 501, reply)
                self.assertIn(b"not supported yet", reply)

    def test_forwarding_headers(self):
        status, headers, body = http_request(self.agent.gateway, "GET", "/headers",
                                             headers={"X-Forwarded-For": "203.0.113.9",
                                                      "X-Forwarded-Proto": "https"})
        seen = json.loads(body)
        self.assertEqual(seen["x-forwarded-for"], "203.0.113.9, 127.0.0.1")
        self.assertEqual(seen["x-forwarded-proto"], "http")  # the gateway is the edge
        self.assertRegex(seen["x-request-id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        _, _, body = http_request(self.agent.gateway, "GET", "/headers",
                                  headers={"X-Request-Id": "mine"})
        self.assertEqual(json.loads(body)["x-request-id"], "mine")

    def test_keep_alive_survives_other_clients_closing(self):
        for _ in range(3):  # requests that ask to close must not make other answers close
            http_request(self.agent.gateway, "GET", "/x", headers={"Connection": "close"})
        host, port = self.agent.gateway.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        for i in range(5):
            conn.request("GET", f"/k{i}")
            response = conn.getresponse()
            self.assertEqual(response.getheader("Connection"), None)
            self.assertEqual(response.read().decode(), f"GET /k{i} ")
        sock = conn.sock
        self.assertIsNotNone(sock)  # still the first connection
        conn.close()

    def test_pipelined_requests_are_answered_in_order(self):
        reply = raw_exchange(self.agent.gateway,
                             b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
                             b"POST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                             b"GET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(reply.count(b"HTTP/1.1 200"), 3, reply)
        self.assertLess(reply.index(b"GET /p1"), reply.index(b"POST /p2 abc"))
        self.assertLess(reply.index(b"POST /p2 abc"), reply.index(b"GET /p3"))

    def test_a_body_delimited_by_the_close_ends_when_the_replica_closes(self):
        for i in range(20):  # its FIN comes with the last bytes: no later edge announces it
            started = time.monotonic()
            status, headers, body = http_request(self.agent.gateway, "GET", f"/closer/{i}")
            self.assertEqual((status, body), (200, f"until close: /closer/{i}"))
            self.assertEqual(headers.get("Connection"), "close")
            self.assertLess(time.monotonic() - started, 2)

    def test_chunked_request_bodies_arrive_whole(self):
        reply = raw_exchange(self.agent.gateway,
                             b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             b"Connection: close\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n")
        self.assertTrue(reply.endswith(b"POST /c abcde"), reply)

    def test_a_slow_client_gets_408(self):
        host, port = self.agent.gateway.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the end of the head
            started = time.monotonic()
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
        self.assertEqual(status_of(reply), 408, reply)
        self.assertGreater(time.monotonic() - started, 8)


class ConnectionCap(unittest.TestCase):
    def test_past_the_cap_new_clients_wait_for_a_free_slot(self):
        app = write_app(APP)
        with Agent(app, workers=1, extra_args=["--max-connections", "3"]) as agent:
            agent.wait_ready(timeout=60)
            host, port = agent.gateway.rsplit(":", 1)
            held = []
            for i in range(3):
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                conn.request("GET", f"/held{i}")
                conn.getresponse().read()
                held.append(conn)
            waiting = socket.create_connection((host, int(port)), timeout=10)
            waiting.sendall(b"GET /waiting HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            waiting.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                waiting.recv(100)  # accepted by the kernel, not served
            held[0].close()
            waiting.settimeout(10)
            reply = b""
            while chunk := waiting.recv(4096):
                reply += chunk
            self.assertEqual(status_of(reply), 200, reply)
            waiting.close()
            for conn in held[1:]:
                conn.close()


if __name__ == "__main__":
    unittest.main()
