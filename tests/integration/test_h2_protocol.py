"""HTTP/2 protocol cases written with python3-h2's HPACK and raw frames (no h2spec here): a
request over h2c, a bad frame, and the flood attacks (rapid reset, CONTINUATION flood,
HPACK bomb, PING flood). Each hostile connection gets GOAWAY (or a reset stream) and is closed,
costs gantry bounded CPU and memory, and a bystander gRPC client is served throughout."""
import os
import socket
import struct
import sys
import time
import unittest

import grpc
import hpack

from gantry_support import Agent, write_app

HERE = os.path.dirname(os.path.abspath(__file__))
GRPC_SERVER = os.path.join(HERE, "grpc_echo_server.py")

APP = f"""
services:
  echo:
    command: [{sys.executable}, {GRPC_SERVER}]
    protocol: grpc
    health: {{ grpc: true, interval: 200ms }}
gateway:
  routes:
    - {{ path: /test.Echo, service: echo }}
"""

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ENHANCE_YOUR_CALM = 0xB


def frame(kind, flags, stream, payload=b""):
    return struct.pack("!I", len(payload))[1:] + bytes([kind, flags]) + struct.pack("!I", stream) + payload


def request_block(path="/test.Echo/Echo", extra=()):
    return hpack.Encoder().encode([(":method", "POST"), (":scheme", "http"), (":path", path),
                                   (":authority", "echo"), ("content-type", "application/grpc"),
                                   ("te", "trailers"), *extra])


