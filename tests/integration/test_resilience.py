"""Resilience policies through the real gateway, against replicas with chosen faults
(flaky_upstream.py): retries and their limits, timeouts and the deadline header, the circuit
breaker, outlier ejection, rate limits and allowed methods."""
import json
import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.request

from gantry_support import Agent, http_request, wait_for, write_app

FLAKY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flaky_upstream.py")


def service(name, replicas=3, env="", policy=""):
    return f"""  {name}:
    command: [{sys.executable}, {FLAKY}]
    replicas: {replicas}
    env: {{ {env} }}
    health: {{ http: /healthz, interval: 200ms }}
    policy: {{ {policy} }}
"""


APP = "services:\n" + "".join([
    # One replica of three always answers 503.
    service("retried", env="SICK: retried-2",
            policy='lb: round_robin, retries: { attempts: 2, on: ["503"], backoff: 5ms }'),
    service("unretried", env="SICK: unretried-2", policy="lb: round_robin"),
    # One replica of three takes 2 s to answer anything.
    service("slowpoke", env="SLOW: slowpoke-1",
            policy="retries: { attempts: 2, on: [gateway-error], per_try_timeout: 300ms }"),
    service("bounded", replicas=1, policy="timeout: 300ms"),
    service("narrow", replicas=1, policy="circuit_breaker: { max_requests: 1 }"),
    service("ejecting", env="SICK: ejecting-3",
            policy="lb: round_robin, outlier: { consecutive_5xx: 3, base_ejection: 60s, "
                   "max_ejection_percent: 50 }"),
    service("limited", replicas=1),
    service("fragile", replicas=2, policy="lb: round_robin"),  # the default retries
]) + """gateway:
  routes:
    - { path: /retried, service: retried, strip_prefix: true }
    - { path: /unretried, service: unretried, strip_prefix: true }
    - { path: /slowpoke, service: slowpoke, strip_prefix: true }
    - { path: /bounded, service: bounded, strip_prefix: true }
    - { path: /narrow, service: narrow, strip_prefix: true }
    - { path: /ejecting, service: ejecting, strip_prefix: true }
    - { path: /fragile, service: fragile, strip_prefix: true }
    - { path: /limited, service: limited, strip_prefix: true, methods: [GET, HEAD],
        rate_limit: { rps: 1, burst: 3, by: "header:x-client" } }
"""


