"""kill -9 of one of three replicas while clients keep sending GETs through the gateway: with
retries on connect failures and resets, not one request fails."""
import os
import signal
import time
import unittest

from gantry_support import HELLO, Agent, Load, wait_for, write_app

APP = f"""
services:
  hello:
    command: [{HELLO}]
    replicas: 3
    health: {{ http: /healthz, interval: 200ms }}
    policy:
      retries: {{ attempts: 2, on: [connect-failure, reset], min_retries: 16 }}
gateway:
  routes:
    - {{ path: /, service: hello }}
"""

class KillUnderLoad(unittest.TestCase):
    def test_kill_9_of_one_replica_fails_no_request(self):
        with Agent(write_app(APP), workers=2) as agent:
            agent.wait_ready(timeout=60)
            load = Load(agent.gateway, clients=8, max_requests=20000)
            try:
                wait_for(lambda: load.ok > 500, 30, "load to get going")
                victim = agent.ps()[1]
                os.kill(victim["pid"], signal.SIGKILL)
                killed_at = time.monotonic()
                before = load.ok
                # Keep the load on while the replica is replaced and becomes healthy again.
                wait_for(lambda: any(r["id"] == victim["id"] and r["pid"] not in (0, victim["pid"])
                                     and r["health"] == "healthy" for r in agent.ps()),
                         30, "the killed replica's replacement")
                wait_for(lambda: load.ok > before + 500 and time.monotonic() > killed_at + 2, 30,
                         "two seconds of load after the kill")
            finally:
                load.finish()
            self.assertEqual(len(load.failures), 0, load.failures[:5])
            self.assertGreater(load.ok, 1000)


if __name__ == "__main__":
    unittest.main()
