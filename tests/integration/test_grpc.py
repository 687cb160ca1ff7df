"""gRPC through the gateway and the mesh with python3-grpcio on both sides: unary, server and
bidirectional streaming, a 1 MiB message (flow control both ways), each call balanced on its
own over one client connection, grpc-timeout as the deadline (and passed on), retries on listed
gRPC codes, and gantry's own failures as gRPC statuses."""
import os
import signal
import sys
import threading
import time
import unittest

import grpc

from gantry_support import Agent, http_request, write_app

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc_echo_server.py")

APP = f"""
services:
  echo:
    command: [{sys.executable}, {SERVER}]
    protocol: grpc
    replicas: 2
    health: {{ grpc: true, interval: 200ms }}
    policy:
      timeout: 5s
      retries: {{ attempts: 1, on: [unavailable, connect-failure] }}
  tight:
    command: [{sys.executable}, {SERVER}]
    protocol: grpc
    health: {{ grpc: true, interval: 200ms }}
    policy: {{ circuit_breaker: {{ max_requests: 1 }} }}
  ghost:
    command: [{sys.executable}, {SERVER}]
    protocol: grpc
    replicas: 0
  stuck:
    command: [{sys.executable}, {SERVER}]
    protocol: grpc
    health: {{ grpc: true, interval: 200ms }}
    policy: {{ timeout: 1s }}
gateway:
  routes:
    - {{ path: /test.Echo, service: echo }}
    - {{ host: tight, service: tight }}
    - {{ host: ghost, service: ghost }}
    - {{ host: stuck, service: stuck }}
"""

RAW = {"request_serializer": None, "response_deserializer": None}


def stub(channel, method, kind="unary_unary"):
    return getattr(channel, kind)(f"/test.Echo/{method}", **RAW)


