"""Tracing through the real binary: W3C traceparent continued (or started) at the gateway and
carried over a mesh hop, a span per proxied hop parented correctly, the replicas seeing this
hop's span as their parent, traces kept and served by /api/v1/traces, and --no-tracing passing
the header through untouched."""
import http.server
import json
import os
import secrets
import sys
import tempfile
import threading
import unittest

from gantry_support import Agent, http_request, wait_for, write_app

HOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace_hop.py")


def app(record):
    return f"""
services:
  front:
    command: [{sys.executable}, {HOP}]
    env: {{ RECORD_FILE: {record}, NEXT: back }}
    health: {{ http: /healthz, interval: 200ms }}
  back:
    command: [{sys.executable}, {HOP}]
    env: {{ RECORD_FILE: {record} }}
    health: {{ http: /healthz, interval: 200ms }}
gateway:
  routes:
    - {{ path: /, service: front }}
"""


def records(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def start_traced(test_class, sample_rate):
    """front -> back under one agent for the class, the replicas recording what they saw."""
    test_class.record = os.path.join(tempfile.mkdtemp(prefix="gantry-trace-record-"),
                                     "seen.jsonl")
    test_class.state = tempfile.mkdtemp(prefix="gantry-tracing-")
    test_class.agent = Agent(write_app(app(test_class.record)), workers=1,
                             state_dir=test_class.state,
                             extra_args=("--trace-sample-rate", sample_rate))
    test_class.addClassCleanup(lambda: test_class.agent.close())
    test_class.agent.wait_ready(timeout=60)


class Tracing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_traced(cls, "1")

    def trace(self, trace_id):
        def fetch():
            status, _, body = http_request(self.agent.api, "GET", f"/api/v1/traces/{trace_id}")
            return json.loads(body) if status == 200 else None
        return wait_for(fetch, 20, f"trace {trace_id}")

    def seen_by(self, path, instance_prefix):
        return wait_for(lambda: [r for r in records(self.record) if r["path"] == path
                                 and r["instance"].startswith(instance_prefix)], 10, path)

    def test_a_callers_trace_goes_on_over_gateway_and_mesh(self):
        trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
        status, _, _ = http_request(self.agent.gateway, "GET", "/continued",
                                    headers={"traceparent": f"00-{trace_id}-{caller_span}-01",
                                             "tracestate": "vendor=1"})
        self.assertEqual(status, 200)
        spans = self.trace(trace_id)["spans"]
        self.assertEqual([(s["kind"], s["service"]) for s in spans],
                         [("gateway", "front"), ("mesh", "back")])
        gateway, mesh = spans
        self.assertEqual(gateway["parent_id"], caller_span)
        self.assertEqual(mesh["parent_id"], gateway["span_id"])
        self.assertEqual((gateway["status"], gateway["method"], gateway["target"]),
                         (200, "GET", "/continued"))
        self.assertEqual(gateway["instance"], "front-1")
        self.assertGreaterEqual(gateway["duration_us"], mesh["duration_us"])
        front = self.seen_by("/continued", "front")[0]["headers"]
        back = self.seen_by("/continued", "back")[0]["headers"]
        self.assertEqual(front["traceparent"], f"00-{trace_id}-{gateway['span_id']}-01")
        self.assertEqual(back["traceparent"], f"00-{trace_id}-{mesh['span_id']}-01")
        self.assertEqual(front["tracestate"], "vendor=1")
        listed = json.loads(http_request(self.agent.api, "GET",
                                         "/api/v1/traces?service=back&limit=50")[2])
        mine = next(t for t in listed if t["trace_id"] == trace_id)
        self.assertEqual((mine["spans"], mine["root_service"], mine["error"]), (2, "front", False))

    def test_a_trace_is_started_when_the_caller_has_none_or_a_bad_one(self):
        for path, header in (("/fresh", None), ("/malformed", "00-xyz-01")):
            headers = {"traceparent": header} if header else {}
            http_request(self.agent.gateway, "GET", path, headers=headers)
            seen = self.seen_by(path, "front")[0]["headers"]["traceparent"]
            version, trace_id, span_id, flags = seen.split("-")
            self.assertEqual((version, len(trace_id), len(span_id), flags), ("00", 32, 16, "01"))
            root = self.trace(trace_id)["spans"][0]
            self.assertEqual((root["parent_id"], root["span_id"]), ("", span_id))

    def test_errors_are_marked(self):
        trace_id = secrets.token_hex(16)
        status, _, _ = http_request(self.agent.gateway, "GET", "/fail",
                                    headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-00"})
        self.assertEqual(status, 500)
        spans = self.trace(trace_id)["spans"]
        self.assertEqual([s["status"] for s in spans], [500, 500])
        listed = json.loads(http_request(self.agent.api, "GET", "/api/v1/traces?limit=1000")[2])
        self.assertTrue(next(t for t in listed if t["trace_id"] == trace_id)["error"])

    def test_topology_counts_calls_between_services(self):
        def edges():
            body = json.loads(http_request(self.agent.api, "GET", "/api/v1/topology")[2])
            return {(e["from"], e["to"]): (e["calls"], e["errors"]) for e in body["edges"]}
        before = edges()
        for _ in range(5):
            self.assertEqual(http_request(self.agent.gateway, "GET", "/topology")[0], 200)
        self.assertEqual(http_request(self.agent.gateway, "GET", "/fail")[0], 500)
        def grown():
            now = edges()
            grew = {k: (v[0] - before.get(k, (0, 0))[0], v[1] - before.get(k, (0, 0))[1])
                    for k, v in now.items()}
            return grew if grew.get(("front", "back"), (0, 0))[0] >= 6 else None
        grew = wait_for(grown, 20, "the calls front -> back")
        # Each request is a gateway call of front and a mesh call of back by front (the parent
        # of the mesh hop is the gateway hop into front): 6 of each, one of them failed.
        self.assertEqual(grew[("gateway", "front")], (6, 1))
        self.assertEqual(grew[("front", "back")], (6, 1))
        self.assertNotIn(("external", "back"), {k for k, v in grew.items() if v[0]})
        metrics = http_request(self.agent.api, "GET", "/metrics")[2]
        self.assertRegex(metrics, r'gantry_calls_total\{from="front",to="back"\} \d+')

    def test_bad_and_unknown_ids(self):
        self.assertEqual(http_request(self.agent.api, "GET", "/api/v1/traces/xyz")[0], 400)
        self.assertEqual(http_request(self.agent.api, "GET",
                                      f"/api/v1/traces/{secrets.token_hex(16)}")[0], 404)
        self.assertEqual(http_request(self.agent.api, "POST", "/api/v1/traces")[0], 405)


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector stub: keeps each POSTed export request (path, type, JSON)."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Collector.received.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class OtlpExport(unittest.TestCase):
    def test_kept_traces_go_to_the_collector_in_otlp_json(self):
        collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
        threading.Thread(target=collector.serve_forever, daemon=True).start()
        self.addCleanup(collector.shutdown)
        record = os.path.join(tempfile.mkdtemp(prefix="gantry-otlp-"), "seen.jsonl")
        agent = Agent(write_app(app(record)), workers=1, extra_args=(
            "--trace-sample-rate", "1",
            "--otlp-endpoint", f"http://127.0.0.1:{collector.server_address[1]}"))
        self.addCleanup(agent.close)
        agent.wait_ready(timeout=60)
        trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
        http_request(agent.gateway, "GET", "/exported",
                     headers={"traceparent": f"00-{trace_id}-{caller}-01"})

        def spans_of_trace():
            found = {}
            for path, content_type, doc in list(Collector.received):
                self.assertEqual((path, content_type), ("/v1/traces", "application/json"))
                for resource in doc["resourceSpans"]:
                    service = resource["resource"]["attributes"][0]
                    self.assertEqual(service["key"], "service.name")
                    for scope in resource["scopeSpans"]:
                        self.assertEqual(scope["scope"]["name"], "gantry")
                        for span in scope["spans"]:
                            if span["traceId"] == trace_id:
                                found[service["value"]["stringValue"]] = span
            return found if len(found) == 2 else None

        spans = wait_for(spans_of_trace, 20, "both spans at the collector")
        front, back = spans["front"], spans["back"]
        self.assertEqual((front["kind"], front["parentSpanId"], front["name"]),
                         (2, caller, "GET /exported"))
        self.assertEqual((back["kind"], back["parentSpanId"]), (3, front["spanId"]))
        self.assertLess(int(front["startTimeUnixNano"]), int(front["endTimeUnixNano"]))
        self.assertEqual(front["status"], {})


class NoTracing(unittest.TestCase):
    def test_the_header_passes_through_untouched(self):
        record = os.path.join(tempfile.mkdtemp(prefix="gantry-notrace-"), "seen.jsonl")
        agent = Agent(write_app(app(record)), workers=1, extra_args=("--no-tracing",))
        self.addCleanup(agent.close)
        agent.wait_ready(timeout=60)
        header = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
        http_request(agent.gateway, "GET", "/plain", headers={"traceparent": header})
        seen = wait_for(lambda: [r for r in records(record) if r["path"] == "/plain"], 10, "seen")
        self.assertEqual({r["headers"]["traceparent"] for r in seen}, {header})
        self.assertEqual(http_request(agent.api, "GET", "/api/v1/traces")[0], 404)
        status, _, body = http_request(agent.api, "GET", "/api/v1/topology")
        self.assertEqual((status, json.loads(body)["code"]), (404, "tracing_off"))


class SampledFlag(unittest.TestCase):
    """With a sample rate of 0, only errors, slow traces and traces whose caller set the sampled
    flag are kept; a trace gantry starts passes its own decision on as the flag (00 here)."""

    @classmethod
    def setUpClass(cls):
        start_traced(cls, "0")

    def kept(self):
        listed = json.loads(http_request(self.agent.api, "GET", "/api/v1/traces?limit=1000")[2])
        return {t["trace_id"] for t in listed}

    def test_a_trace_the_caller_sampled_is_kept_and_an_unsampled_one_is_not(self):
        unsampled, sampled = secrets.token_hex(16), secrets.token_hex(16)
        for trace_id, flags in ((unsampled, "00"), (sampled, "01")):
            status, _, _ = http_request(
                self.agent.gateway, "GET", f"/flag-{flags}",
                headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"})
            self.assertEqual(status, 200)
        # Both were decided by the time the later one is listed (the earlier one at once).
        wait_for(lambda: sampled in self.kept(), 20, "the sampled trace to be kept")
        self.assertNotIn(unsampled, self.kept())
        status, _, body = http_request(self.agent.api, "GET", f"/api/v1/traces/{sampled}")
        self.assertEqual([s["service"] for s in json.loads(body)["spans"]], ["front", "back"])

    def test_a_trace_started_here_carries_the_head_decision(self):
        http_request(self.agent.gateway, "GET", "/started-here")
        seen = wait_for(lambda: [r for r in records(self.record) if r["path"] == "/started-here"
                                 and r["instance"].startswith("front")], 10, "/started-here")
        self.assertTrue(seen[0]["headers"]["traceparent"].endswith("-00"))


if __name__ == "__main__":
    unittest.main()
