"""gantry apply on a running app: the difference is printed first (--dry-run stops there), a
changed service's replicas are replaced without one failed request, counts, routes and policies
change in place, new services start and removed ones stop, and a rollout whose new replicas never
become healthy rolls back."""
import json
import os
import subprocess
import unittest

from gantry_support import GANTRY, HELLO, Agent, Load, http_request, wait_for, write_app

BEFORE = f"""
services:
  hello:
    command: [{HELLO}]
    replicas: 2
    env: {{ GREETING: one }}
    health: {{ http: /healthz, interval: 200ms }}
    update: {{ max_surge: 1, max_unavailable: 0, deadline: 3s }}
  extra:
    command: [/bin/sleep, "1000"]
gateway:
  routes:
    - {{ path: /, service: hello }}
"""

AFTER = BEFORE.replace("GREETING: one", "GREETING: two").replace("replicas: 2", "replicas: 3") \
    .replace("""  extra:
    command: [/bin/sleep, "1000"]
""", """  added:
    command: [/bin/sleep, "1000"]
""").replace("    - {{ path: /, service: hello }}".replace("{{", "{").replace("}}", "}"),
             "    - { path: /, service: hello }\n    - { path: /v2, service: hello, strip_prefix: true }")

BROKEN = BEFORE.replace("health: { http: /healthz, interval: 200ms }",
                        "health: { http: /missing, interval: 200ms }")


def apply_command(agent, app_text, name="next.yaml"):
    path = os.path.join(os.path.dirname(agent.app_file), name)
    with open(path, "w") as f:
        f.write(app_text)
    return [GANTRY, "apply", "-f", path, "--api", agent.api]


def apply(agent, app_text, *flags):
    return subprocess.run(apply_command(agent, app_text) + list(flags), capture_output=True,
                          text=True, timeout=120)


def apply_in_background(agent, app_text):
    return subprocess.Popen(apply_command(agent, app_text, "background.yaml"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Apply(unittest.TestCase):
    def start(self, text):
        app = write_app(text)
        agent = Agent(app, workers=2)
        agent.app_file = app
        agent.wait_ready(timeout=60)
        return agent

    def test_dry_run_prints_the_difference_and_changes_nothing(self):
        with self.start(BEFORE) as agent:
            pids = sorted(r["pid"] for r in agent.ps())
            result = apply(agent, AFTER, "--dry-run")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("- extra: removed: its replicas stop", result.stdout)
            self.assertIn("~ hello: env: replicas replaced (rolling, max_surge 1", result.stdout)
            self.assertIn("~ hello: replicas 2 -> 3", result.stdout)
            self.assertIn("+ added: new service, 1 replicas", result.stdout)
            self.assertIn("~ gateway routes: 1 -> 2 (in place)", result.stdout)
            self.assertNotIn("applied", result.stdout)
            self.assertEqual(sorted(r["pid"] for r in agent.ps()), pids)
            self.assertEqual(apply(agent, BEFORE).stdout, "no changes\n")

    def test_apply_under_load_fails_no_request(self):
        with self.start(BEFORE) as agent:
            old_hello = {r["id"]: r["pid"] for r in agent.ps() if r["service"] == "hello"}
            load = Load(agent.gateway)
            try:
                wait_for(lambda: load.ok > 300, 30, "load to get going")
                result = apply(agent, AFTER)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertTrue(result.stdout.endswith("applied\n"), result.stdout)
                count = load.ok
                wait_for(lambda: load.ok > count + 300, 30, "load after the apply")
            finally:
                load.finish()
            self.assertEqual(load.failures, [], load.failures[:5])
            wait_for(lambda: sorted(r["id"] for r in agent.ps()) ==
                     ["added-1", "hello-1", "hello-2", "hello-3"], 30, "the new set of replicas")
            rows = {r["id"]: r for r in agent.ps()}
            for id, pid in old_hello.items():
                self.assertNotEqual(rows[id]["pid"], pid, f"{id} was not replaced")
            status, _, body = http_request(agent.gateway, "GET", "/v2/")  # the new route
            self.assertEqual(status, 200, body)

    def test_a_rollout_that_never_gets_healthy_rolls_back(self):
        with self.start(BEFORE) as agent:
            broken = apply_in_background(agent, BROKEN)
            # While its rollout runs, another apply is refused and changes nothing.
            wait_for(lambda: len([r for r in agent.ps() if r["service"] == "hello"]) > 2, 30,
                     "the rollout's first new replica")
            refused = apply(agent, AFTER)
            self.assertEqual(refused.returncode, 1)
            self.assertIn('service "hello" is being restarted; apply after that', refused.stderr)
            self.assertNotIn("rolled back", refused.stderr)
            _, stderr = broken.communicate(timeout=120)
            self.assertEqual(broken.returncode, 1)
            self.assertIn('a new replica of "hello" was not healthy within 3s', stderr)
            # Back to the settings that worked: every hello replica healthy again.
            wait_for(lambda: sorted(r["id"] for r in agent.ps() if r["service"] == "hello"
                                    and r["health"] == "healthy") == ["hello-1", "hello-2"], 30,
                     "the rollback")
            events = subprocess.run([GANTRY, "events", "-o", "json", "--api", agent.api],
                                    capture_output=True, text=True, timeout=30).stdout
            messages = [json.loads(line)["message"] for line in events.splitlines()
                        if json.loads(line)["kind"] == "rollout"]
            self.assertTrue(any("rolling back" in m for m in messages), messages)
            self.assertIn("rolled back to the previous app file", stderr)

    def test_apply_that_lowers_a_scaled_count_and_rolls_the_service(self):
        # Scaled to 3, then an app file with 2 and a changed env: the third replica is scaled
        # away (still stopping) when the rollout wants it back as its surge replica. It used to
        # wait for it forever (until the deadline) and roll back.
        with self.start(BEFORE) as agent:
            result = subprocess.run([GANTRY, "scale", "hello=3", "--api", agent.api],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 0, result.stderr)
            wait_for(lambda: len([r for r in agent.ps() if r["service"] == "hello"
                                  and r["health"] == "healthy"]) == 3, 30, "three replicas")
            result = apply(agent, BEFORE.replace("GREETING: one", "GREETING: three"))
            self.assertEqual(result.returncode, 0, result.stderr)
            wait_for(lambda: sorted(r["id"] for r in agent.ps() if r["service"] == "hello"
                                    and r["health"] == "healthy") == ["hello-1", "hello-2"], 30,
                     "two replicas with the new settings")

    def test_new_listen_addresses_are_refused(self):
        with self.start(BEFORE) as agent:
            result = apply(agent, BEFORE + "mesh:\n  listen: 127.0.0.1:1\n")
            self.assertEqual(result.returncode, 1)
            self.assertIn("stop the agent and start it again", result.stderr)
            bad = apply(agent, "services:\n  hello: { replicas: 2 }\n")
            self.assertEqual(bad.returncode, 1)
            self.assertIn("missing command", bad.stderr)


if __name__ == "__main__":
    unittest.main()