class Grpc(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=2)
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)
        cls.gateway = grpc.insecure_channel(cls.agent.gateway)
        cls.addClassCleanup(cls.gateway.close)

    def channel(self, authority):
        channel = grpc.insecure_channel(self.agent.gateway,
                                        options=[("grpc.default_authority", authority)])
        self.addCleanup(channel.close)
        return channel

    def test_unary_calls_are_balanced_one_by_one_over_one_connection(self):
        answers = [stub(self.gateway, "Echo")(b"hi", timeout=10) for _ in range(20)]
        instances = {a.split(b":")[0] for a in answers}
        self.assertEqual(instances, {b"echo-1", b"echo-2"}, answers)
        self.assertTrue(all(a.endswith(b":hi") for a in answers))

    def test_through_the_mesh_by_authority(self):
        mesh = grpc.insecure_channel(self.agent.mesh, options=[("grpc.default_authority", "echo")])
        self.addCleanup(mesh.close)
        self.assertTrue(stub(mesh, "Echo")(b"mesh", timeout=10).endswith(b":mesh"))

    def test_server_streaming(self):
        got = list(stub(self.gateway, "Count", "unary_stream")(b"300", timeout=10))
        self.assertEqual(got, [str(i).encode() for i in range(300)])

    def test_bidirectional_streaming(self):
        messages = [f"m{i}".encode() for i in range(100)]
        got = list(stub(self.gateway, "Chat", "stream_stream")(iter(messages), timeout=10))
        self.assertEqual(got, [b"re:" + m for m in messages])

    def test_a_large_message_both_ways(self):
        big = os.urandom(1024 * 1024)  # past every HTTP/2 window on the way
        channel = grpc.insecure_channel(self.agent.gateway, options=[
            ("grpc.max_receive_message_length", 8 << 20)])
        self.addCleanup(channel.close)
        answer = stub(channel, "Echo")(big, timeout=20)
        self.assertEqual(answer.split(b":", 1)[1], big)

    def test_grpc_timeout_is_the_deadline_and_is_passed_on(self):
        # grpc-core rounds deadlines up a little on the way in: 100 ms of slack.
        left = int(stub(self.gateway, "Deadline")(b"", timeout=2))
        self.assertTrue(0 < left <= 2100, left)
        left = int(stub(self.gateway, "Deadline")(b"", timeout=30))
        self.assertTrue(0 < left <= 5100, f"policy.timeout 5s bounds it: {left}")
        started = time.monotonic()
        with self.assertRaises(grpc.RpcError) as caught:
            stub(self.gateway, "Slow")(b"3000", timeout=0.3)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - started, 2)

    def test_the_services_timeout_ends_calls_without_a_deadline(self):
        # No client deadline: policy.timeout (5 s) ends the call as DEADLINE_EXCEEDED, said by
        # gantry or by the replica (it was told the deadline in grpc-timeout), whichever is first.
        started = time.monotonic()
        with self.assertRaises(grpc.RpcError) as caught:
            stub(self.gateway, "Slow")(b"8000")
        self.assertEqual(caught.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertTrue(4.5 < time.monotonic() - started < 7)

    def test_gantrys_own_deadline_is_deadline_exceeded(self):
        # A replica that cannot answer at all (stopped): gantry's deadline (policy.timeout 1s)
        # ends the call itself, well before health checks would take the replica out.
        pid = next(r["pid"] for r in self.agent.ps() if r["id"] == "stuck-1")
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with self.assertRaises(grpc.RpcError) as caught:
                stub(self.channel("stuck"), "Echo")(b"x", timeout=30)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
            self.assertIn("no complete response from service \"stuck\" within 1000ms",
                          caught.exception.details())
            self.assertLess(time.monotonic() - started, 2.5)
        finally:
            os.kill(pid, signal.SIGCONT)

    def test_retries_on_listed_codes_go_to_another_replica(self):
        # echo-1 answers UNAVAILABLE to "flaky"; one retry (on: [unavailable]) avoids it.
        answers = [stub(self.gateway, "Echo")(b"flaky", timeout=10) for _ in range(20)]
        self.assertEqual({a for a in answers}, {b"echo-2:flaky"})

    def test_application_statuses_pass_through(self):
        with self.assertRaises(grpc.RpcError) as caught:
            stub(self.gateway, "Echo")(b"fail:NOT_FOUND", timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(caught.exception.details(), "asked to fail")

    def test_no_healthy_replica_is_unavailable(self):
        with self.assertRaises(grpc.RpcError) as caught:
            stub(self.channel("ghost"), "Echo")(b"x", timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn("no healthy replica of service \"ghost\"", caught.exception.details())

    def test_no_route_is_unimplemented(self):
        channel = self.channel("nowhere")
        with self.assertRaises(grpc.RpcError) as caught:
            channel.unary_unary("/other.Svc/Call", **RAW)(b"x", timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_overload_is_resource_exhausted(self):
        # max_requests: 1, and four calls of 500 ms at once: the first one runs, others are
        # refused at once with RESOURCE_EXHAUSTED.
        channel = self.channel("tight")
        calls = [stub(channel, "Slow").future(b"500", timeout=10) for _ in range(4)]
        outcomes = []
        for call in calls:
            try:
                outcomes.append(call.result())
            except grpc.RpcError as error:
                outcomes.append(error.code())
                self.assertIn("max_requests", error.details())
        self.assertIn(b"done", outcomes)
        self.assertIn(grpc.StatusCode.RESOURCE_EXHAUSTED, outcomes)
        self.assertEqual(set(outcomes), {b"done", grpc.StatusCode.RESOURCE_EXHAUSTED})

    def test_many_concurrent_calls_on_one_channel(self):
        errors = []

        def client(n):
            try:
                for i in range(20):
                    want = f"{n}-{i}".encode()
                    answer = stub(self.gateway, "Echo")(want, timeout=10)
                    if not answer.endswith(b":" + want):
                        errors.append(answer)
            except grpc.RpcError as error:
                errors.append(error)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])

    def test_http1_to_a_grpc_service_is_refused(self):
        status, _, body = http_request(self.agent.gateway, "POST", "/test.Echo/Echo",
                                       headers={"Content-Type": "application/grpc"}, body=b"")
        self.assertEqual(status, 501, body)
        self.assertIn("HTTP/2", body)


if __name__ == "__main__":
    unittest.main()
