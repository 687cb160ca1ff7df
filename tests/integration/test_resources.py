"""CPU and memory limits through the machine's real cgroups: a replica over its memory limit is
killed by the kernel, reported as an OOM kill and restarted while its neighbours go on; a busy
replica is held to its CPU quota; limits change in place without a restart."""
import json
import os
import subprocess
import sys
import time
import unittest

from gantry_support import GANTRY, Agent, wait_for, write_app


def have_cgroups():
    with open("/proc/self/cgroup") as f:
        text = f.read()
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers") and \
        {"cpu", "memory"} <= set(open("/sys/fs/cgroup/cgroup.controllers").read().split())
    v1 = os.path.exists("/sys/fs/cgroup/cpu/cgroup.procs") and \
        os.path.exists("/sys/fs/cgroup/memory/cgroup.procs")
    return (v1 or v2) and os.geteuid() == 0 and bool(text)


APP = f"""
services:
  hog:
    command: [{sys.executable}, -c, "import time; time.sleep(0.3); b = bytearray(300 * 1024 * 1024); time.sleep(60)"]
    resources: {{ memory: 32M }}
    restart: on-failure
  spin:
    command: [/bin/sh, -c, "while :; do :; done"]
    resources: {{ cpus: 0.2 }}
  calm:
    command: [/bin/sleep, "1000"]
"""


@unittest.skipUnless(have_cgroups(), "needs cgroups (v1 or v2) and root")
class Resources(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=1)
        cls.agent.wait_ready(timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    def row(self, id):
        return next(r for r in self.agent.ps() if r["id"] == id)

    def events(self):
        result = subprocess.run([GANTRY, "events", "-o", "json", "--api", self.agent.api],
                                capture_output=True, text=True, timeout=30)
        return [json.loads(line) for line in result.stdout.splitlines()]

    def test_memory_limit_kills_only_the_offender(self):
        calm_pid = self.row("calm-1")["pid"]
        spin_pid = self.row("spin-1")["pid"]
        wait_for(lambda: any(e["kind"] == "oom" and e["instance"] == "hog-1" for e in self.events()),
                 20, "an OOM kill of hog-1")
        oom = next(e for e in self.events() if e["kind"] == "oom")
        self.assertEqual(oom["message"], "killed by the kernel: out of memory (limit 32M)")
        wait_for(lambda: self.row("hog-1")["restarts"] >= 1, 20, "hog-1 restarted per its policy")
        self.assertEqual(self.row("calm-1")["pid"], calm_pid)
        self.assertEqual(self.row("spin-1")["pid"], spin_pid)
        self.assertEqual(self.row("calm-1")["restarts"], 0)

    def test_cpu_quota_caps_a_busy_replica_and_changes_in_place(self):
        first = self.row("spin-1")
        self.assertEqual(first["cpu_limit"], 0.2)
        started = time.monotonic()
        time.sleep(2)
        second = self.row("spin-1")
        rate = (second["cpu_seconds"] - first["cpu_seconds"]) / (time.monotonic() - started)
        self.assertLess(rate, 0.3, f"{rate:.2f} CPUs used under a 0.2 quota")
        self.assertGreater(rate, 0.1)
        result = subprocess.run([GANTRY, "scale", "spin", "--cpus", "0.6", "--api", self.agent.api],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        first = self.row("spin-1")
        started = time.monotonic()
        time.sleep(2)
        second = self.row("spin-1")
        rate = (second["cpu_seconds"] - first["cpu_seconds"]) / (time.monotonic() - started)
        self.assertGreater(rate, 0.4, f"{rate:.2f} CPUs used under a 0.6 quota")
        self.assertEqual(second["pid"], first["pid"])  # in place: no restart
        self.assertEqual(second["cpu_limit"], 0.6)

    def test_limits_for_a_replica_that_had_none_apply_in_place(self):
        pid = self.row("calm-1")["pid"]
        result = subprocess.run([GANTRY, "scale", "calm", "--memory", "64M", "--api",
                                 self.agent.api], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        row = self.row("calm-1")
        self.assertEqual((row["pid"], row["memory_limit_bytes"]), (pid, 64 * 1024 * 1024))


if __name__ == "__main__":
    unittest.main()
