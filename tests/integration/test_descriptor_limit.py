"""The agent under a flood of idle gateway connections, with a small descriptor limit: the
proxy's share of descriptors comes from the limit (with a reserve for the control plane and a
share kept for the mesh), so the API, the mesh and the health checks go on. With a fixed
default of 100,000 client connections, 600 idle ones took every descriptor: the API stopped
answering and every replica was marked unhealthy."""
import socket
import time
import unittest

from gantry_support import HELLO, Agent, http_request, wait_for, write_app

APP = f"""
services:
  hello:
    command: [{HELLO}]
    replicas: 2
    health: {{ http: /healthz, interval: 200ms }}
gateway:
  routes:
    - {{ path: /, service: hello }}
"""

LIMIT = 400  # descriptors: 200 kept for the agent itself, 100 client connections, 75 gateway


class DescriptorLimit(unittest.TestCase):
    def test_idle_gateway_connections_do_not_starve_the_api_the_mesh_or_health_checks(self):
        with Agent(write_app(APP), workers=1, descriptors=LIMIT) as agent:
            agent.wait_ready(timeout=60)
            host, port = agent.gateway.rsplit(":", 1)
            idle = []
            try:
                for _ in range(600):  # more than the limit: most wait in the kernel's backlog
                    sock = socket.socket()
                    sock.setblocking(False)
                    sock.connect_ex((host, int(port)))
                    idle.append(sock)
                time.sleep(1)  # the scenario: the flood sits there for several check intervals
                for _ in range(10):
                    status, _, body = http_request(agent.api, "GET", "/api/v1/agent", timeout=5)
                    self.assertEqual(status, 200, body)
                    status, _, body = http_request(agent.mesh, "GET", "/",
                                                   headers={"Host": "hello"}, timeout=5)
                    self.assertEqual(status, 200, body)
                    self.assertTrue(all(r["health"] == "healthy" for r in agent.ps()))
                    time.sleep(0.2)
            finally:
                for sock in idle:
                    sock.close()
            # Once the flood is gone the gateway serves again.
            wait_for(lambda: http_request(agent.gateway, "GET", "/", timeout=5)[0] == 200, 20,
                     "the gateway after the flood")


if __name__ == "__main__":
    unittest.main()
