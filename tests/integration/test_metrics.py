"""Metrics: GET /metrics in Prometheus' text format after real traffic (counts exact, histogram
consistent, replicas up with memory, a topic), accepted by promtool; `gantry top` under load;
Prometheus HTTP service discovery at /api/v1/sd/prometheus; and Debian's Prometheus server
scraping the agent and discovering the replicas through it."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request

from gantry_support import GANTRY, HELLO, Agent, free_port, http_request, publish, wait_for, write_app

APP = f"""
services:
  web:
    command: [{HELLO}]
    replicas: 2
    health: {{ http: /healthz, interval: 200ms }}
gateway:
  routes:
    - {{ path: /, service: web }}
"""

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset of (label, value))}: value, checking every line's shape."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        Agent.for_class(cls, write_app(APP), "gantry-metrics-")
        wait_for(lambda: len(cls.healthy()) == 2, 30, "two healthy replicas")

    @classmethod
    def healthy(cls):
        body = http_request(cls.agent.api, "GET", "/api/v1/services/web/instances?healthy=true")[2]
        return json.loads(body)

    def metrics(self):
        status, headers, body = http_request(self.agent.api, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        return body

    def test_counts_after_traffic_and_promtool_accepts_them(self):
        for _ in range(50):
            self.assertEqual(http_request(self.agent.gateway, "GET", "/")[0], 200)
        publish(self.agent.api, "metrics.topic", "x")
        wait_for(lambda: get(parse(self.metrics()), "gantry_service_requests_total",
                             service="web") == 50, 10, "50 requests counted")
        text = self.metrics()
        s = parse(text)
        self.assertEqual(get(s, "gantry_service_responses_total", service="web", **{"class": "2xx"}),
                         50)
        self.assertEqual(get(s, "gantry_service_responses_total", service="web", **{"class": "5xx"}),
                         0)
        self.assertEqual(get(s, "gantry_route_requests_total", host="", path="/", service="web"),
                         50)
        self.assertEqual(get(s, "gantry_service_request_duration_seconds_count", service="web"), 50)
        buckets = sorted((float(dict(labels)["le"]), value) for (name, labels), value in s.items()
                         if name == "gantry_service_request_duration_seconds_bucket"
                         and dict(labels)["service"] == "web")
        counts = [value for _, value in buckets]
        self.assertEqual(counts, sorted(counts))  # cumulative
        self.assertEqual(buckets[-1], (float("inf"), 50))
        self.assertGreater(get(s, "gantry_service_request_duration_seconds_sum", service="web"), 0)
        self.assertEqual(get(s, "gantry_service_endpoints", service="web"), 2)
        for instance in ("web-1", "web-2"):
            self.assertEqual(get(s, "gantry_replica_up", service="web", instance=instance), 1)
            self.assertEqual(get(s, "gantry_replica_restarts_total", service="web",
                                 instance=instance), 0)
            self.assertGreater(get(s, "gantry_replica_memory_bytes", service="web",
                                   instance=instance), 0)
        self.assertEqual(get(s, "gantry_topic_published_total", topic="metrics.topic"), 1)
        self.assertGreater(get(s, "gantry_store_revision"), 0)
        self.assertEqual(get(s, "gantry_trace_spans_dropped_total"), 0)
        self.assertIsNotNone(get(s, "gantry_traces_kept_total"))
        build = [labels for (name, labels) in s if name == "gantry_build_info"]
        self.assertEqual(len(build), 1)
        self.assertTrue(shutil.which("promtool"), "promtool missing: run scripts/setup")
        check = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_gantry_top_shows_rates_latency_and_replicas(self):
        stop = threading.Event()

        def load():
            while not stop.is_set():
                http_request(self.agent.gateway, "GET", "/")

        loader = threading.Thread(target=load)
        loader.start()
        try:
            result = subprocess.run([GANTRY, "top", "--api", self.agent.api, "-n", "2",
                                     "--interval", "500ms"], capture_output=True, text=True,
                                    timeout=30)
        finally:
            stop.set()
            loader.join(timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        frames = result.stdout.strip().split("\n\n")
        self.assertEqual(len(frames), 2, result.stdout)
        header, *rows = frames[-1].splitlines()
        self.assertEqual(header.split(), ["SERVICE", "REPLICAS", "REQ/S", "ERR%", "P50", "P99",
                                          "CPU%", "MEMORY"])
        web = next(r.split() for r in rows if r.startswith("web "))
        self.assertEqual(web[1], "2")
        self.assertGreater(float(web[2]), 10)  # requests per second under the load
        self.assertEqual(web[3], "0.0")
        self.assertTrue(web[4].endswith("ms") and web[5].endswith("ms"), web)
        self.assertNotEqual(web[7], "0", web)

    def test_http_service_discovery_lists_the_healthy_replicas(self):
        status, headers, body = http_request(self.agent.api, "GET", "/api/v1/sd/prometheus")
        self.assertEqual(status, 200)
        groups = json.loads(body)
        expected = {i["address"]: i["id"] for i in self.healthy()}
        self.assertEqual({g["targets"][0]: g["labels"]["instance"] for g in groups}, expected)
        for group in groups:
            self.assertEqual(group["labels"]["service"], "web")
            self.assertEqual(group["labels"]["__meta_gantry_service"], "web")

    def test_prometheus_scrapes_the_agent_and_discovers_replicas(self):
        self.assertTrue(shutil.which("prometheus"), "prometheus missing: run scripts/setup")
        folder = tempfile.mkdtemp(prefix="gantry-prometheus-")
        config = os.path.join(folder, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""
global: {{ scrape_interval: 1s, evaluation_interval: 1s }}
scrape_configs:
  - job_name: gantry
    static_configs: [{{ targets: ["{self.agent.api}"] }}]
  - job_name: replicas
    http_sd_configs: [{{ url: "http://{self.agent.api}/api/v1/sd/prometheus", refresh_interval: 1s }}]
""")
        port = free_port()
        with open(os.path.join(folder, "log"), "w") as log:
            proc = subprocess.Popen(
                ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={folder}/data",
                 f"--web.listen-address=127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, stderr=log)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(timeout=30)))
        api = f"http://127.0.0.1:{port}/api/v1"

        def targets():
            try:
                with urllib.request.urlopen(f"{api}/targets", timeout=2) as r:
                    return json.load(r)["data"]["activeTargets"]
            except OSError:  # not listening yet
                return []

        def discovered():
            found = [t for t in targets() if t["labels"].get("job") == "replicas"]
            return found if len(found) == 2 else None

        replicas = wait_for(discovered, 60, "Prometheus to discover both replicas")
        self.assertEqual({t["labels"]["instance"] for t in replicas}, {"web-1", "web-2"})
        self.assertEqual({t["labels"]["service"] for t in replicas}, {"web"})
        http_request(self.agent.gateway, "GET", "/")

        def scraped():
            query = urllib.parse.quote('gantry_service_requests_total{service="web"}')
            try:
                with urllib.request.urlopen(f"{api}/query?query={query}", timeout=2) as r:
                    result = json.load(r)["data"]["result"]
            except OSError:
                return None
            return result if result and float(result[0]["value"][1]) >= 1 else None

        wait_for(scraped, 60, "Prometheus to scrape gantry's request counter")
        gantry = [t for t in targets() if t["labels"].get("job") == "gantry"]
        self.assertEqual(gantry[0]["health"], "up", gantry)


if __name__ == "__main__":
    unittest.main()
