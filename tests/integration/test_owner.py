"""GET /api/v1/services/{name}/owner?key=K names the replica that the proxy's hashing sends K
to: checked against real requests through the gateway (ring_hash and maglev by header), and
stable for services balanced otherwise."""
import json
import os
import sys
import unittest

from gantry_support import Agent, http_request, write_app

PLAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flaky_upstream.py")

APP = f"""
services:
  ring:
    command: [{sys.executable}, {PLAIN}]
    replicas: 3
    health: {{ http: /healthz, interval: 200ms }}
    policy: {{ lb: ring_hash, hash_on: "header:x-user" }}
  mag:
    command: [{sys.executable}, {PLAIN}]
    replicas: 3
    health: {{ http: /healthz, interval: 200ms }}
    policy: {{ lb: maglev, hash_on: "header:x-user" }}
  rr:
    command: [{sys.executable}, {PLAIN}]
    replicas: 2
    health: {{ http: /healthz, interval: 200ms }}
  none:
    command: [{sys.executable}, {PLAIN}]
    replicas: 0
gateway:
  routes:
    - {{ path: /ring, service: ring, strip_prefix: true }}
    - {{ path: /mag, service: mag, strip_prefix: true }}
"""


class Owner(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=2)
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)

    def owner(self, service, key):
        status, _, body = http_request(self.agent.api, "GET",
                                       f"/api/v1/services/{service}/owner?key={key}")
        return status, json.loads(body)

    def check_against_the_proxy(self, service, prefix, algorithm):
        owners = set()
        for i in range(30):
            key = f"user-{i}"
            status, answer = self.owner(service, key)
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["algorithm"], algorithm)
            _, _, body = http_request(self.agent.gateway, "GET", f"{prefix}/whoami",
                                      headers={"x-user": key})
            self.assertEqual(body, answer["instance"], key)
            self.assertRegex(answer["address"], r"^127\.0\.0\.1:\d+$")
            owners.add(answer["instance"])
        self.assertEqual(len(owners), 3, owners)  # 30 keys spread over the 3 replicas

    def test_ring_hash_owner_is_where_the_proxy_sends_the_key(self):
        self.check_against_the_proxy("ring", "/ring", "ring_hash")

    def test_maglev_owner_is_where_the_proxy_sends_the_key(self):
        self.check_against_the_proxy("mag", "/mag", "maglev")

    def test_other_services_get_a_stable_ring_answer(self):
        first = [self.owner("rr", f"k{i}")[1]["instance"] for i in range(10)]
        again = [self.owner("rr", f"k{i}")[1]["instance"] for i in range(10)]
        self.assertEqual(first, again)
        self.assertEqual(set(first), {"rr-1", "rr-2"})

    def test_errors(self):
        self.assertEqual(self.owner("nope", "k")[0], 404)
        self.assertEqual(self.owner("none", "k")[0], 503)
        status, _, body = http_request(self.agent.api, "GET", "/api/v1/services/ring/owner")
        self.assertEqual((status, json.loads(body)["code"]), (400, "invalid_argument"))


if __name__ == "__main__":
    unittest.main()
