"""The registry on the store: instances registered through the API (ttl and http checks),
heartbeats, deregistration, lease expiry, the registry's keys in the KV view, ttl checks in
the app file, and what survives kill -9 of the agent."""
import json
import os
import socket
import subprocess
import time
import unittest

from gantry_support import HELLO, Agent, http_request, wait_for, write_app


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_text(health):
    return f"""name: registry
services:
  hello:
    command: [{HELLO}]
    replicas: 1
    health: {health}
gateway:
  listen: 127.0.0.1:8080
  routes:
    - {{ path: /, service: hello }}
"""


class ExternalHello:
    """A hello process gantry did not start."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([HELLO], env={**os.environ, "PORT": str(self.port)},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._up(), 10, "external hello")

    def _up(self):
        try:
            return http_request(f"127.0.0.1:{self.port}", "GET", "/healthz", timeout=1)[0] == 200
        except OSError:
            return False

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class InstancesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(app_text("{ http: /healthz, interval: 1s }")), workers=1)
        cls.agent.wait_ready()
        cls.external = ExternalHello()

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()
        cls.external.close()

    def call(self, method, path, body=None):
        status, headers, text = http_request(self.agent.api, method, path, body=body)
        return status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)

    def instance(self, id):
        status, rows = self.call("GET", "/api/v1/services/hello/instances")
        return next((r for r in rows if r["id"] == id), None)

    def register(self, **fields):
        status, body = self.call("POST", "/api/v1/instances", json.dumps(fields))
        self.assertEqual(status, 200, body)
        return body["id"]

    def test_ttl_instance_lives_by_its_heartbeats(self):
        id = self.register(id="ext-ttl", service="hello", address=f"127.0.0.1:{self.external.port}",
                           tags=["external"], check={"ttl": "1s"})
        row = self.instance(id)
        self.assertEqual((row["health"], row["source"], row["tags"]), ("unknown", "api", ["external"]))
        self.assertEqual(row["check"]["kind"], "ttl")
        status, body = self.call("PUT", f"/api/v1/instances/{id}/ttl")
        self.assertEqual((status, body["health"]), (200, "healthy"))
        row = self.instance(id)
        self.assertEqual(row["health"], "healthy")
        self.assertIn("changed_at", row["check"])
        # It takes traffic: with the replica, the gateway now answers from both ports.
        healthy = self.call("GET", "/api/v1/services/hello/instances?healthy=true")[1]
        self.assertIn(id, [r["id"] for r in healthy])
        # No heartbeat for a TTL: unhealthy, and says why.
        wait_for(lambda: self.instance(id)["health"] == "unhealthy", 5, "ttl to lapse")
        self.assertIn("no heartbeat within the ttl of 1s", self.instance(id)["check"]["output"])
        status, _ = self.call("PUT", f"/api/v1/instances/{id}/ttl",
                              json.dumps({"status": "fail", "output": "draining"}))
        self.assertEqual(self.instance(id)["check"]["output"], "draining")
        status, body = self.call("DELETE", f"/api/v1/instances/{id}")
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.instance(id))
        self.assertEqual(self.call("PUT", f"/api/v1/instances/{id}/ttl")[0], 404)

    def test_http_checked_instance_becomes_healthy_by_itself(self):
        id = self.register(service="hello", address=f"127.0.0.1:{self.external.port}",
                           check={"http": "/healthz", "interval": "200ms"})
        self.assertTrue(id.startswith("hello-"))
        wait_for(lambda: self.instance(id)["health"] == "healthy", 5, "http check to pass")
        self.assertEqual(self.instance(id)["check"]["output"], "HTTP 200")
        self.assertEqual(self.call("PUT", f"/api/v1/instances/{id}/ttl")[0], 409)  # not a ttl check
        self.assertEqual(self.call("DELETE", f"/api/v1/instances/{id}")[0], 200)

    def test_heartbeats_that_stop_for_deregister_after_remove_the_instance(self):
        id = self.register(service="hello", address=f"127.0.0.1:{self.external.port}",
                           check={"ttl": "1s"}, deregister_after="2s")
        self.call("PUT", f"/api/v1/instances/{id}/ttl")
        wait_for(lambda: self.instance(id) is None, 6, "the instance's lease to run out")

    def test_registry_keys_are_visible_and_read_only_through_kv(self):
        status, rows = self.call("GET", "/api/v1/kv/gantry/registry/?prefix=true")
        self.assertEqual(status, 200)
        replica = [r for r in rows if r["key"].startswith("gantry/registry/hello/hello-")]
        self.assertTrue(replica, rows)
        self.assertNotEqual(replica[0]["lease"], "0")  # held by the agent's lease
        status, body = self.call("DELETE", f"/api/v1/leases/{replica[0]['lease']}")
        self.assertEqual((status, body["code"]), (403, "reserved"))
        for method, path in (("PUT", "/api/v1/kv/gantry/registry/x"),
                             ("DELETE", "/api/v1/kv/?prefix=true"),
                             ("DELETE", "/api/v1/kv/gan?prefix=true")):
            status, body = self.call(method, path, "v")
            self.assertEqual((status, body["code"]), (403, "reserved"), path)

    def test_bad_registrations_get_a_4xx_with_a_json_reason(self):
        address = f"127.0.0.1:{self.external.port}"
        replica = [r for r in self.agent.ps() if r["service"] == "hello"][0]["id"]
        cases = [
            ("POST", "/api/v1/instances", "{", 400, "invalid_json"),
            ("POST", "/api/v1/instances", json.dumps({"address": address}), 400, "invalid_argument"),
            ("POST", "/api/v1/instances", json.dumps({"service": "hello", "address": "nope"}), 400,
             "invalid_argument"),
            ("POST", "/api/v1/instances", json.dumps({"service": "hello", "address": address,
                                                       "colour": "red"}), 400, "unknown_field"),
            ("POST", "/api/v1/instances", json.dumps({"service": "hello", "address": address,
                                                       "check": {"ttl": "1s", "tcp": True}}), 400,
             "invalid_argument"),
            ("POST", "/api/v1/instances", json.dumps({"service": "hello", "address": address,
                                                       "check": {"ttl": "5ms"}}), 400, "invalid_argument"),
            ("POST", "/api/v1/instances", json.dumps({"service": "hello", "address": address,
                                                       "deregister_after": "1m"}), 400, "invalid_argument"),
            ("POST", "/api/v1/instances", json.dumps({"service": "hello", "address": address,
                                                       "id": replica}), 409, "conflict"),
            ("POST", "/api/v1/instances", json.dumps({"service": "hello", "address": address,
                                                       "check": {"grpc": 5}}), 400, "invalid_argument"),
            ("GET", "/api/v1/instances", None, 405, "method_not_allowed"),
            ("DELETE", f"/api/v1/instances/{replica}", None, 409, "conflict"),
            ("DELETE", "/api/v1/instances/nope", None, 404, "not_found"),
            ("PUT", "/api/v1/instances/nope/ttl", None, 404, "not_found"),
        ]
        for method, path, body, want_status, want_code in cases:
            with self.subTest(method=method, path=path, body=body):
                status, answer = self.call(method, path, body)
                self.assertEqual((status, answer["code"]), (want_status, want_code), answer)


class TtlReplicaAndRestartTest(unittest.TestCase):
    def test_app_ttl_check_and_what_survives_kill9_of_the_agent(self):
        external = ExternalHello()
        app = write_app(app_text("{ ttl: 2s }"))
        agent = Agent(app, workers=1)
        try:
            replica = wait_for(lambda: [r for r in agent.ps() if r["pid"]], 10, "the replica")[0]
            self.assertEqual(replica["health"], "unknown")
            status, _, _ = http_request(agent.api, "PUT", f"/api/v1/instances/{replica['id']}/ttl")
            self.assertEqual(status, 200)
            wait_for(lambda: agent.ps()[0]["health"] == "healthy", 5, "the heartbeat to count")
            self.assertEqual(agent.ps()[0]["check"], "heartbeat: passing")
            status, _, body = http_request(agent.api, "POST", "/api/v1/instances", body=json.dumps(
                {"id": "kept", "service": "hello", "address": f"127.0.0.1:{external.port}",
                 "check": {"ttl": "10s"}}))
            self.assertEqual(status, 200, body)
            http_request(agent.api, "PUT", "/api/v1/instances/kept/ttl")
            agent.kill9()
            state_dir = agent.state_dir
        finally:
            agent.close()
        again = Agent(app, workers=1, state_dir=state_dir)
        try:
            def ids():
                rows = json.loads(http_request(again.api, "GET", "/api/v1/services/hello/instances")[2])
                return sorted(r["id"] for r in rows)
            new_replica = wait_for(lambda: [r for r in again.ps() if r["pid"]], 10, "a new replica")[0]
            # The dead agent's replica is gone; the registered instance is still there.
            wait_for(lambda: ids() == sorted(["kept", new_replica["id"]]), 10,
                     f"registry after restart: {ids()}")
            self.assertEqual(http_request(again.api, "PUT", "/api/v1/instances/kept/ttl")[0], 200)
        finally:
            again.close()
            external.close()


class GrpcCheckTest(unittest.TestCase):
    def test_grpc_health_check_follows_the_servers_answer(self):
        folder = os.path.dirname(write_app("name: placeholder\n"))
        health_file = os.path.join(folder, "health")
        server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc_health_server.py")
        app = write_app(f"""name: grpccheck
