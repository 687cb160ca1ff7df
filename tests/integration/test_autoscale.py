"""The autoscaler for real: request load raises a service's replicas up to its max, and once the
load stops, the quiet down window brings them back to min; each decision is an event with its
reason."""
import http.client
import json
import subprocess
import threading
import time
import unittest

from gantry_support import GANTRY, HELLO, Agent, wait_for, write_app

APP = f"""
services:
  hello:
    command: [{HELLO}]
    health: {{ http: /healthz, interval: 200ms }}
    autoscale: {{ min: 1, max: 3, target_rps: 40, down_window: 3s, cooldown: 1s, interval: 250ms }}
gateway:
  routes:
    - {{ path: /, service: hello }}
"""

MAX_REQUESTS = 20000  # bounded by count as well as by time


class Autoscale(unittest.TestCase):
    def test_load_raises_replicas_and_idleness_lowers_them(self):
        with Agent(write_app(APP), workers=1) as agent:
            agent.wait_ready(timeout=30)
            self.assertEqual(len(agent.ps()), 1)
            stop = threading.Event()

            def load():  # about 150 requests a second: wants 4 replicas, max is 3
                host, port = agent.gateway.rsplit(":", 1)
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                for _ in range(MAX_REQUESTS):
                    if stop.is_set():
                        break
                    conn.request("GET", "/")
                    conn.getresponse().read()
                    time.sleep(0.0065)
                conn.close()

            client = threading.Thread(target=load)
            client.start()
            try:
                wait_for(lambda: len([r for r in agent.ps() if r["health"] == "healthy"]) == 3, 30,
                         "three healthy replicas under load")
            finally:
                stop.set()
                client.join(timeout=30)
            quiet_from = time.monotonic()
            wait_for(lambda: len(agent.ps()) == 1, 30, "back to one replica when idle")
            self.assertGreater(time.monotonic() - quiet_from, 2.5)  # the down window held it
            result = subprocess.run([GANTRY, "events", "-o", "json", "--api", agent.api],
                                    capture_output=True, text=True, timeout=30)
            scaled = [json.loads(line)["message"] for line in result.stdout.splitlines()
                      if json.loads(line)["kind"] == "scaled"]
            self.assertTrue(any("against a target of 40 per replica" in m and "-> 3" in m
                                or "-> 2" in m for m in scaled), scaled)
            self.assertTrue(any(m.startswith("3 -> 1 replicas") or m.startswith("2 -> 1 replicas")
                                for m in scaled), scaled)
            self.assertTrue(any("for the last 3s" in m for m in scaled), scaled)


if __name__ == "__main__":
    unittest.main()
