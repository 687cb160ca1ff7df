"""Load-balancing policies through the real gateway: ring_hash and maglev keep a key on one
replica, least_request spreads requests."""
import json
import os
import socket
import subprocess
import sys
import unittest

from gantry_support import HELLO, Agent, http_request, wait_for, write_app

FLAKY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flaky_upstream.py")

APP = f"""name: lb
services:
  ring:
    command: [{HELLO}]
    replicas: 3
    health: {{ http: /healthz }}
    policy: {{ lb: ring_hash, hash_on: header:x-user }}
  maglev:
    command: [{HELLO}]
    replicas: 3
    health: {{ http: /healthz }}
    policy: {{ lb: maglev, hash_on: cookie:session }}
  least:
    command: [{HELLO}]
    replicas: 3
    health: {{ http: /healthz }}
    policy: {{ lb: least_request }}
gateway:
  routes:
    - {{ path: /ring, service: ring, strip_prefix: true }}
    - {{ path: /maglev, service: maglev, strip_prefix: true }}
    - {{ path: /least, service: least, strip_prefix: true }}
"""


class LoadBalancing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=2)
        cls.agent.wait_ready(timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    def replica_for(self, path, headers):
        status, _, body = http_request(self.agent.gateway, "GET", path, headers=headers)
        self.assertEqual(status, 200, body)
        return body.strip().removeprefix("hello from ")

    def check_keys_stay_put(self, path, headers_for):
        owners = {}
        for user in range(12):
            seen = {self.replica_for(path, headers_for(f"user-{user}")) for _ in range(4)}
            self.assertEqual(len(seen), 1, f"user-{user} went to {seen}")
            owners[user] = seen.pop()
        self.assertGreaterEqual(len(set(owners.values())), 2, owners)  # keys do spread

    def test_ring_hash_on_a_header(self):
        self.check_keys_stay_put("/ring", lambda user: {"x-user": user})

    def test_maglev_on_a_cookie(self):
        self.check_keys_stay_put("/maglev", lambda user: {"Cookie": f"theme=dark; session={user}"})

    def test_least_request_spreads_requests(self):
        seen = {self.replica_for("/least", {}) for _ in range(60)}
        self.assertGreaterEqual(len(seen), 2, seen)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WeightedInstances(unittest.TestCase):
    """Instances registered through the API with weights 1 and 3: round robin follows them."""

    def test_weighted_round_robin_follows_instance_weights(self):
        app = write_app("""services:
  weighted:
    command: [/bin/false]
    replicas: 0
gateway:
  routes:
    - { path: /, service: weighted }
""")
        servers = []
        try:
            with Agent(app, workers=1) as agent:
                for name, weight in (("light", 1), ("heavy", 3)):
                    port = free_port()
                    servers.append(subprocess.Popen(
                        [sys.executable, FLAKY], env={**os.environ, "PORT": str(port),
                                                      "GANTRY_INSTANCE": name}))
                    body = json.dumps({"id": name, "service": "weighted", "weight": weight,
                                       "address": f"127.0.0.1:{port}",
                                       "check": {"http": "/healthz", "interval": "200ms"}})
                    status, _, answer = http_request(agent.api, "POST", "/api/v1/instances",
                                                     body=body)
                    self.assertEqual(status, 200, answer)

                def healthy():
                    _, _, body = http_request(agent.api, "GET",
                                              "/api/v1/services/weighted/instances?healthy=true")
                    return len(json.loads(body)) == 2

                wait_for(healthy, 20, "both instances healthy")
                wait_for(lambda: http_request(agent.gateway, "GET", "/whoami")[0] == 200, 10,
                         "the gateway to route")
                seen = {"light": 0, "heavy": 0}
                for _ in range(40):
                    status, _, body = http_request(agent.gateway, "GET", "/whoami")
                    self.assertEqual(status, 200, body)
                    seen[body] += 1
                self.assertEqual(seen, {"light": 10, "heavy": 30})
                status, _, body = http_request(agent.api, "POST", "/api/v1/instances", body=json.dumps(
                    {"service": "weighted", "address": "127.0.0.1:1", "weight": 0}))
                self.assertEqual(status, 400, body)
                status, _, body = http_request(agent.api, "POST", "/api/v1/instances", body=json.dumps(
                    {"service": "weighted", "address": "example.com:80"}))
                self.assertEqual(status, 400, body)
        finally:
            for server in servers:
                server.kill()
                server.wait()


if __name__ == "__main__":
    unittest.main()
