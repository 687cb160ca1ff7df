"""gantry logs: the tail of each replica's output, one replica or a whole service (prefixed),
and following new output."""
import os
import re
import subprocess
import time
import unittest

from gantry_support import GANTRY, Agent, http_request, wait_for, write_app

APP = """
services:
  talker:
    command: [/bin/sh, -c, 'i=0; while true; do echo "$GANTRY_INSTANCE line $i"; i=$((i+1)); sleep 0.05; done']
    replicas: 2
"""


class Logs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(APP), workers=1)
        cls.agent.wait_ready(timeout=30)
        wait_for(lambda: cls.logs("talker", "--tail", "0").stdout.count("\n") >= 20, 10,
                 "some output")

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()

    @classmethod
    def logs(cls, *args):
        return subprocess.run([GANTRY, "logs", *args, "--api", cls.agent.api], capture_output=True,
                              text=True, timeout=30)

    def test_a_service_gets_each_replicas_tail_prefixed(self):
        result = self.logs("talker", "--tail", "3")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 6, lines)
        for line in lines[:3]:
            self.assertRegex(line, r"^talker-1 \| talker-1 line \d+$")
        for line in lines[3:]:
            self.assertRegex(line, r"^talker-2 \| talker-2 line \d+$")
        numbers = [int(line.rsplit(" ", 1)[1]) for line in lines[:3]]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 3)))  # the last three, in order

    def test_one_replica_without_prefix(self):
        result = self.logs("talker/talker-2", "--tail", "2")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 2)
        for line in lines:
            self.assertRegex(line, r"^talker-2 line \d+$")

    def test_follow_prints_new_lines_as_they_come(self):
        proc = subprocess.Popen([GANTRY, "logs", "-f", "--tail", "1", "talker-1", "--api",
                                 self.agent.api], stdout=subprocess.PIPE, text=True)
        try:
            numbers = []
            deadline = time.monotonic() + 10
            while len(numbers) < 10 and time.monotonic() < deadline:
                line = proc.stdout.readline()
                match = re.match(r"^talker-1 line (\d+)$", line.strip())
                self.assertTrue(match, line)
                numbers.append(int(match.group(1)))
            self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 10)))
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()

    def test_unknown_replica_and_bad_parameters(self):
        result = self.logs("nope")
        self.assertEqual(result.returncode, 1)
        self.assertIn('no replica named "nope"', result.stderr)
        status, _, _ = http_request(self.agent.api, "GET", "/api/v1/logs/talker-1?tail=x")
        self.assertEqual(status, 400)
        status, headers, body = http_request(self.agent.api, "GET", "/api/v1/logs/talker-1?offset=0")
        self.assertEqual(status, 200)
        self.assertTrue(body.startswith("talker-1 line 0\n"), body[:40])
        self.assertGreaterEqual(int(headers["X-Gantry-Offset"]), len(body))


if __name__ == "__main__":
    unittest.main()
