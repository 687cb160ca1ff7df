"""gantry up --broker nats://: the app's topics in real NATS JetStream servers. A server that is
not there at start is a clear error; one lost while running degrades the agent (publishes
answer 503 at once, the data plane serves on) and is picked up again when it is back, with no
restart of gantry; on a three-server cluster with R3 streams, a server killed under publishing
loses no acknowledged message: each is delivered at least once."""
import json
import os
import sys
import tempfile
import threading
import time
import unittest

from gantry_support import (Agent, free_port, http_request, publish, up_failing_to_start,
                            wait_for, write_app)
from nats_support import Nats, NatsCluster

SUBSCRIBER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "subscriber.py")


def subscribing_app(record):
    return f"""
name: shop
services:
  consumer:
    command: [{sys.executable}, {SUBSCRIBER}]
    env: {{ RECORD_FILE: {record} }}
    health: {{ http: /healthz, interval: 200ms }}
    subscribe:
      - {{ topic: orders.eu, path: /events/orders }}
gateway:
  routes:
    - {{ path: /, service: consumer }}
"""


def delivered(record):
    if not os.path.exists(record):
        return []
    with open(record) as f:
        return [json.loads(line) for line in f]


class StartWithoutNats(unittest.TestCase):
    def test_a_server_that_does_not_answer_is_named_and_the_agent_exits(self):
        address = f"127.0.0.1:{free_port()}"
        result = up_failing_to_start("--broker", f"nats://{address}")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(address, result.stderr)


    def test_more_replicas_than_a_lone_server_keeps_is_an_error_at_start(self):
        nats = Nats()
        self.addCleanup(nats.close)
        result = up_failing_to_start("--broker", nats.broker_flag + "?replicas=3")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("cannot keep 3 replicas", result.stderr)


class OnJetStream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nats = Nats()
        cls.addClassCleanup(cls.nats.close)
        cls.record = os.path.join(tempfile.mkdtemp(prefix="gantry-jetstream-"), "got.jsonl")
        cls.agent = Agent(write_app(subscribing_app(cls.record)), workers=1,
                          extra_args=("--broker", cls.nats.broker_flag))
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)

    def test_1_a_topic_is_a_stream_named_after_the_app(self):
        status, answer = publish(self.agent.api, "orders.eu", "first", {"X-Gantry-Message-Id": "o-1"})
        self.assertEqual(status, 200, answer)
        streams = self.nats.monitor("/jsz?streams=true")["account_details"][0]["stream_detail"]
        self.assertIn("gantry_shop_sorders_deu", [s["name"] for s in streams])
        wait_for(lambda: [r for r in delivered(self.record) if r["body"] == "first"], 20,
                 "the delivery")

    def test_1_a_topic_name_too_long_for_jetstream_is_refused_as_such(self):
        status, answer = publish(self.agent.api, "_" * 200, "x")
        self.assertEqual(status, 400, answer)
        self.assertIn("too long for JetStream", answer["error"])

    def test_2_losing_nats_degrades_and_its_return_is_picked_up(self):
        self.nats.kill9()
        try:
            started = time.monotonic()
            status, answer = publish(self.agent.api, "orders.eu", "while-down",
                                     {"X-Gantry-Message-Id": "o-down"})
            self.assertEqual(status, 503, answer)
            # "not connected" once libnats saw the connection end; before, the publish went
            # out and its answer never came.
            self.assertRegex(answer["error"], "NATS is not connected|JetStream did not answer")
            self.assertLess(time.monotonic() - started, 6)
            # Reads answer 503 too (at once, once libnats saw the connection end).
            wait_for(lambda: http_request(self.agent.api, "GET",
                                          "/api/v1/topics/orders.eu?from=0")[0] == 503, 10,
                     "a read answering 503")
            # The data plane serves on.
            self.assertEqual(http_request(self.agent.gateway, "GET", "/healthz")[0], 200)
        finally:
            self.nats.start()
        answer = wait_for(lambda: (lambda r: r[1] if r[0] == 200 else None)(
            publish(self.agent.api, "orders.eu", "after", {"X-Gantry-Message-Id": "o-after"})),
            30, "a publish once NATS is back")
        self.assertFalse(answer.get("duplicate", False))
        wait_for(lambda: [r for r in delivered(self.record) if r["body"] == "after"], 30,
                 "delivery resumed after NATS came back")
        # Told "may or may not be stored", the client publishes again with the same id: stored
        # once, whichever it was.
        status, _ = publish(self.agent.api, "orders.eu", "while-down",
                            {"X-Gantry-Message-Id": "o-down"})
        self.assertEqual(status, 200)
        status, _, body = http_request(self.agent.api, "GET", "/api/v1/topics/orders.eu?from=0")
        stored = [m for m in json.loads(body)["messages"] if m["id"] == "o-down"]
        self.assertEqual(len(stored), 1, stored)


class OnACluster(unittest.TestCase):
    def test_a_server_killed_under_publishing_loses_no_acknowledged_message(self):
        cluster = NatsCluster()
        self.addCleanup(cluster.close)
        record = os.path.join(tempfile.mkdtemp(prefix="gantry-jetstream-r3-"), "got.jsonl")
        agent = Agent(write_app(subscribing_app(record)), workers=1,
                      extra_args=("--broker", cluster.broker_flag))
        self.addCleanup(agent.close)
        agent.wait_ready(timeout=60)
        acknowledged, failed = [], []
        stop = threading.Event()

        def publishing():
            # Bounded in time and count. While the stream elects a leader on the servers left
            # (4 to 9 s), publishes fail at once ("no responders"): a short pause, not a spin.
            deadline = time.monotonic() + 120
            for i in range(100_000):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                body = f"m-{i}"
                try:
                    status, answer = publish(agent.api, "orders.eu", body,
                                             {"X-Gantry-Message-Id": body})
                except OSError as error:
                    status, answer = 0, str(error)
                if status == 200:
                    acknowledged.append(body)
                else:
                    failed.append(answer)
                    time.sleep(0.05)

        thread = threading.Thread(target=publishing)
        thread.start()
        try:
            wait_for(lambda: len(acknowledged) >= 100, 30, "publishing to get going")
            cluster.members[0].kill9()
            count = len(acknowledged)
            wait_for(lambda: len(acknowledged) >= count + 200, 60,
                     f"publishes acknowledged with one server down (failed: {failed[-3:]})")
        finally:
            stop.set()
            thread.join(timeout=60)
        got = set()

        def all_delivered():
            got.update(r["body"] for r in delivered(record))
            return set(acknowledged) <= got

        try:
            wait_for(all_delivered, 60, "every acknowledged message delivered")
        except AssertionError:
            missing = sorted(set(acknowledged) - got)
            said = [line for line in agent.output().splitlines() if "delivery:" in line]
            raise AssertionError(f"{len(missing)} of {len(acknowledged)} acknowledged messages "
                                 f"never delivered, e.g. {missing[:5]}; the agent said:\n"
                                 + "\n".join(said[-20:])) from None


if __name__ == "__main__":
    unittest.main()