services:
  inventory:
    command: [/usr/bin/python3, {server}]
    env: {{ HEALTH_FILE: {health_file} }}
    health: {{ grpc: true, interval: 200ms, timeout: 1s, unhealthy_after: 2 }}
""")
        with Agent(app, workers=1) as agent:
            def replica():
                rows = [r for r in agent.ps() if r["pid"]]
                return rows[0] if rows else None
            wait_for(lambda: (replica() or {}).get("health") == "healthy", 20,
                     f"grpc check to pass: {replica()}")
            self.assertEqual(replica()["check"], "SERVING")
            # The same check on an instance registered through the API.
            status, _, body = http_request(agent.api, "POST", "/api/v1/instances", body=json.dumps(
                {"id": "by-api", "service": "inventory", "address": replica()["address"],
                 "check": {"grpc": True, "interval": "200ms"}}))
            self.assertEqual(status, 200, body)
            def by_api():
                rows = json.loads(http_request(agent.api, "GET",
                                               "/api/v1/services/inventory/instances")[2])
                return next(r for r in rows if r["id"] == "by-api")
            wait_for(lambda: by_api()["health"] == "healthy", 10, "the API instance's grpc check")
            self.assertEqual(by_api()["check"]["kind"], "grpc")
            with open(health_file, "w") as f:
                f.write("NOT_SERVING")
            wait_for(lambda: replica()["health"] == "unhealthy", 10, "NOT_SERVING to count")
            self.assertEqual(replica()["check"], "NOT_SERVING")
            with open(health_file, "w") as f:
                f.write("UNIMPLEMENTED")
            wait_for(lambda: "grpc-status 12" in replica()["check"], 10,
                     f"the failed call to show: {replica()}")
            self.assertIn("health checks are off", replica()["check"])


if __name__ == "__main__":
    unittest.main()
