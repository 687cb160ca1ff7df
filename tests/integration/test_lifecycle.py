"""Replica lifecycle under the real binary: crashes, restart policies, shutdown, faults."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from gantry_support import (GANTRY, HELLO, Agent, copy_example, group_alive, group_members,
                            http_request, pid_alive, wait_for, write_app)


FLAKY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flaky_upstream.py")


def has_cgroups():
    """v1 cpu and memory hierarchies, or a v2 tree with both controllers (as Cgroups::Detect)."""
    if os.path.exists("/sys/fs/cgroup/memory/cgroup.procs"):
        return os.path.exists("/sys/fs/cgroup/cpu/cgroup.procs")
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            controllers = f.read().split()
    except OSError:
        return False
    return "cpu" in controllers and "memory" in controllers


def hello_app(replicas=3, health_path="/healthz", extra=""):
    return write_app(f"""
services:
  hello:
    command: [{HELLO}]
    replicas: {replicas}
    health: {{ http: {health_path}, interval: 1s, timeout: 500ms }}
    stop_grace: 5s
{extra}
gateway:
  routes:
    - {{ path: /, service: hello }}
""")


class Lifecycle(unittest.TestCase):
    def test_kill_9_gives_a_new_healthy_replica_within_2s_and_ps_counts_one_restart(self):
        with Agent(hello_app()) as agent:
            agent.wait_ready()
            victim = next(r for r in agent.ps() if r["id"] == "hello-2")
            killed_at = time.monotonic()
            os.kill(victim["pid"], signal.SIGKILL)

            def replaced():
                r = next(r for r in agent.ps() if r["id"] == "hello-2")
                return r if r["pid"] not in (0, victim["pid"]) and r["health"] == "healthy" else None

            replacement = wait_for(replaced, 10, "a new healthy hello-2")
            elapsed = time.monotonic() - killed_at
            self.assertLess(elapsed, 2.0, agent.output())
            self.assertEqual(replacement["restarts"], 1)
            self.assertEqual(replacement["state"], "running")
            others = [r["restarts"] for r in agent.ps() if r["id"] != "hello-2"]
            self.assertEqual(others, [0, 0])
            # and the new replica takes traffic
            seen = {http_request(agent.gateway, "GET", "/")[2].strip() for _ in range(9)}
            self.assertIn("hello from hello-2", seen)

    def test_ctrl_c_stops_every_replica_and_leaves_no_process(self):
        with Agent(copy_example("hello")) as agent:
            agent.wait_ready()
            pids = [r["pid"] for r in agent.ps()]
            self.assertEqual(len(pids), 6)  # hello x3, inventory x2, greeter
            self.assertEqual(agent.stop(signal.SIGINT), 0, agent.output())
            for pid in pids:
                self.assertFalse(pid_alive(pid), f"replica {pid} survived\n{agent.output()}")
                self.assertFalse(group_alive(pid), f"a child of replica {pid} survived")
            self.assertIn("gantry: stopped", agent.output())
            self.assertFalse(os.path.exists(os.path.join(agent.state_dir, "agent.json")))

    def test_sigterm_to_gantry_also_stops_everything(self):
        with Agent(hello_app(replicas=2)) as agent:
            agent.wait_ready()
            pids = [r["pid"] for r in agent.ps()]
            self.assertEqual(agent.stop(signal.SIGTERM), 0)
            self.assertFalse(any(pid_alive(p) for p in pids))

    def test_stop_grace_then_sigkill_for_a_replica_that_ignores_sigterm(self):
        app = write_app("""
services:
  stubborn:
    command: [/bin/sh, -c, "trap '' TERM; while true; do sleep 0.1; done"]
    stop_grace: 300ms
""")
        with Agent(app) as agent:
            agent.wait_ready()
            pid = agent.ps()[0]["pid"]
            started = time.monotonic()
            self.assertEqual(agent.stop(), 0)
            self.assertLess(time.monotonic() - started, 10)
            self.assertIn("killed by SIGKILL", agent.output())
            wait_for(lambda: not group_alive(pid), 5, "the replica's process group to be gone")

    def test_a_replica_that_leaves_children_behind_is_cleaned_up(self):
        # The main process exits on SIGTERM at once; its child ignores SIGTERM and would live on.
        straggler = "(trap '' TERM; exec sleep 1000) & exec sleep 1000"
        app = write_app(f"""
