"""gantry scale under load: replicas are added and removed without one failed request (a
replica leaves routing, every proxy worker acknowledges, its requests finish, then SIGTERM)."""
import json
import os
import signal
import subprocess
import threading
import time
import unittest

from gantry_support import GANTRY, HELLO, Agent, Load, http_request, wait_for, write_app

APP = f"""
services:
  hello:
    command: [{HELLO}]
    replicas: 3
    health: {{ http: /healthz, interval: 200ms }}
    stop_grace: 5s
gateway:
  routes:
    - {{ path: /, service: hello }}
"""


def scale(agent, *targets):
    return subprocess.run([GANTRY, "scale", *targets, "--api", agent.api], capture_output=True,
                          text=True, timeout=30)


def running(agent):
    return sorted(r["id"] for r in agent.ps() if r["pid"] and r["health"] == "healthy")


class Scale(unittest.TestCase):
    def test_scale_up_and_down_under_load_fails_no_request(self):
        with Agent(write_app(APP), workers=2) as agent:
            agent.wait_ready(timeout=60)
            load = Load(agent.gateway)
            try:
                wait_for(lambda: load.ok > 300, 30, "load to get going")
                result = scale(agent, "hello=6")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("hello scaled to 6", result.stdout)
                wait_for(lambda: len(running(agent)) == 6, 30, "six healthy replicas")
                wait_for(lambda: "hello-6" in load.seen, 10, "traffic on a new replica")
                result = scale(agent, "hello=1")
                self.assertEqual(result.returncode, 0, result.stderr)
                wait_for(lambda: [r["id"] for r in agent.ps()] == ["hello-1"], 30,
                         "only hello-1 left")
                count = load.ok
                wait_for(lambda: load.ok > count + 300, 30, "load after scaling down")
            finally:
                load.finish()
            self.assertEqual(load.failures, [], load.failures[:5])
            status, _, body = http_request(agent.api, "GET", "/api/v1/services/hello/instances")
            self.assertEqual([i["id"] for i in json.loads(body)], ["hello-1"])

    def test_replicas_that_never_passed_a_check_get_no_traffic_even_in_panic(self):
        # Each replica takes 1.5 s to listen: its first checks fail and it is unhealthy before it
        # is healthy. 1 healthy of 3 is under the 50% panic threshold, and panic routing used to
        # send requests to the starting ones (127-192 502s in a run like this one).
        app = APP.replace(f"command: [{HELLO}]",
                          f'command: [/bin/sh, -c, "sleep 1.5; exec {HELLO}"]').replace(
            "replicas: 3", "replicas: 1").replace("interval: 200ms", "interval: 100ms")
        with Agent(write_app(app), workers=2) as agent:
            agent.wait_ready(timeout=60)
            load = Load(agent.gateway)
            try:
                wait_for(lambda: load.ok > 300, 30, "load to get going")
                result = scale(agent, "hello=3")
                self.assertEqual(result.returncode, 0, result.stderr)
                wait_for(lambda: any(r["health"] == "unhealthy" for r in agent.ps()), 10,
                         "a new replica failing its first checks")
                wait_for(lambda: len(running(agent)) == 3, 30, "three healthy replicas")
                wait_for(lambda: {"hello-2", "hello-3"} <= load.seen, 10, "traffic on both")
            finally:
                load.finish()
            self.assertEqual(load.failures, [], load.failures[:5])

    def test_bad_scale_requests_are_refused(self):
        with Agent(write_app(APP), workers=1) as agent:
            result = scale(agent, "nope=2")
            self.assertEqual(result.returncode, 1)
            self.assertIn('no service named "nope"', result.stderr)
            result = scale(agent, "hello=lots")
            self.assertEqual(result.returncode, 2)
            for body in ('{"replicas": -1}', '{"replicas": "3"}', '{}', '{"replicas": 2, "x": 1}'):
                status, _, answer = http_request(agent.api, "POST", "/api/v1/services/hello/scale",
                                                 body=body)
                self.assertEqual(status, 400, answer)
            status, _, _ = http_request(agent.api, "GET", "/api/v1/services/hello/scale")
            self.assertEqual(status, 405)


