"""HTTP/2 clients nobody here wrote (curl --http2-prior-knowledge, nghttp) through the gateway
to an HTTP/1.1 service: requests and bodies both ways (1 MiB each way: flow control on the
client's side, the replica's connection read as the client takes), many requests on one
connection, the forwarding fields, and gRPC services refusing HTTP/1.1 callers."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from gantry_support import Agent, http_request, wait_for, write_app

HERE = os.path.dirname(os.path.abspath(__file__))
PLAIN = os.path.join(HERE, "flaky_upstream.py")

APP = f"""
services:
  plain:
    command: [{sys.executable}, {PLAIN}]
    replicas: 2
    health: {{ http: /healthz, interval: 200ms }}
gateway:
  routes:
    - {{ path: /, service: plain }}
"""


def curl(*args):
    result = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "20", *args],
                            capture_output=True, timeout=30)
    if result.returncode != 0:
        raise AssertionError(f"curl {args} failed: {result.stderr.decode()}")
    return result.stdout


class H2Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.access_log = os.path.join(tempfile.mkdtemp(prefix="gantry-h2-log-"), "access.log")
        cls.agent = Agent(write_app(APP), workers=2, extra_args=("--access-log", cls.access_log))
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)
        cls.url = f"http://{cls.agent.gateway}"

    def test_get_over_h2c(self):
        out = curl("-i", f"{self.url}/whoami")
        self.assertTrue(out.startswith(b"HTTP/2 200"), out)
        self.assertRegex(out, rb"\r\n\r\nplain-[12]$")

    @unittest.skipUnless(shutil.which("nghttp"), "nghttp (nghttp2-client) not installed")
    def test_many_requests_on_one_connection_are_balanced(self):
        # nghttp sends every URL as a stream of one connection, at once. (Debian's curl 7.88
        # fails to reuse a prior-knowledge connection, with nginx too: it is not used here.)
        result = subprocess.run(["nghttp", "-m", "10", f"{self.url}/whoami"], capture_output=True,
                                timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        answers = result.stdout.decode().replace("plain-", " plain-").split()
        self.assertEqual(len(answers), 10, answers)
        self.assertEqual(set(answers), {"plain-1", "plain-2"}, answers)

    def test_post_body_both_ways(self):
        out = curl("-d", "hello body", f"{self.url}/echo")
        self.assertEqual(out, b"POST /echo hello body")

    def test_a_megabyte_each_way(self):
        body = os.urandom(512 * 1024).hex().encode()  # 1 MiB of text
        with tempfile.NamedTemporaryFile() as f:
            f.write(body)
            f.flush()
            out = curl("--data-binary", f"@{f.name}", "-H", "Content-Type: text/plain",
                       f"{self.url}/big")
        self.assertEqual(out, b"POST /big " + body)

    def test_forwarding_fields_and_no_hop_by_hop(self):
        headers = json.loads(curl("-H", "te: trailers", f"{self.url}/headers"))
        self.assertEqual(headers["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(headers["x-forwarded-proto"], "http")
        self.assertIn("x-request-id", headers)
        self.assertNotIn("te", headers)
        self.assertIn("x-gantry-timeout-ms", headers)

    def test_h2_requests_are_counted_and_logged(self):
        def route_requests():
            status, _, body = http_request(self.agent.api, "GET", "/api/v1/proxy/stats")
            return json.loads(body)["routes"][0]["requests"]

        before = route_requests()
        curl(f"{self.url}/logged-h2-request")
        wait_for(lambda: route_requests() == before + 1, 10, "the route's counter")

        def logged():
            if not os.path.exists(self.access_log):
                return None
            with open(self.access_log) as f:
                lines = [json.loads(l) for l in f if "/logged-h2-request" in l]
            return lines[0] if lines else None

        entry = wait_for(logged, 10, "the access log line")
        self.assertEqual((entry["method"], entry["status"], entry["service"]), ("GET", 200, "plain"))
        self.assertRegex(entry["instance"], r"^plain-[12]$")
        self.assertEqual(len(entry["request_id"]), 36)

    def test_statuses_pass_through(self):
        out = curl("-o", "/dev/null", "-w", "%{http_code}", f"{self.url}/status/418")
        self.assertEqual(out, b"418")



if __name__ == "__main__":
    unittest.main()