services:
  parent:
    command: [/bin/sh, -c, "{straggler}"]
    stop_grace: 1s
  crasher:
    command: [/bin/sh, -c, "{straggler}"]
    restart: never
""")
        with Agent(app) as agent:
            agent.wait_ready()
            rows = {r["id"]: r for r in agent.ps()}
            parent, crasher = rows["parent-1"]["pid"], rows["crasher-1"]["pid"]
            wait_for(lambda: len(group_members(crasher)) == 2, 10, "the crasher's child to start")
            os.kill(crasher, signal.SIGKILL)  # the leader dies: its group goes with it
            wait_for(lambda: not group_alive(crasher), 10, "the crasher's orphaned child to be killed")
            wait_for(lambda: len(group_members(parent)) == 2, 10, "the parent's child to start")
            self.assertEqual(agent.stop(), 0)
            wait_for(lambda: not group_alive(parent), 10, "the parent's orphaned child to be killed")

    @unittest.skipUnless(has_cgroups(), "no cgroups here: only the process group is killed")
    def test_children_that_left_the_process_group_die_with_their_replica(self):
        # setsid puts the child in a session (and group) of its own: only the replica's cgroup
        # still knows it. It dies when the replica does, and when the agent stops; after a
        # kill -9 of a foreground agent it survives, and the next agent's start kills it.
        folder = tempfile.mkdtemp(prefix="gantry-setsid-")
        pidfile = os.path.join(folder, "escaped")
        escape = f'setsid sh -c "echo \\$\\$ > {pidfile}.\\$PPID; exec sleep 1000" & exec {HELLO}'
        app = write_app(f"""
name: setsid
services:
  hello:
    command: [/bin/sh, -c, '{escape}']
    health: {{ http: /healthz, interval: 200ms }}
    stop_grace: 2s
gateway:
  routes:
    - {{ path: /, service: hello }}
""")

        def escaped():
            pids = []
            for name in os.listdir(folder):
                with open(os.path.join(folder, name)) as f:
                    text = f.read().strip()
                if text:
                    pids.append(int(text))
            return [pid for pid in pids if pid_alive(pid)]

        state = tempfile.mkdtemp(prefix="gantry-setsid-state-")
        with Agent(app, state_dir=state) as agent:
            agent.wait_ready()
            first = wait_for(escaped, 10, "the escaped child")[0]
            self.assertNotEqual(os.getpgid(first), agent.ps()[0]["pid"])  # out of the group
            os.kill(agent.ps()[0]["pid"], signal.SIGKILL)
            wait_for(lambda: not pid_alive(first), 10, "the escaped child to die with its replica")
            wait_for(lambda: escaped() and agent.ps()[0]["health"] == "healthy", 20,
                     "the replacement and its escaped child")
            second = escaped()[0]
            self.assertEqual(agent.stop(), 0)
            wait_for(lambda: not pid_alive(second), 10, "the escaped child to die with the agent")
        with Agent(app, state_dir=state) as agent:
            agent.wait_ready()
            third = wait_for(escaped, 10, "the escaped child")[0]
            agent.kill9()  # the replica dies with it (PDEATHSIG); its escaped child does not
            time.sleep(0.5)
            self.assertTrue(pid_alive(third))
        with Agent(app, state_dir=state) as agent:
            wait_for(lambda: not pid_alive(third), 15, "the next agent to kill what was left")
            agent.wait_ready()

    def test_under_the_panic_threshold_replicas_that_fell_unhealthy_still_get_traffic(self):
        sick = os.path.join(tempfile.mkdtemp(prefix="gantry-sick-"), "sick")
        app = write_app(f"""
services:
  flaky:
    command: [{sys.executable}, {FLAKY}]
    env: {{ SICK_FILE: {sick} }}
    health: {{ http: /healthz, interval: 200ms }}
gateway:
  routes:
    - {{ path: /, service: flaky }}