class Resilience(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=2)
        cls.agent.wait_ready(timeout=90)

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    def get(self, path, method="GET", headers=None, body=None):
        return http_request(self.agent.gateway, method, path, headers=headers, body=body)

    def stats(self):
        with urllib.request.urlopen(f"http://{self.agent.api}/api/v1/proxy/stats", timeout=10) as r:
            return json.load(r)

    def test_retries_hide_a_sick_replica_from_idempotent_requests(self):
        statuses = [self.get("/retried/whoami")[0] for _ in range(30)]
        self.assertEqual(statuses, [200] * 30)
        self.assertGreater(self.stats()["services"]["retried"]["retries"], 0)

    def test_without_retries_the_sick_replica_shows(self):
        statuses = [self.get("/unretried/whoami")[0] for _ in range(30)]
        self.assertIn(503, statuses)  # proves the test above could fail

    def test_post_is_not_retried(self):
        statuses = [self.get("/retried/order", method="POST", body="x")[0] for _ in range(30)]
        self.assertIn(503, statuses)

    def test_per_try_timeout_moves_on_from_a_slow_replica(self):
        for _ in range(6):
            started = time.monotonic()
            status, _, body = self.get("/slowpoke/whoami")
            self.assertEqual(status, 200, body)
            self.assertLess(time.monotonic() - started, 1.5)

    def test_route_timeout_answers_504(self):
        started = time.monotonic()
        status, _, body = self.get("/bounded/sleep/3000")
        self.assertEqual(status, 504, body)
        self.assertEqual(json.loads(body)["code"], "upstream_timeout")
        self.assertLess(time.monotonic() - started, 2.0)

    def test_the_callers_deadline_shortens_the_timeout_and_is_passed_on(self):
        started = time.monotonic()
        status, _, _ = self.get("/bounded/sleep/3000", headers={"X-Gantry-Timeout-Ms": "150"})
        self.assertEqual(status, 504)
        self.assertLess(time.monotonic() - started, 1.0)
        status, _, body = self.get("/bounded/headers", headers={"X-Gantry-Timeout-Ms": "250"})
        self.assertEqual(status, 200, body)
        remaining = int(json.loads(body)["x-gantry-timeout-ms"])
        self.assertTrue(0 < remaining <= 250, remaining)
        status, _, body = self.get("/bounded/headers")  # no caller deadline: the policy's 300ms
        self.assertTrue(0 < int(json.loads(body)["x-gantry-timeout-ms"]) <= 300, body)
        status, _, body = self.get("/bounded/whoami", headers={"X-Gantry-Timeout-Ms": "0"})
        self.assertEqual(status, 504, body)

    def test_the_circuit_breaker_refuses_at_once_past_max_requests(self):
        results = []

        def slow():
            results.append(self.get("/narrow/sleep/1500"))

        first = threading.Thread(target=slow)
        first.start()
        wait_for(lambda: self.stats()["services"]["narrow"]["in_flight"]["requests"] == 1, 10,
                 "the first request to be in flight")
        started = time.monotonic()
        status, headers, body = self.get("/narrow/whoami")
        self.assertLess(time.monotonic() - started, 1.0)
        first.join()
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("x-gantry-overloaded"), "true")
        self.assertEqual(results[0][0], 200)
        self.assertEqual(self.get("/narrow/whoami")[0], 200)  # room again

    def test_an_outlier_is_ejected_and_others_take_its_share(self):
        for _ in range(30):  # round robin meets the sick replica every third request
            self.get("/ejecting/whoami")
        wait_for(lambda: "ejecting-3 ejected" in self.agent.output(), 10,
                 "the sick replica's ejection\n" + self.agent.output())
        wait_for(lambda: self.stats()["services"]["ejecting"]["endpoints"] == 2, 10,
                 "a snapshot without the ejected replica")
        bodies = [self.get("/ejecting/whoami") for _ in range(30)]
        self.assertEqual({status for status, _, _ in bodies}, {200})
        self.assertEqual({body for _, _, body in bodies}, {"ejecting-1", "ejecting-2"})

    def crash_fragile_1(self, send):
        """Sends GETs that make fragile-1 exit mid-request until one has (at most 12): every one
        must be answered 200 by fragile-2, the retry after the reset."""
        def fragile_1():
            return next(r for r in self.agent.ps() if r["id"] == "fragile-1")
        wait_for(lambda: fragile_1()["health"] == "healthy", 30, "fragile-1 healthy")
        restarts = fragile_1()["restarts"]
        answers = []
        for _ in range(12):
            answers.append(send("/fragile/crash-on/fragile-1"))
            if fragile_1()["restarts"] > restarts or fragile_1()["pid"] == 0:
                break
        self.assertEqual(answers, [(200, "fragile-2")] * len(answers))
        wait_for(lambda: fragile_1()["restarts"] > restarts, 10, "fragile-1 to have crashed")

    def test_by_default_a_get_cut_off_by_a_dying_replica_is_retried_elsewhere(self):
        def http1(path):
            status, _, body = self.get(path)
            return status, body
        self.crash_fragile_1(http1)

    def test_by_default_an_http2_get_cut_off_by_a_dying_replica_is_retried_elsewhere(self):
        def http2(path):
            result = subprocess.run(
                ["curl", "-s", "--http2-prior-knowledge", "-w", "\\n%{http_code} %{http_version}",
                 f"http://{self.agent.gateway}{path}"], capture_output=True, text=True, timeout=15)
            body, _, tail = result.stdout.rpartition("\n")
            status, version = tail.split()
            self.assertEqual(version, "2")
            return int(status), body
        self.crash_fragile_1(http2)

    def test_rate_limit_per_header_value_with_retry_after(self):
        statuses = [self.get("/limited/whoami", headers={"x-client": "a"})[0] for _ in range(3)]
        self.assertEqual(statuses, [200, 200, 200])
        status, headers, body = self.get("/limited/whoami", headers={"x-client": "a"})
        self.assertEqual(status, 429, body)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertEqual(self.get("/limited/whoami", headers={"x-client": "b"})[0], 200)

    def test_methods_outside_the_route_get_405_with_allow(self):
        status, headers, body = self.get("/limited/whoami", method="DELETE",
                                         headers={"x-client": "c"})
        self.assertEqual(status, 405, body)
        self.assertEqual(headers["Allow"], "GET, HEAD")


if __name__ == "__main__":
    unittest.main()
