"""gantry up -d runs the agent in the background and returns; gantry down drains and stops it."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from gantry_support import GANTRY, HELLO, http_request, pid_alive, wait_for, write_app

APP = f"""
services:
  hello:
    command: [{HELLO}]
    replicas: 2
    health: {{ http: /healthz, interval: 200ms }}
    stop_grace: 5s
gateway:
  routes:
    - {{ path: /, service: hello }}
"""


class Detached(unittest.TestCase):
    def setUp(self):
        self.state = tempfile.mkdtemp(prefix="gantry-detach-")
        self.app = write_app(APP)

    def tearDown(self):
        info = self.agent_file()
        if info and pid_alive(info["pid"]):  # a failed test leaves nothing running
            os.kill(info["pid"], signal.SIGKILL)

    def agent_file(self):
        try:
            with open(os.path.join(self.state, "agent.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def up(self, app=None):
        return subprocess.run([GANTRY, "up", "-d", "-f", app or self.app, "--api", "127.0.0.1:0",
                               "--gateway", "127.0.0.1:0", "--mesh", "127.0.0.1:0",
                               "--state-dir", self.state], capture_output=True, text=True,
                              timeout=60)

    def test_up_detached_serves_and_down_stops_everything(self):
        started = time.monotonic()
        result = self.up()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("runs in the background", result.stdout)
        self.assertLess(time.monotonic() - started, 30)
        info = self.agent_file()
        api = info["api"].removeprefix("http://")
        gateway = info["gateway"].removeprefix("http://")

        def replicas():
            out = subprocess.run([GANTRY, "ps", "-o", "json", "--api", api], capture_output=True,
                                 text=True, timeout=15).stdout
            return json.loads(out) if out else []

        wait_for(lambda: len([r for r in replicas() if r["health"] == "healthy"]) == 2, 30,
                 "two healthy replicas")
        pids = [r["pid"] for r in replicas()]
        status, _, body = http_request(gateway, "GET", "/")
        self.assertEqual(status, 200, body)
        again = self.up()  # the state folder is taken
        self.assertEqual(again.returncode, 1)
        self.assertIn("already runs", again.stderr)

        result = subprocess.run([GANTRY, "down", "--state-dir", self.state], capture_output=True,
                                text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("stopped", result.stdout)
        wait_for(lambda: not pid_alive(info["pid"]), 10, "the agent to exit")
        for pid in pids:
            wait_for(lambda: not pid_alive(pid), 10, f"replica {pid} to exit")
        with open(os.path.join(self.state, "agent.log")) as f:
            self.assertIn("gantry: stopped", f.read())
        self.assertIsNone(self.agent_file())

    def test_a_killed_agents_replicas_are_adopted_without_a_restart(self):
        self.assertEqual(self.up().returncode, 0)
        info = self.agent_file()
        api = info["api"].removeprefix("http://")

        def replicas(api):
            out = subprocess.run([GANTRY, "ps", "-o", "json", "--api", api], capture_output=True,
                                 text=True, timeout=15).stdout
            return json.loads(out) if out else []

        wait_for(lambda: len([r for r in replicas(api) if r["health"] == "healthy"]) == 2, 30,
                 "two healthy replicas")
        before = {r["id"]: (r["pid"], r["address"]) for r in replicas(api)}
        os.kill(info["pid"], signal.SIGKILL)
        wait_for(lambda: not pid_alive(info["pid"]) or open(f"/proc/{info['pid']}/stat").read()
                 .rsplit(")", 1)[1].split()[0] == "Z", 10, "the agent to die")
        for id, (pid, address) in before.items():  # still running and serving
            self.assertTrue(pid_alive(pid), id)
            status, _, body = http_request(address, "GET", "/")
            self.assertEqual((status, body), (200, f"hello from {id}\n"))

        result = self.up()  # a new agent on the same state folder
        self.assertEqual(result.returncode, 0, result.stderr)
        info = self.agent_file()
        api = info["api"].removeprefix("http://")
        wait_for(lambda: len([r for r in replicas(api) if r["health"] == "healthy"]) == 2, 30,
                 "the adopted replicas healthy under the new agent")
        rows = {r["id"]: r for r in replicas(api)}
        for id, (pid, address) in before.items():
            self.assertEqual((rows[id]["pid"], rows[id]["address"], rows[id]["restarts"]),
                             (pid, address, 0), f"{id} was restarted instead of adopted")
        gateway = info["gateway"].removeprefix("http://")
        self.assertEqual(http_request(gateway, "GET", "/")[0], 200)
        # An adopted replica is not the new agent's child: its death is still seen.
        victim = before["hello-1"][0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: any(r["id"] == "hello-1" and r["pid"] not in (0, victim) and
                             r["health"] == "healthy" and r["restarts"] == 1
                             for r in replicas(api)), 20, "hello-1 replaced")
        result = subprocess.run([GANTRY, "down", "--state-dir", self.state], capture_output=True,
                                text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_for(lambda: not pid_alive(before["hello-2"][0]), 10, "the adopted hello-2 to stop")

    def test_up_detached_returns_when_the_app_is_ready_printing_its_progress(self):
        result = self.up()
        self.assertEqual(result.returncode, 0, result.stderr)
        for line in ("hello-1          started", "hello-2          healthy", "ready: app",
                     "  dashboard http://", "runs in the background: gantry down stops it"):
            self.assertIn(line, result.stdout)
        api = self.agent_file()["api"].removeprefix("http://")
        rows = json.loads(subprocess.run([GANTRY, "ps", "-o", "json", "--api", api],
                                         capture_output=True, text=True, timeout=15).stdout)
        self.assertEqual([r["health"] for r in rows], ["healthy", "healthy"])  # already
        subprocess.run([GANTRY, "down", "--state-dir", self.state], timeout=120)

    def test_up_detached_says_when_the_app_is_not_ready_in_time_and_leaves_it_running(self):
        never = write_app(APP.replace("/healthz", "/missing"))
        result = subprocess.run([GANTRY, "up", "-d", "-f", never, "--api", "127.0.0.1:0",
                                 "--gateway", "127.0.0.1:0", "--mesh", "127.0.0.1:0",
                                 "--state-dir", self.state, "--wait-timeout", "2"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn("the app is not ready after 2s; it keeps running", result.stderr)
        self.assertTrue(pid_alive(self.agent_file()["pid"]))
        again = subprocess.run([GANTRY, "up", "-d", "--no-wait", "-f", never, "--state-dir",
                                self.state], capture_output=True, text=True, timeout=60)
        self.assertIn("already runs", again.stderr)  # --no-wait parses; the folder is taken
        subprocess.run([GANTRY, "down", "--state-dir", self.state], timeout=120)

    def test_a_bad_app_file_fails_before_detaching(self):
        bad = write_app("services:\n  hello:\n    replicas: 2\n")
        result = self.up(bad)
        self.assertEqual(result.returncode, 1)
        self.assertIn("missing command", result.stderr)
        self.assertIsNone(self.agent_file())

    def test_down_without_an_agent_says_so(self):
        result = subprocess.run([GANTRY, "down", "--state-dir", self.state], capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("gantry down: "), result.stderr)


if __name__ == "__main__":
    unittest.main()
