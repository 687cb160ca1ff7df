"""Publishing to the embedded broker through the API and `gantry pub`: offsets once durable,
the key, id and trace context kept, dedup of a repeated id, reads from an offset, bad input
refused, and every acknowledged publish still there after kill -9 of the agent."""
import base64
import json
import subprocess
import threading
import unittest

from gantry_support import GANTRY, PLAIN_APP, Agent, http_request, publish, write_app



class Topics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = write_app(PLAIN_APP)
        Agent.for_class(cls, cls.app, "gantry-topics-")

    def publish(self, topic, body, headers=None):
        return publish(self.agent.api, topic, body, headers)

    def read(self, topic, start=0, limit=100):
        status, _, body = http_request(self.agent.api, "GET",
                                       f"/api/v1/topics/{topic}?from={start}&limit={limit}")
        return status, json.loads(body)

    def topics(self):
        return {t["topic"]: t for t in json.loads(http_request(self.agent.api, "GET",
                                                               "/api/v1/topics")[2])}

    def test_offsets_fields_and_reads(self):
        offsets = [self.publish("orders.created", f"order {i}")[1]["offset"] for i in range(5)]
        self.assertEqual(offsets, list(range(5)))
        status, answer = self.publish("orders.created", b"\x00binary\xff", headers={
            "X-Gantry-Key": "customer-7", "X-Gantry-Message-Id": "m-1",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
        self.assertEqual((status, answer["offset"], answer["id"]), (200, 5, "m-1"))
        status, page = self.read("orders.created", start=4, limit=10)
        self.assertEqual(status, 200)
        self.assertEqual([m["offset"] for m in page["messages"]], [4, 5])
        self.assertEqual(page["next_offset"], 6)
        last = page["messages"][1]
        self.assertEqual(base64.b64decode(last["payload"]), b"\x00binary\xff")
        self.assertEqual(last["key"], "customer-7")
        self.assertTrue(last["headers"]["traceparent"].startswith("00-0af7"))
        info = self.topics()["orders.created"]
        self.assertEqual((info["next_offset"], info["messages"]), (6, 6))

    def test_a_repeated_id_is_not_published_twice(self):
        first = self.publish("dedup", "a", headers={"X-Gantry-Message-Id": "same"})[1]
        again = self.publish("dedup", "b", headers={"X-Gantry-Message-Id": "same"})[1]
        self.assertEqual(again["offset"], first["offset"])
        self.assertTrue(again["duplicate"])
        self.assertEqual(self.topics()["dedup"]["messages"], 1)

    def test_bad_input(self):
        self.assertEqual(self.publish("bad%20name", "x")[0], 400)
        self.assertEqual(self.publish("big", "x" * (1024 * 1024 + 1))[0], 400)
        self.assertEqual(self.read("never-published")[0], 404)

    def test_gantry_pub(self):
        result = subprocess.run([GANTRY, "pub", "cli.topic", "from the shell", "--api",
                                 self.agent.api, "--key", "k"], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "cli.topic offset 0\n")
        result = subprocess.run([GANTRY, "pub", "cli.topic", "--api", self.agent.api],
                                input="from stdin", capture_output=True, text=True, timeout=30)
        self.assertEqual(result.stdout, "cli.topic offset 1\n")
        page = self.read("cli.topic")[1]
        self.assertEqual([base64.b64decode(m["payload"]) for m in page["messages"]],
                         [b"from the shell", b"from stdin"])

    def test_zz_acknowledged_publishes_survive_kill_9(self):
        acknowledged = []
        lock = threading.Lock()

        def publisher(n):
            for i in range(40):
                status, answer = self.publish("durable", f"{n}-{i}")
                if status == 200:
                    with lock:
                        acknowledged.append(answer["offset"])

        threads = [threading.Thread(target=publisher, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(len(acknowledged), 160)
        self.agent.kill9()
        type(self).agent = Agent(self.app, workers=1, state_dir=self.state)
        self.agent.wait_ready(timeout=60)
        page = self.read("durable", limit=1000)[1]
        offsets = {m["offset"] for m in page["messages"]}
        self.assertTrue(set(acknowledged) <= offsets)
        self.assertEqual(sorted(offsets), list(range(160)))  # no gap, no repeat


if __name__ == "__main__":
    unittest.main()
