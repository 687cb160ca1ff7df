"""Following a topic live: `gantry sub` and the Server-Sent Events behind it
(GET /api/v1/topics/{topic}/events): messages in order from an offset or from now, JSON
output, Last-Event-ID, a backlog larger than one batch, many followers at once, a client that
leaves mid-stream, and bad requests."""
import base64
import http.client
import json
import subprocess
import unittest

from gantry_support import GANTRY, PLAIN_APP, Agent, http_request, publish, write_app


class EventStream:
    """A raw SSE client: events as (id, data dict)."""

    def __init__(self, api, topic, query="", headers=None):
        host, port = api.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=20)
        self.conn.request("GET", f"/api/v1/topics/{topic}/events{query}", headers=headers or {})
        self.response = self.conn.getresponse()

    def next_block(self):
        lines = []
        while True:
            line = self.response.readline().decode()
            if line == "":
                raise EOFError("the stream ended")
            if line == "\n":
                if lines:
                    return lines
                continue
            lines.append(line.rstrip("\n"))

    def next_event(self):
        while True:
            lines = self.next_block()
            if lines[0].startswith(":"):
                continue  # a comment: following, keepalive
            fields = dict(line.split(": ", 1) for line in lines)
            return int(fields["id"]), json.loads(fields["data"])

    def close(self):
        self.conn.close()


class Sub(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        Agent.for_class(cls, write_app(PLAIN_APP), "gantry-sub-")

    def publish(self, topic, body, headers=None):
        status, answer = publish(self.agent.api, topic, body, headers)
        self.assertEqual(status, 200, answer)
        return answer["offset"]

    def test_gantry_sub_prints_payloads_from_an_offset(self):
        for text in ("one", "two"):
            self.publish("sub.cli", text)
        sub = subprocess.Popen([GANTRY, "sub", "sub.cli", "--from", "0", "--count", "4", "--api",
                                self.agent.api], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        self.addCleanup(sub.kill)
        for text in ("three", "four"):
            self.publish("sub.cli", text)
        out, err = sub.communicate(timeout=30)
        self.assertEqual(sub.returncode, 0, err)
        self.assertEqual(out, "one\ntwo\nthree\nfour\n")

    def test_gantry_sub_json(self):
        self.publish("sub.json", "x", headers={"X-Gantry-Key": "k1", "X-Gantry-Message-Id": "m1"})
        result = subprocess.run([GANTRY, "sub", "sub.json", "--from", "0", "--count", "1", "--json",
                                 "--api", self.agent.api], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        message = json.loads(result.stdout)
        self.assertEqual((message["offset"], message["id"], message["key"]), (0, "m1", "k1"))
        self.assertEqual(base64.b64decode(message["payload"]), b"x")

    def test_starts_at_the_next_message_and_resumes_after_last_event_id(self):
        self.publish("sub.now", "old")
        stream = EventStream(self.agent.api, "sub.now")
        self.addCleanup(stream.close)
        self.assertEqual(stream.response.getheader("Content-Type"), "text/event-stream")
        self.assertTrue(stream.next_block()[0].startswith(": following sub.now from offset 1"))
        self.publish("sub.now", "new\nline")
        offset, message = stream.next_event()
        self.assertEqual(offset, 1)
        self.assertEqual(base64.b64decode(message["payload"]), b"new\nline")
        stream.close()
        self.publish("sub.now", "while away")
        again = EventStream(self.agent.api, "sub.now", headers={"Last-Event-ID": "1"})
        self.addCleanup(again.close)
        offset, message = again.next_event()
        self.assertEqual((offset, base64.b64decode(message["payload"])), (2, b"while away"))

    def test_a_backlog_of_many_batches_and_many_followers(self):
        for i in range(1200):
            self.publish("sub.backlog", f"m{i}")
        streams = [EventStream(self.agent.api, "sub.backlog", "?from=0") for _ in range(8)]
        for stream in streams:
            self.addCleanup(stream.close)
        for i in range(1200):
            for stream in streams:
                offset, message = stream.next_event()
                self.assertEqual(offset, i)
                self.assertEqual(base64.b64decode(message["payload"]), f"m{i}".encode())

    def test_a_client_that_leaves_does_not_disturb_the_others(self):
        leaver = EventStream(self.agent.api, "sub.leave", "?from=0")
        stayer = EventStream(self.agent.api, "sub.leave", "?from=0")
        self.addCleanup(stayer.close)
        self.publish("sub.leave", "a")
        self.assertEqual(leaver.next_event()[0], 0)
        leaver.close()
        for text in ("b", "c"):
            self.publish("sub.leave", text)
        self.assertEqual([stayer.next_event()[0] for _ in range(3)], [0, 1, 2])
        self.assertEqual(http_request(self.agent.api, "GET", "/api/v1/topics")[0], 200)

    def test_bad_requests(self):
        self.assertEqual(http_request(self.agent.api, "GET",
                                      "/api/v1/topics/bad%20name/events")[0], 400)
        self.assertEqual(http_request(self.agent.api, "POST", "/api/v1/topics/t/events")[0], 405)
        self.assertEqual(http_request(self.agent.api, "GET",
                                      "/api/v1/topics/t/events?from=x")[0], 400)
        self.assertEqual(http_request(self.agent.api, "GET", "/api/v1/topics/t/events",
                                      headers={"Last-Event-ID": "nope"})[0], 400)
        result = subprocess.run([GANTRY, "sub", "bad name", "--api", self.agent.api],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("topic name", result.stderr)


if __name__ == "__main__":
    unittest.main()
