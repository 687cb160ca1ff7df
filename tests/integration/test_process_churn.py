"""Replica starts while the proxy opens and closes connections: a replica is started with
fork(), and until its exec the child holds a copy of every descriptor of the agent. A socket the
proxy closed in that window must not deliver events to its deleted handler (it did: the agent
crashed within about a second of this test, 4 runs of 4)."""
import http.client
import threading
import time
import unittest

from gantry_support import HELLO, Agent, wait_for, write_app

APP = f"""
services:
  hello:
    command: [{HELLO}]
    replicas: 2
    health: {{ http: /healthz, interval: 200ms }}
  crashy:                     # restarted over and over: a fork every few milliseconds
    command: [/bin/false]
    replicas: 10
    restart: always
gateway:
  routes:
    - {{ path: /, service: hello }}
"""


class ProcessChurn(unittest.TestCase):
    def test_connections_closed_while_replicas_start_do_not_crash_the_agent(self):
        with Agent(write_app(APP), workers=2) as agent:
            host, port = agent.gateway.rsplit(":", 1)
            wait_for(lambda: sum(r["service"] == "hello" and r["health"] == "healthy"
                                 for r in agent.ps()) == 2, 60, "hello healthy")
            results = {"ok": 0, "failed": []}
            lock = threading.Lock()
            deadline = time.monotonic() + 6

            def client():
                for _ in range(5000):  # bounded in count and time
                    if time.monotonic() > deadline:
                        return
                    conn = http.client.HTTPConnection(host, int(port), timeout=10)
                    try:
                        conn.request("GET", "/", headers={"Connection": "close"})
                        response = conn.getresponse()
                        ok = response.status == 200 and response.read().startswith(b"hello")
                        detail = response.status
                    except (OSError, http.client.HTTPException) as e:
                        ok, detail = False, repr(e)
                    finally:
                        conn.close()
                    with lock:
                        if ok:
                            results["ok"] += 1
                        else:
                            results["failed"].append(detail)

            threads = [threading.Thread(target=client) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            self.assertIsNone(agent.proc.poll(), "the agent died:\n" + agent.output()[-3000:])
            restarts = sum(r["restarts"] for r in agent.ps() if r["service"] == "crashy")
            self.assertGreater(restarts, 20, "crashy must have been restarted many times")
            self.assertEqual(results["failed"], [], results["failed"][:5])
            self.assertGreater(results["ok"], 200)


if __name__ == "__main__":
    unittest.main()
