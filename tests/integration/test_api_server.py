"""The agent API's HTTP server as a hostile or careless client meets it: a client that leaves
while its request waits (a lock waiter, a blocking read) is noticed, so the waiter leaves the
lock's queue and the read gives its descriptor back; a head or body that stalls gets 408 at the
gateway's limits (10 s), not a minute of silence."""
import http.client
import json
import os
import socket
import threading
import time
import unittest

from gantry_support import PLAIN_APP, Agent, http_request, wait_for, write_app


def open_request(address, method, path, body=""):
    """Sends a request and returns the socket without reading the answer."""
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = f"{method} {path} HTTP/1.1\r\nHost: gantry\r\nContent-Length: {len(body)}\r\n\r\n"
    sock.sendall(head.encode() + body.encode())
    return sock


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class ApiServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        Agent.for_class(cls, write_app(PLAIN_APP), "gantry-api-server-")

    def lock(self, name, **fields):
        status, _, body = http_request(self.agent.api, "POST", f"/api/v1/locks/{name}",
                                       body=json.dumps(fields))
        return status, json.loads(body)

    def waiters(self, name):
        return json.loads(http_request(self.agent.api, "GET", f"/api/v1/locks/{name}")[2])["waiters"]

    def test_a_lock_waiter_whose_client_left_leaves_the_queue(self):
        status, held = self.lock("abandoned", ttl="30s")
        self.assertEqual(status, 200, held)
        waiter = open_request(self.agent.api, "POST", "/api/v1/locks/abandoned",
                              json.dumps({"ttl": "30s", "wait": "60s"}))
        wait_for(lambda: self.waiters("abandoned") == 1, 10, "the waiter in the queue")
        waiter.close()
        wait_for(lambda: self.waiters("abandoned") == 0, 10, "the gone waiter out of the queue")
        status, _, _ = http_request(self.agent.api, "DELETE",
                                    f"/api/v1/locks/abandoned?token={held['token']}")
        self.assertEqual(status, 200)
        # The lock is free for a live client, not taken by the one that left.
        status, next_holder = self.lock("abandoned", ttl="10s", wait="5s")
        self.assertEqual(status, 200, next_holder)
        self.assertGreater(next_holder["token"], held["token"])

    def test_abandoned_blocking_reads_give_their_descriptors_back(self):
        pid = self.agent.proc.pid
        _, headers, _ = http_request(self.agent.api, "GET", "/api/v1/kv/x?prefix=true")
        index = headers["X-Gantry-Index"]
        _, headers, _ = http_request(self.agent.api, "GET", "/api/v1/services")
        registry = headers["X-Gantry-Index"]
        before = descriptors(pid)
        paths = [f"/api/v1/kv/parked?index={index}&wait=5m",
                 f"/api/v1/kv/parked?watch={int(index) + 1}&wait=5m",
                 f"/api/v1/services?index={registry}&wait=5m",
                 "/api/v1/events?index=1000000000&wait=5m"]
        sockets = [open_request(self.agent.api, "GET", paths[i % len(paths)]) for i in range(60)]
        # `before` may have counted a health probe's socket or two, here for a moment only.
        wait_for(lambda: descriptors(pid) >= before + 58, 10, "the parked reads' sockets")
        for sock in sockets:
            sock.close()
        wait_for(lambda: descriptors(pid) <= before + 2, 15,
                 "the abandoned reads' sockets closed by the agent")
        self.assertEqual(http_request(self.agent.api, "GET", "/api/v1/agent")[0], 200)

    def test_json_answers_are_utf8_even_when_they_quote_bytes_that_are_not(self):
        host, port = self.agent.api.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("POST", "/api/v1/apply", body=b'services:\n  "a\xffb": { command: [x] }\n')
        response = conn.getresponse()
        body = response.read()
        conn.close()
        self.assertEqual(response.status, 400, body)
        answer = json.loads(body.decode("utf-8"))  # strict: raises on a bad byte
        self.assertIn('"a\ufffdb"', answer["error"])

    def test_a_stalled_head_or_body_gets_408_within_the_gateways_limit(self):
        host, port = self.agent.api.rsplit(":", 1)
        results = {}

        def stall(name, data):
            started = time.monotonic()
            with socket.create_connection((host, int(port)), timeout=40) as sock:
                sock.sendall(data)
                answer = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            results[name] = (answer, time.monotonic() - started)

        cases = {"head": b"GET /api/v1/agent HTTP/1.1\r\nHost: gantry\r\n",
                 "body": b"PUT /api/v1/kv/slow HTTP/1.1\r\nHost: gantry\r\n"
                         b"Content-Length: 10\r\n\r\nabc"}
        threads = [threading.Thread(target=stall, args=item) for item in cases.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        for name in cases:
            answer, took = results[name]
            self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), (name, answer[:200]))
            self.assertIn(b'"code": "request_timeout"', answer)
            self.assertTrue(9 <= took <= 14, (name, took))
        status, _, body = http_request(self.agent.api, "GET", "/api/v1/kv/slow")
        self.assertEqual(status, 404, body)  # nothing of the stalled body was written


if __name__ == "__main__":
    unittest.main()
