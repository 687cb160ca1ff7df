"""Load-balancing policies through the real gateway: ring_hash and maglev keep a key on one
replica, least_request spreads requests."""
import unittest

from gantry_support import HELLO, Agent, http_request, write_app

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


if __name__ == "__main__":
    unittest.main()