""")
        with Agent(app) as agent:
            agent.wait_ready()
            open(sick, "w").close()  # its check fails from now on
            wait_for(lambda: agent.ps()[0]["health"] == "unhealthy", 15, "flaky-1 unhealthy")
            status, _, body = http_request(agent.gateway, "GET", "/whoami")
            self.assertEqual((status, body), (200, "flaky-1"))

    def test_a_replica_that_never_passed_its_check_gets_no_traffic_even_in_panic(self):
        with Agent(hello_app(replicas=1, health_path="/missing")) as agent:
            wait_for(lambda: agent.ps()[0]["health"] == "unhealthy", 15, "hello-1 unhealthy")
            status, _, body = http_request(agent.gateway, "GET", "/")
            self.assertEqual(status, 503, body)
            self.assertEqual(json.loads(body)["code"], "no_healthy_upstream")

    def test_no_healthy_replica_gives_503_json(self):
        app = hello_app(replicas=1, health_path="/missing",
                        extra="    policy: { panic_threshold: 0% }")
        with Agent(app) as agent:
            wait_for(lambda: agent.ps()[0]["health"] == "unhealthy", 15, "hello-1 unhealthy")
            status, headers, body = http_request(agent.gateway, "GET", "/")
            self.assertEqual(status, 503)
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertEqual(json.loads(body)["code"], "no_healthy_upstream")
            status, _, body = http_request(agent.api, "GET", "/api/v1/services/hello/instances")
            self.assertIn("HTTP 404", body)

    def test_tcp_health_check(self):
        app = write_app(f"""
services:
  hello:
    command: [{HELLO}]
    replicas: 2
    health: {{ tcp: true, interval: 1s }}
gateway:
  routes:
    - {{ path: /, service: hello }}
""")
        with Agent(app) as agent:
            agent.wait_ready()
            self.assertEqual({r["health"] for r in agent.ps()}, {"healthy"})
            self.assertEqual({r["check"] for r in agent.ps()}, {"connected"})
            self.assertEqual(http_request(agent.gateway, "GET", "/")[0], 200)

    def test_restart_policies(self):
        app = write_app("""
services:
  clean:
    command: [/bin/sh, -c, "exit 0"]
    restart: on-failure
  never:
    command: [/bin/sh, -c, "exit 3"]
    restart: never
  flaky:
    command: [/bin/sh, -c, "exit 3"]
    restart: on-failure
""")
        with Agent(app) as agent:
            rows = lambda: {r["id"]: r for r in agent.ps()}
            wait_for(lambda: rows()["flaky-1"]["restarts"] >= 2, 10, "flaky restarted twice")
            r = rows()
            self.assertEqual((r["clean-1"]["state"], r["clean-1"]["restarts"]), ("exited", 0))
            self.assertEqual(r["clean-1"]["last_exit"], "exited with code 0")
            self.assertEqual((r["never-1"]["state"], r["never-1"]["restarts"]), ("exited", 0))
            self.assertEqual(r["never-1"]["last_exit"], "exited with code 3")

    def test_replica_environment_and_working_folder(self):
        app = write_app("""
services:
  envdump:
    command: [/bin/sh, -c, "pwd; env | sort; exec sleep 600"]
    env: { GREETING: hi }
""")
        with Agent(app) as agent:
            agent.wait_ready()
            log = os.path.join(agent.state_dir, "logs", "envdump-1.log")
            def logged_env():
                with open(log) as f:
                    text = f.read()
                return text if "PORT=" in text else None

            text = wait_for(logged_env, 10, "the environment in the replica's log")
            lines = set(text.splitlines())
            replica = agent.ps()[0]
            self.assertIn(os.path.dirname(app), lines)
            for expected in (f"PORT={replica['address'].split(':')[1]}", "GANTRY_SERVICE=envdump",
                             "GANTRY_INSTANCE=envdump-1", f"GANTRY_MESH={agent.mesh}",
                             f"GANTRY_API=http://{agent.api}", f"HTTP_PROXY=http://{agent.mesh}",
                             "NO_PROXY=localhost,127.0.0.1,::1", "GREETING=hi"):
                self.assertIn(expected, lines)

    def test_missing_executable_is_reported_and_retried(self):
        app = write_app("services:\n  ghost:\n    command: [./no-such-binary]\n")
        with Agent(app) as agent:
            wait_for(lambda: "ghost-1          failed" in agent.output(), 10, "failure line")
            self.assertIn("No such file or directory", agent.output())
            row = wait_for(lambda: next((r for r in agent.ps() if r["state"] == "failed"), None),
                           10, "ghost-1 failed in ps")
            self.assertIn("No such file", row["last_exit"])
            self.assertTrue(row["reason"].startswith("cannot start: "), row)

    def test_ps_shows_waiting_replicas_sorted_rows_and_refuses_an_unknown_service(self):
        app = write_app(f"""
