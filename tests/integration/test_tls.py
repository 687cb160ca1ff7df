"""TLS at the gateway (gateway.tls) with clients nobody here wrote: curl over HTTP/2 (ALPN h2)
and HTTP/1.1, python's ssl for SNI and versions, grpcio over TLS; certificates made by the
openssl command for the test. A plain-HTTP client on the TLS port is closed, others go on."""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

import grpc

from gantry_support import Agent, write_app

HERE = os.path.dirname(os.path.abspath(__file__))
PLAIN = os.path.join(HERE, "flaky_upstream.py")
ECHO = os.path.join(HERE, "grpc_echo_server.py")


def make_certificate(folder, name):
    cert, key = os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        folder = tempfile.mkdtemp(prefix="gantry-tls-")
        cls.certs = {name: make_certificate(folder, name) for name in ("a.test", "b.test")}
        (a_cert, a_key), (b_cert, b_key) = cls.certs["a.test"], cls.certs["b.test"]
        cls.agent = Agent(write_app(f"""
services:
  plain:
    command: [{sys.executable}, {PLAIN}]
    health: {{ http: /healthz, interval: 200ms }}
  echo:
    command: [{sys.executable}, {ECHO}]
    protocol: grpc
    health: {{ grpc: true, interval: 200ms }}
gateway:
  tls:
    - {{ cert: {a_cert}, key: {a_key} }}
    - {{ cert: {b_cert}, key: {b_key} }}
  routes:
    - {{ path: /test.Echo, service: echo }}
    - {{ path: /, service: plain }}
"""), workers=2)
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)
        cls.port = int(cls.agent.gateway.rsplit(":", 1)[1])

    def curl(self, name, *args):
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.certs[name][0], "--resolve",
             f"{name}:{self.port}:127.0.0.1", *args], capture_output=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_http2_by_alpn(self):
        out = self.curl("a.test", "-i", "--http2", f"https://a.test:{self.port}/whoami")
        self.assertTrue(out.startswith(b"HTTP/2 200"), out)
        self.assertRegex(out, rb"plain-1$")

    def test_http1_over_tls_and_the_forwarded_proto(self):
        out = self.curl("b.test", "-i", "--http1.1", f"https://b.test:{self.port}/headers")
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out)
        self.assertIn(b'"x-forwarded-proto": "https"', out)
        out = self.curl("b.test", "--http2", f"https://b.test:{self.port}/headers")
        self.assertIn(b'"x-forwarded-proto": "https"', out)

    def test_post_over_tls(self):
        body = os.urandom(256 * 1024).hex().encode()  # many TLS records each way
        with tempfile.NamedTemporaryFile() as f:
            f.write(body)
            f.flush()
            out = self.curl("a.test", "--http2", "--data-binary", f"@{f.name}",
                            f"https://a.test:{self.port}/big")
        self.assertEqual(out, b"POST /big " + body)

    def peer_certificate(self, server_name, **versions):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        for key, value in versions.items():
            setattr(context, key, value)
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                return tls.getpeercert(binary_form=True), tls.version(), tls.cipher()[0]

    def der(self, name):
        with open(self.certs[name][0]) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    def test_sni_picks_the_certificate(self):
        self.assertEqual(self.peer_certificate("a.test")[0], self.der("a.test"))
        self.assertEqual(self.peer_certificate("b.test")[0], self.der("b.test"))
        self.assertEqual(self.peer_certificate("other.test")[0], self.der("a.test"))  # default

    def test_tls12_and_13_only_with_forward_secret_aead(self):
        _, version, cipher = self.peer_certificate(
            "a.test", minimum_version=ssl.TLSVersion.TLSv1_2,
            maximum_version=ssl.TLSVersion.TLSv1_2)
        self.assertEqual(version, "TLSv1.2")
        self.assertRegex(cipher, r"^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20-POLY1305)")
        self.assertEqual(self.peer_certificate("a.test")[1], "TLSv1.3")
        with self.assertRaises(ssl.SSLError):
            self.peer_certificate("a.test", minimum_version=ssl.TLSVersion.TLSv1,
                                  maximum_version=ssl.TLSVersion.TLSv1_1)

    def test_grpc_over_tls(self):
        with open(self.certs["a.test"][0], "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        with grpc.secure_channel(f"127.0.0.1:{self.port}", credentials,
                                 options=[("grpc.ssl_target_name_override", "a.test")]) as channel:
            call = channel.unary_unary("/test.Echo/Echo", request_serializer=None,
                                       response_deserializer=None)
            self.assertEqual(call(b"secure", timeout=10), b"echo-1:secure")

    def test_plain_http_on_the_tls_port_is_closed(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:  # no TLS, no answer: a close (or a reset, our bytes being unread)
                self.assertEqual(sock.recv(100), b"")
            except ConnectionResetError:
                pass
        self.test_http2_by_alpn()  # and everyone else is served


if __name__ == "__main__":
    unittest.main()
