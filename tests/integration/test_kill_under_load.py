"""kill -9 of one of three replicas while clients keep sending GETs through the gateway: with
retries on connect failures and resets, not one request fails."""
import http.client
import os
import signal
import threading
import time
import unittest

from gantry_support import HELLO, Agent, wait_for, write_app

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

CLIENTS = 8
MAX_REQUESTS_PER_CLIENT = 20000  # the load is bounded by count as well as by time


class KillUnderLoad(unittest.TestCase):
    def test_kill_9_of_one_replica_fails_no_request(self):
        with Agent(write_app(APP), workers=2) as agent:
            agent.wait_ready(timeout=60)
            host, port = agent.gateway.rsplit(":", 1)
            stop = threading.Event()
            counts = {"ok": 0, "failed": 0}
            failures = []
            lock = threading.Lock()

            def client():
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                for _ in range(MAX_REQUESTS_PER_CLIENT):
                    if stop.is_set():
                        break
                    try:
                        conn.request("GET", "/")
                        response = conn.getresponse()
                        body = response.read()
                        ok = response.status == 200 and body.startswith(b"hello from ")
                        detail = (response.status, body[:200])
                    except (OSError, http.client.HTTPException) as e:
                        ok, detail = False, repr(e)
                        conn.close()
                        conn = http.client.HTTPConnection(host, int(port), timeout=10)
                    with lock:
                        counts["ok" if ok else "failed"] += 1
                        if not ok:
                            failures.append(detail)
                conn.close()

            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for t in threads:
                t.start()
            wait_for(lambda: counts["ok"] > 500, 30, "load to get going")
            victim = agent.ps()[1]
            os.kill(victim["pid"], signal.SIGKILL)
            killed_at = time.monotonic()
            before = counts["ok"]
            # Keep the load on while the replica is replaced and becomes healthy again.
            wait_for(lambda: any(r["id"] == victim["id"] and r["pid"] not in (0, victim["pid"])
                                 and r["health"] == "healthy" for r in agent.ps()),
                     30, "the killed replica's replacement")
            wait_for(lambda: counts["ok"] > before + 500 and time.monotonic() > killed_at + 2, 30,
                     "two seconds of load after the kill")
            stop.set()
            for t in threads:
                t.join(timeout=30)
            self.assertEqual(counts["failed"], 0, failures[:5])
            self.assertGreater(counts["ok"], 1000)


if __name__ == "__main__":
    unittest.main()
