"""WebSocket through the gateway and the mesh: the handshake is passed on with its hop-by-hop
fields, then frames flow both ways unchanged (text, a 200 KiB binary frame, close); other
upgrades are refused."""
import base64
import os
import socket
import sys
import unittest

from gantry_support import Agent, write_app
from ws_echo_upstream import accept_key, frame, read_frame

WS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ws_echo_upstream.py")

APP = f"""
services:
  echo:
    command: [{sys.executable}, {WS}]
    health: {{ http: /healthz, interval: 200ms }}
gateway:
  routes:
    - {{ path: /ws, service: echo }}
"""


def handshake(address, host="x", path="/ws"):
    h, port = address.rsplit(":", 1)
    sock = socket.create_connection((h, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            raise AssertionError(f"closed during the handshake: {head!r}")
        head += chunk
    return sock, head.decode(), key


class WebSocket(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=2)
        cls.agent.wait_ready(timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    def echo_session(self, address, host):
        sock, head, key = handshake(address, host)
        self.assertTrue(head.startswith("HTTP/1.1 101"), head)
        self.assertIn("Upgrade: websocket", head)
        self.assertIn(f"Sec-WebSocket-Accept: {accept_key(key)}", head)
        self.assertEqual(read_frame(sock), (0x1, b"hello from echo-1"))  # sent with the 101
        mask = os.urandom(4)
        for i in range(20):
            sock.sendall(frame(0x1, f"message {i}".encode(), mask))
            self.assertEqual(read_frame(sock), (0x1, f"message {i}".encode()))
        big = os.urandom(200 * 1024)  # larger than any socket buffer: backpressure both ways
        sock.sendall(frame(0x2, big, mask))
        self.assertEqual(read_frame(sock), (0x2, big))
        sock.sendall(frame(0x8, b"\x03\xe8", mask))
        self.assertEqual(read_frame(sock), (0x8, b"\x03\xe8"))
        sock.settimeout(10)
        self.assertEqual(sock.recv(10), b"")  # the tunnel closes once the replica has
        sock.close()

    def test_through_the_gateway(self):
        self.echo_session(self.agent.gateway, "x")

    def test_through_the_mesh(self):
        self.echo_session(self.agent.mesh, "echo")

    def test_other_upgrades_are_refused(self):
        h, port = self.agent.gateway.rsplit(":", 1)
        with socket.create_connection((h, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                         b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
            reply = sock.recv(4096)
        self.assertTrue(reply.startswith(b"HTTP/1.1 501"), reply)
        self.assertIn(b"h2c", reply)


if __name__ == "__main__":
    unittest.main()