class Client:
    """A raw HTTP/2 client connection: frames are sent as given, and what the server says is
    read frame by frame into (kind, stream, value, end_stream) tuples: ("headers", 1, {...}),
    ("data", 1, b"..."), ("rst", 1, code), ("goaway", 0, code)."""

    def __init__(self, address, receive_buffer=0):
        host, port = address.rsplit(":", 1)
        self.sock = socket.socket()
        if receive_buffer:  # a client that reads nothing soon fills gantry's output
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        self.decoder = hpack.Decoder()
        self.buffer = b""
        self.events = []
        self.closed = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def _parse(self):
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                return
            kind, flags = self.buffer[3], self.buffer[4]
            stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            payload = self.buffer[9:9 + length]
            self.buffer = self.buffer[9 + length:]
            end = bool(flags & 0x1)
            if kind == 1:  # HEADERS (gantry sends no padding, priority or CONTINUATION)
                fields = dict(self.decoder.decode(payload, raw=True))
                self.events.append(("headers", stream, {k.decode(): v.decode() for k, v in fields.items()}, end))
            elif kind == 0:
                self.events.append(("data", stream, payload, end))
            elif kind == 3:
                self.events.append(("rst", stream, struct.unpack("!I", payload)[0], True))
            elif kind == 7:
                self.events.append(("goaway", 0, struct.unpack("!I", payload[4:8])[0], True))

    def read_until(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate() and not self.closed and time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                break
            self.buffer += data
            self._parse()
        return predicate()

    def ended(self, stream):
        return lambda: any(e[1] == stream and e[3] for e in self.events if e[0] != "goaway")

    def of(self, kind, stream=None):
        return [e for e in self.events if e[0] == kind and (stream is None or e[1] == stream)]

    def terminated(self):
        return [e[2] for e in self.of("goaway")]

    def close(self):
        self.sock.close()


def agent_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agent_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


class H2Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=2)
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)
        cls.bystander = grpc.insecure_channel(cls.agent.gateway)
        cls.addClassCleanup(cls.bystander.close)

    def client(self, receive_buffer=0):
        client = Client(self.agent.gateway, receive_buffer)
        self.addCleanup(client.close)
        return client

    def assert_bystander_served(self):
        call = self.bystander.unary_unary("/test.Echo/Echo", request_serializer=None,
                                          response_deserializer=None)
        self.assertTrue(call(b"still here", timeout=10).endswith(b":still here"))

    def bounded(self, attack, cpu_seconds=3.0, rss_mb=64):
        """Runs `attack`, checking what it cost the agent."""
        pid = self.agent.proc.pid
        cpu, rss = agent_cpu_seconds(pid), agent_rss_mb(pid)
        attack()
        self.assertLess(agent_cpu_seconds(pid) - cpu, cpu_seconds, "CPU spent on the attack")
        self.assertLess(agent_rss_mb(pid) - rss, rss_mb, "memory grown by the attack")
        self.assert_bystander_served()

    def test_a_request_over_h2c(self):
        client = self.client()
        client.send(PREFACE + frame(4, 0, 0) +
                    frame(1, 0x4, 1, request_block()) +          # HEADERS, END_HEADERS
                    frame(0, 0x1, 1, b"\x00\x00\x00\x00\x02hi"))  # DATA, END_STREAM
        self.assertTrue(client.read_until(client.ended(1)), client.events)
        head, trailers = client.of("headers", 1)[0], client.of("headers", 1)[-1]
        self.assertEqual(head[2][":status"], "200")
        self.assertEqual(trailers[2]["grpc-status"], "0")
        data = b"".join(e[2] for e in client.of("data", 1))
        self.assertEqual(data[5:], b"echo-1:hi")

    def test_a_bad_frame_after_the_preface_gets_goaway_and_a_close(self):
        client = self.client()
        client.send(PREFACE + frame(4, 0, 0) + frame(0, 0, 0, b"data on stream zero"))
        self.assertTrue(client.read_until(lambda: client.closed))
        self.assertEqual(client.terminated(), [1])  # PROTOCOL_ERROR
        self.assert_bystander_served()

    def test_rapid_reset_is_cut_off(self):
        client = self.client()

        def attack():
            frames = [PREFACE, frame(4, 0, 0)]
            for i in range(2000):  # CVE-2023-44487: open and cancel, as fast as possible
                stream = 2 * i + 1
                frames.append(frame(1, 0x4, stream, request_block()))
                frames.append(frame(3, 0, stream, struct.pack("!I", 8)))  # RST_STREAM CANCEL
            client.send(b"".join(frames))
            client.read_until(lambda: client.closed, timeout=20)

        self.bounded(attack)
        self.assertEqual(client.terminated(), [ENHANCE_YOUR_CALM])

    def test_continuation_flood_is_cut_off(self):
        client = self.client()

        def attack():
            frames = [PREFACE, frame(4, 0, 0), frame(1, 0, 1, request_block())]  # no END_HEADERS
            frames += [frame(9, 0, 1, b"\x40\x01a\x01b")] * 10000  # CONTINUATION, never ending
            client.send(b"".join(frames))
            client.read_until(lambda: client.closed, timeout=20)

        self.bounded(attack)
        self.assertTrue(client.closed)
        self.assertEqual(len(client.terminated()), 1)

    def test_hpack_bomb_is_refused_then_cut_off(self):
        client = self.client()
        encoder = hpack.Encoder()
        big = ("x-big", "a" * 4000)

        def bomb(stream):
            # One 4 KB field into the dynamic table, then 1,000 one-byte references to it:
            # 4 MB decoded from 5 KB sent.
            block = encoder.encode([(":method", "POST"), (":scheme", "http"),
                                    (":path", "/test.Echo/Echo"), (":authority", "echo"), big])
            return frame(1, 0x5, stream, block + b"\xbe" * 1000)

        def attack():
            client.send(PREFACE + frame(4, 0, 0) + bomb(1))
            self.assertTrue(client.read_until(lambda: client.of("rst", 1)), client.events)
            self.assertEqual(client.of("rst", 1)[0][2], 7)  # REFUSED_STREAM
            self.assertFalse(client.closed)  # one bomb costs its stream only
            client.send(b"".join(bomb(2 * i + 3) for i in range(30)))
            client.read_until(lambda: client.closed, timeout=20)

        self.bounded(attack)
        self.assertEqual(client.terminated(), [ENHANCE_YOUR_CALM])

    def flood(self, client, unit):
        """Sends `unit` over and over without reading what comes back, up to 24 MB: more than
        the socket buffers on both sides hold, so the answers pile up in gantry unless it cuts
        the connection off."""
        chunk = unit * (65536 // len(unit))
        client.sock.settimeout(5)
        try:
            for _ in range(24 * 1024 * 1024 // len(chunk)):
                client.sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            client.closed = True
        except socket.timeout:
            pass  # gantry stopped reading: it is answering with GOAWAY and closing
        client.read_until(lambda: client.closed, timeout=20)

    def test_ping_flood_is_cut_off(self):
        client = self.client(receive_buffer=4096)
        client.send(PREFACE + frame(4, 0, 0))
        self.bounded(lambda: self.flood(client, frame(6, 0, 0, b"12345678")), cpu_seconds=6)
        self.assertTrue(client.closed)

    def test_settings_flood_is_cut_off(self):
        client = self.client(receive_buffer=4096)
        client.send(PREFACE)
        settings = frame(4, 0, 0, struct.pack("!HI", 3, 100))  # MAX_CONCURRENT_STREAMS
        self.bounded(lambda: self.flood(client, settings), cpu_seconds=6)
        self.assertTrue(client.closed)


if __name__ == "__main__":
    unittest.main()
