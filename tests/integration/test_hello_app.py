"""examples/hello under the real binary: gateway, mesh, API, ps, hostile input."""
import collections
import http.client
import json
import os
import re
import secrets
import unittest

import grpc

from gantry_support import Agent, copy_example, http_request, raw_exchange, wait_for


class HelloApp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(copy_example("hello"), extra_args=("--trace-sample-rate", "1"))
        cls.agent.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    def test_30_requests_reach_all_3_replicas(self):
        seen = collections.Counter()
        for _ in range(30):  # a new connection each: spread over both workers
            status, _, body = http_request(self.agent.gateway, "GET", "/")
            self.assertEqual(status, 200)
            seen[body.strip().removeprefix("hello from ")] += 1
        self.assertEqual(set(seen), {"hello-1", "hello-2", "hello-3"}, seen)

    def test_keep_alive_connection_rotates_evenly(self):
        host, port = self.agent.gateway.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        seen = collections.Counter()
        for _ in range(30):
            conn.request("GET", "/")
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            seen[response.read().decode().strip()] += 1
        conn.close()
        self.assertEqual(sorted(seen.values()), [10, 10, 10], seen)

    def test_greet_goes_through_the_mesh(self):
        status, _, body = http_request(self.agent.gateway, "GET", "/greet")
        self.assertEqual(status, 200, body)
        self.assertRegex(body, r"greeter \(greeter-1\) got: hello from hello-[123]")

    def test_one_trace_across_gateway_greeter_and_hello_and_over_grpc(self):
        for path, downstream in (("/greet", "hello"), ("/stock/abc", "inventory")):
            trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
            status, _, body = http_request(self.agent.gateway, "GET", path,
                                           headers={"traceparent": f"00-{trace_id}-{caller}-01"})
            self.assertEqual(status, 200, body)

            def spans():
                status, _, body = http_request(self.agent.api, "GET", f"/api/v1/traces/{trace_id}")
                return json.loads(body)["spans"] if status == 200 else None
            gateway, mesh = wait_for(spans, 20, f"the trace of {path}")
            self.assertEqual((gateway["kind"], gateway["service"], gateway["parent_id"]),
                             ("gateway", "greeter", caller))
            self.assertEqual((mesh["kind"], mesh["service"], mesh["parent_id"]),
                             ("mesh", downstream, gateway["span_id"]))
            self.assertEqual(mesh["status"], 200)

    def test_stock_calls_the_grpc_service_through_the_mesh(self):
        seen = set()
        for _ in range(10):  # one gRPC channel in the greeter: calls balanced one by one
            status, _, body = http_request(self.agent.gateway, "GET", "/stock/widget")
            self.assertEqual(status, 200, body)
            match = re.fullmatch(r"widget: (\d+) in stock \(from (inventory-[12])\)\n", body)
            self.assertTrue(match, body)
            seen.add(match.group(2))
        self.assertEqual(seen, {"inventory-1", "inventory-2"})

    def test_grpc_clients_reach_the_grpc_service_through_the_gateway(self):
        with grpc.insecure_channel(self.agent.gateway) as channel:
            get = channel.unary_unary("/shop.Inventory/Get", request_serializer=None,
                                      response_deserializer=None)
            answer = get(b"\x0a\x06widget", timeout=10)  # Item{sku: "widget"}
            self.assertTrue(answer.startswith(b"\x0a\x06widget"), answer)  # Stock{sku, ...
            self.assertRegex(answer, rb"\x1a\x0binventory-[12]$")         # ..., replica}
            watch = channel.unary_stream("/shop.Inventory/Watch", request_serializer=None,
                                         response_deserializer=None)
            self.assertEqual(len(list(watch(b"\x0a\x06widget", timeout=10))), 5)
            with self.assertRaises(grpc.RpcError) as caught:
                get(b"", timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_mesh_routes_by_host_and_absolute_uri(self):
        status, _, body = http_request(self.agent.mesh, "GET", "/", headers={"Host": "hello"})
        self.assertEqual((status, body.startswith("hello from hello-")), (200, True), body)
        reply = raw_exchange(self.agent.mesh,
                             b"GET http://greeter/greet HTTP/1.1\r\nHost: greeter\r\nConnection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
        self.assertIn(b"got: hello from hello-", reply)

    def test_gateway_accepts_absolute_form_targets(self):
        reply = raw_exchange(self.agent.gateway,
                             b"GET http://shop.example/greet?x=1 HTTP/1.1\r\nHost: shop.example\r\n"
                             b"Connection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
        self.assertIn(b"got: hello from hello-", reply)

    def test_mesh_unknown_service_is_404_json(self):
        status, headers, body = http_request(self.agent.mesh, "GET", "/", headers={"Host": "nope"})
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["code"], "unknown_service")

    def test_head_does_not_poison_pooled_connections(self):
        for _ in range(6):  # every replica answers a HEAD, then GETs must still succeed
            self.assertEqual(http_request(self.agent.gateway, "HEAD", "/")[0], 200)
        for _ in range(6):
            self.assertEqual(http_request(self.agent.gateway, "GET", "/")[0], 200)

    def test_gateway_head_and_query(self):
        status, headers, body = http_request(self.agent.gateway, "HEAD", "/?x=1")
        self.assertEqual(status, 200)
        self.assertEqual(body, "")
        self.assertEqual(headers["Content-Length"], str(len("hello from hello-1\n")))

    def test_malformed_request_gets_400_and_others_keep_being_served(self):
        reply = raw_exchange(self.agent.gateway, b"THIS IS NOT HTTP\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply)
        reply = raw_exchange(self.agent.gateway, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 431"), reply[:100])
        status, _, _ = http_request(self.agent.gateway, "GET", "/")
        self.assertEqual(status, 200)

    def test_a_slow_client_does_not_hold_up_others(self):
        import socket
        host, port = self.agent.gateway.split(":")
        slow = [socket.create_connection((host, int(port)), timeout=5) for _ in range(4)]
        try:
            for s in slow:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
            for _ in range(8):
                self.assertEqual(http_request(self.agent.gateway, "GET", "/", timeout=5)[0], 200)
        finally:
            for s in slow:
                s.close()

    def test_api_lists_services_and_healthy_instances(self):
        status, headers, body = http_request(self.agent.api, "GET", "/api/v1/services")
        self.assertEqual(status, 200)
        self.assertIn("X-Gantry-Index", headers)
        services = {s["name"]: s for s in json.loads(body)}
        self.assertEqual(services["hello"]["healthy"], 3)
        status, _, body = http_request(self.agent.api, "GET", "/api/v1/services/hello/instances?healthy=true")
        self.assertEqual(status, 200)
        instances = json.loads(body)
        self.assertEqual(sorted(i["id"] for i in instances), ["hello-1", "hello-2", "hello-3"])
        for instance in instances:
            self.assertEqual(set(instance) >= {"id", "service", "address", "health", "tags"}, True, instance)
            self.assertEqual(instance["health"], "healthy")
            self.assertEqual(instance["check"]["output"], "HTTP 200")

    def test_api_errors_are_json(self):
        cases = [("GET", "/api/v1/services/nope", 404, "unknown_service"),
                 ("POST", "/api/v1/services", 405, "method_not_allowed"),
                 ("GET", "/api/v1/traces/nope", 400, "invalid_argument"),
                 ("DELETE", "/api/v1/locks/x", 400, "invalid_argument"),
                 ("GET", "/api/v1/services?index=x", 400, "invalid_argument"),
                 ("GET", "/nope", 404, "not_found")]
        for method, path, want_status, want_code in cases:
            status, headers, body = http_request(self.agent.api, method, path)
            self.assertEqual((status, json.loads(body)["code"]), (want_status, want_code), path)
            self.assertEqual(headers["Content-Type"], "application/json")

    def test_ps_json_has_the_contract_fields(self):
        replicas = self.agent.ps()
        self.assertEqual(sorted(r["id"] for r in replicas),
                         ["greeter-1", "hello-1", "hello-2", "hello-3", "inventory-1", "inventory-2"])
        for r in replicas:
            for field in ("id", "service", "pid", "address", "state", "health", "restarts"):
                self.assertIn(field, r)
            self.assertEqual((r["state"], r["health"]), ("running", "healthy"))
            self.assertRegex(r["address"], r"^127\.0\.0\.1:\d+$")

    def test_greeter_started_after_hello_was_healthy(self):
        lines = self.agent.output().splitlines()
        first_healthy_hello = min(i for i, l in enumerate(lines) if l.split()[:2][-1:] == ["healthy"] and l.split()[0].startswith("hello-"))
        greeter_started = next(i for i, l in enumerate(lines) if l.split()[:2] == ["greeter-1", "started"])
        self.assertLess(first_healthy_hello, greeter_started, "\n".join(lines))

    def test_replica_environment_and_logs(self):
        log = os.path.join(self.agent.state_dir, "logs", "hello-1.log")
        with open(log) as f:
            self.assertIn("hello: listening on 127.0.0.1:", f.read())


if __name__ == "__main__":
    unittest.main()