class Restart(unittest.TestCase):
    def restart_under_load(self, update):
        app = APP.replace("    stop_grace: 5s\n", f"    stop_grace: 5s\n    update: {update}\n")
        with Agent(write_app(app), workers=2) as agent:
            agent.wait_ready(timeout=60)
            before = {r["id"]: r["pid"] for r in agent.ps()}
            load = Load(agent.gateway)
            try:
                wait_for(lambda: load.ok > 300, 30, "load to get going")
                result = subprocess.run([GANTRY, "restart", "hello", "--api", agent.api],
                                        capture_output=True, text=True, timeout=120)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("hello restarted", result.stdout)
                count = load.ok
                wait_for(lambda: load.ok > count + 300, 30, "load after the restart")
            finally:
                load.finish()
            self.assertEqual(load.failures, [], load.failures[:5])
            wait_for(lambda: sorted(r["id"] for r in agent.ps()) == sorted(before), 30,
                     "the surge replica to leave")
            after = {r["id"]: r["pid"] for r in agent.ps()}
            for id, pid in before.items():
                self.assertNotEqual(after[id], pid, f"{id} was not replaced")
            self.assertTrue(all(r["health"] == "healthy" for r in agent.ps()))
            # A planned replacement is not a restart.
            self.assertEqual([r["restarts"] for r in agent.ps()], [0] * len(before))
            return agent

    def test_restart_with_a_surge_replica_fails_no_request(self):
        self.restart_under_load("{ max_surge: 1, max_unavailable: 0 }")

    def test_restart_one_at_a_time_without_surge_fails_no_request(self):
        self.restart_under_load("{ max_surge: 0, max_unavailable: 1 }")

    def test_restart_of_an_unknown_service(self):
        with Agent(write_app(APP), workers=1) as agent:
            result = subprocess.run([GANTRY, "restart", "nope", "--api", agent.api],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 1)
            self.assertIn('no service named "nope"', result.stderr)


class Events(unittest.TestCase):
    def events(self, agent):
        result = subprocess.run([GANTRY, "events", "-o", "json", "--api", agent.api],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        return [json.loads(line) for line in result.stdout.splitlines()]

    def test_events_record_starts_scaling_stops_exits_and_restarts(self):
        app = APP.replace("replicas: 3", "replicas: 1")
        with Agent(write_app(app), workers=1) as agent:
            agent.wait_ready(timeout=60)
            first = self.events(agent)
            self.assertEqual([(e["kind"], e["instance"]) for e in first], [("started", "hello-1")])
            # A blocking read wakes up with the next event.
            index = first[-1]["index"]
            result = {}
            reader = threading.Thread(target=lambda: result.update(answer=http_request(
                agent.api, "GET", f"/api/v1/events?index={index}&wait=20s", timeout=30)))
            reader.start()
            time.sleep(0.2)  # the read is parked (nothing happens until the scale below)
            self.assertTrue(reader.is_alive())
            self.assertEqual(scale(agent, "hello=2").returncode, 0)
            reader.join(timeout=30)
            status, headers, body = result["answer"]
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)[0]["kind"], "scaled")
            self.assertGreater(int(headers["X-Gantry-Index"]), index)
            wait_for(lambda: len(running(agent)) == 2, 30, "two healthy replicas")
            victim = next(r for r in agent.ps() if r["id"] == "hello-1")
            os.kill(victim["pid"], signal.SIGKILL)
            wait_for(lambda: any(e["kind"] == "restarted" for e in self.events(agent)), 15,
                     "the restart event")
            self.assertEqual(scale(agent, "hello=1").returncode, 0)
            wait_for(lambda: [r["id"] for r in agent.ps()] == ["hello-1"], 30, "hello-2 gone")
            kinds = [(e["kind"], e["instance"] or e["service"], e["message"])
                     for e in self.events(agent)]
            self.assertIn(("scaled", "hello", "1 -> 2 replicas"), kinds)
            self.assertIn(("scaled", "hello", "2 -> 1 replicas"), kinds)
            self.assertTrue(any(k[:2] == ("started", "hello-2") for k in kinds), kinds)
            self.assertIn(("exited", "hello-1", "killed by SIGKILL"), kinds)
            self.assertTrue(any(k[:2] == ("restarted", "hello-1") for k in kinds), kinds)
            self.assertTrue(any(k[:2] == ("stopping", "hello-2") for k in kinds), kinds)
            self.assertTrue(any(k[:2] == ("exited", "hello-2") for k in kinds), kinds)
            indexes = [e["index"] for e in self.events(agent)]
            self.assertEqual(indexes, sorted(indexes))


if __name__ == "__main__":
    unittest.main()
