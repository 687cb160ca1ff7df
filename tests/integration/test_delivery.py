"""Push delivery (`subscribe:`) to real replicas through the mesh: every message once to the
group (balanced over replicas), with its headers; redelivery, then the dead-letter topic after
max_deliver; ordered subscriptions in offset order; and at-least-once across kill -9 of the
agent: every acknowledged publish is delivered after the restart."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from gantry_support import GANTRY, Agent, http_request, publish, wait_for, write_app

SUBSCRIBER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "subscriber.py")


def app(record, late_record, late_replicas):
    return f"""
services:
  consumer:
    command: [{sys.executable}, {SUBSCRIBER}]
    replicas: 2
    env: {{ RECORD_FILE: {record} }}
    health: {{ http: /healthz, interval: 200ms }}
    subscribe:
      - {{ topic: orders, path: /events/orders, max_deliver: 3 }}
      - {{ topic: steps, path: /events/steps, ordered: true }}
  late:
    command: [{sys.executable}, {SUBSCRIBER}]
    replicas: {late_replicas}
    env: {{ RECORD_FILE: {late_record} }}
    health: {{ http: /healthz, interval: 200ms }}
    subscribe:
      - {{ topic: backlog, path: /events/backlog }}
"""


def records(path, path_prefix):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r for r in map(json.loads, f) if r["path"].startswith(path_prefix)]


class Delivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        folder = tempfile.mkdtemp(prefix="gantry-delivery-")
        cls.record = os.path.join(folder, "consumer.jsonl")
        cls.late_record = os.path.join(folder, "late.jsonl")
        cls.state = os.path.join(folder, "state")
        cls.app_file = write_app(app(cls.record, cls.late_record, 0))
        cls.agent = Agent(cls.app_file, workers=1, state_dir=cls.state)
        cls.addClassCleanup(lambda: cls.agent.close())
        cls.agent.wait_ready(timeout=60)

    def publish(self, topic, body, headers=None):
        status, answer = publish(self.agent.api, topic, body, headers)
        self.assertEqual(status, 200, answer)
        return answer

    def subscription(self, topic, service):
        topics = json.loads(http_request(self.agent.api, "GET", "/api/v1/topics")[2])
        for t in topics:
            for s in t.get("subscriptions", []):
                if t["topic"] == topic and s["service"] == service:
                    return s
        return None

    def test_every_message_once_to_the_group_with_its_headers(self):
        for i in range(20):
            self.publish("orders", f"order {i}", headers={
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
        got = wait_for(lambda: (lambda r: r if len(r) >= 20 else None)(
            [r for r in records(self.record, "/events/orders") if r["body"].startswith("order")]),
            20, "20 deliveries")
        self.assertEqual(sorted(r["body"] for r in got), sorted(f"order {i}" for i in range(20)))
        self.assertEqual({r["instance"] for r in got}, {"consumer-1", "consumer-2"})
        first = next(r for r in got if r["body"] == "order 0")["headers"]
        self.assertEqual((first["x-gantry-topic"], first["x-gantry-attempt"]), ("orders", "1"))
        self.assertIn("x-gantry-message-id", first)
        self.assertTrue(first["traceparent"].startswith("00-0af7"))
        wait_for(lambda: self.subscription("orders", "consumer")["lag"] == 0, 10, "lag 0")

    def test_a_failing_message_is_redelivered_then_dead_lettered(self):
        sent = self.publish("orders", "fail please")
        wait_for(lambda: len([r for r in records(self.record, "/events/orders")
                              if r["body"] == "fail please"]) == 3, 30, "3 tries")
        dlq = wait_for(lambda: (lambda page: page["messages"] or None)(json.loads(
            http_request(self.agent.api, "GET", "/api/v1/topics/orders.dlq")[2]) if
            http_request(self.agent.api, "GET", "/api/v1/topics/orders.dlq")[0] == 200 else
            {"messages": []}), 30, "the dead letter")
        self.assertEqual(dlq[0]["headers"]["x-gantry-original-offset"], str(sent["offset"]))
        self.assertEqual(dlq[0]["headers"]["x-gantry-last-failure"],
                         "HTTP 500: cannot take: fail please")
        self.assertEqual(dlq[0]["headers"]["x-gantry-attempts"], "3")
        attempts = sorted(r["headers"]["x-gantry-attempt"] for r in records(
            self.record, "/events/orders") if r["body"] == "fail please")
        self.assertEqual(attempts, ["1", "2", "3"])
        self.assertGreaterEqual(self.subscription("orders", "consumer")["dead_lettered"], 1)

    def test_dlq_ls_and_replay(self):
        parked = self.publish("orders.dlq", "replay me")  # a dead letter, as a topic takes any
        ls = subprocess.run([GANTRY, "dlq", "ls", "orders", "--api", self.agent.api],
                            capture_output=True, text=True, timeout=30)
        self.assertEqual(ls.returncode, 0, ls.stderr)
        self.assertIn("replay me", ls.stdout)
        replay = subprocess.run([GANTRY, "dlq", "replay", "orders", "--api", self.agent.api,
                                 "--from", str(parked["offset"])],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assertEqual(replay.stdout, "replayed 1 message from orders.dlq to orders\n")
        wait_for(lambda: [r for r in records(self.record, "/events/orders")
                          if r["body"] == "replay me"], 20, "the replayed message delivered")
        empty = subprocess.run([GANTRY, "dlq", "ls", "none", "--api", self.agent.api],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(empty.stdout, "no dead letters: topic none.dlq does not exist\n")

    def test_ordered_subscriptions_keep_offset_order(self):
        for i in range(15):
            self.publish("steps", f"step {i}")
        got = wait_for(lambda: (lambda r: r if len(r) >= 15 else None)(
            records(self.record, "/events/steps")), 20, "15 steps")
        self.assertEqual([r["body"] for r in got], [f"step {i}" for i in range(15)])

    def test_ordered_subscriptions_keep_order_per_key_while_other_keys_go_on(self):
        # a0 fails once (tried again after 1 s): a1 and a2 wait for it, b0..b2 do not.
        self.publish("steps", "once-fail a0", headers={"X-Gantry-Key": "a"})
        for name in ("b0", "a1", "b1", "a2", "b2"):
            self.publish("steps", name, headers={"X-Gantry-Key": name[0]})
        got = wait_for(lambda: (lambda r: r if len(r) >= 7 else None)(
            [r for r in records(self.record, "/events/steps")
             if r["headers"].get("x-gantry-key") in ("a", "b")]), 30, "7 deliveries")
        bodies = [r["body"] for r in got]
        self.assertEqual([b for b in bodies if "a" in b],
                         ["once-fail a0", "once-fail a0", "a1", "a2"])
        self.assertEqual([b for b in bodies if "b" in b], ["b0", "b1", "b2"])
        self.assertLess(bodies.index("b2"), bodies.index("a1"))  # b did not wait for a's retry

    def test_zz_acknowledged_publishes_are_delivered_after_kill_9(self):
        # Nobody takes "backlog" yet (late has no replica): publishes wait in the log.
        for i in range(10):
            self.publish("backlog", f"job {i}")
        self.assertEqual(self.subscription("backlog", "late")["lag"], 10)
        self.agent.kill9()
        with open(self.app_file, "w") as f:
            f.write(app(self.record, self.late_record, 1))
        type(self).agent = Agent(self.app_file, workers=1, state_dir=self.state)
        self.agent.wait_ready(timeout=60)
        got = wait_for(lambda: (lambda r: r if len(r) >= 10 else None)(
            records(self.late_record, "/events/backlog")), 30, "the backlog delivered")
        self.assertEqual(sorted(r["body"] for r in got), sorted(f"job {i}" for i in range(10)))


if __name__ == "__main__":
    unittest.main()