services:
  web:
    command: [{HELLO}]
    replicas: 10
    depends_on: [db]
    health: {{ http: /healthz, interval: 200ms }}
  db:
    command: [{HELLO}]
    health: {{ http: /missing, interval: 200ms }}   # never healthy: web waits for it
""")
        with Agent(app) as agent:
            wait_for(lambda: any(r["service"] == "db" and r["health"] == "unhealthy"
                                 for r in agent.ps()), 15, "db unhealthy")
            rows = agent.ps()
            self.assertEqual([r["id"] for r in rows],
                             ["db-1"] + [f"web-{n}" for n in range(1, 11)])  # web-2 < web-10
            for row in rows[1:]:
                self.assertEqual((row["state"], row["pid"], row["restarts"]), ("waiting", 0, 0))
                self.assertEqual(row["reason"], "waiting for db to be healthy (depends_on)")
            table = subprocess.run([GANTRY, "ps", "--api", agent.api], capture_output=True,
                                   text=True, timeout=15).stdout
            self.assertIn("waiting for db to be healthy", table)
            result = subprocess.run([GANTRY, "ps", "nope", "--api", agent.api],
                                    capture_output=True, text=True, timeout=15)
            self.assertEqual(result.returncode, 1)
            self.assertIn('no service named "nope"', result.stderr)

    def test_port_in_use_is_a_clear_error(self):
        with Agent(hello_app(replicas=1)) as first:
            result = subprocess.run(
                [GANTRY, "up", "-f", hello_app(replicas=1), "--api", "127.0.0.1:0", "--mesh", "127.0.0.1:0",
                 "--gateway", first.gateway], capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 1)
            self.assertIn(f"cannot listen on {first.gateway}", result.stderr)

    def test_second_agent_on_the_same_state_folder_is_refused(self):
        with Agent(hello_app(replicas=1)) as first:
            result = subprocess.run(
                [GANTRY, "up", "-f", hello_app(replicas=1), "--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0",
                 "--mesh", "127.0.0.1:0", "--state-dir", first.state_dir], capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 1)
            self.assertIn("already runs from", result.stderr)

    def test_cli_finds_the_agent_from_the_state_folder(self):
        app = hello_app(replicas=1)
        with Agent(app) as agent:
            agent.wait_ready()
            env = dict(os.environ)
            env.pop("GANTRY_API", None)
            result = subprocess.run([GANTRY, "ps", "--state-dir", agent.state_dir], capture_output=True,
                                    text=True, timeout=15, env=env)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertRegex(result.stdout, r"hello-1 +hello +\d+ +127\.0\.0\.1:\d+ +running +healthy +0")
            env["GANTRY_API"] = "http://" + agent.api
            result = subprocess.run([GANTRY, "ps", "hello"], capture_output=True, text=True, timeout=15, env=env)
            self.assertIn("hello-1", result.stdout)
        result = subprocess.run([GANTRY, "ps", "--state-dir", "/nonexistent"], capture_output=True, text=True,
                                timeout=15, env={k: v for k, v in os.environ.items() if k != "GANTRY_API"})
        self.assertEqual(result.returncode, 1)
        self.assertIn("no agent found", result.stderr)

    def test_without_a_state_folder_here_the_cli_tries_the_default_address(self):
        with socket.socket() as probe:  # an agent of someone else's on 7700 would answer
            if probe.connect_ex(("127.0.0.1", 7700)) == 0:
                self.skipTest("something listens on 127.0.0.1:7700")
        empty = tempfile.mkdtemp(prefix="gantry-no-state-")
        env = {k: v for k, v in os.environ.items() if k != "GANTRY_API"}
        result = subprocess.run([GANTRY, "ps"], capture_output=True, text=True, timeout=15,
                                env=env, cwd=empty)
        self.assertEqual(result.returncode, 1)
        self.assertIn("none answers at 127.0.0.1:7700 (the default address)", result.stderr)

    def test_a_mistyped_verb_gets_a_suggestion(self):
        result = subprocess.run([GANTRY, "--log-level", "info", "sclae", "web=2"],
                                capture_output=True, text=True, timeout=15)
        self.assertEqual(result.returncode, 2)
        self.assertIn('"sclae" is not a gantry command; did you mean "scale"?', result.stderr)


if __name__ == "__main__":
    unittest.main()
