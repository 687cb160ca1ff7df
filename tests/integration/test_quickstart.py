"""The quick start as a fresh clone meets it: `make run` builds everything examples/hello runs
(it once built gantry and hello but not inventory, so greeter never started and /greet
answered 503 unless an earlier debug build had left an inventory behind)."""
import os
import re
import subprocess
import unittest

from gantry_support import EXAMPLES

ROOT = os.path.dirname(EXAMPLES)
BUILD = os.environ["GANTRY_BUILD_DIR"]


class QuickStart(unittest.TestCase):
    def test_make_run_builds_every_binary_the_example_runs(self):
        with open(os.path.join(EXAMPLES, "hello", "gantry.yaml")) as f:
            wanted = set(re.findall(r"command: \[\./bin/([\w-]+)\]", f.read()))
        self.assertEqual(wanted, {"hello", "inventory"})
        with open(os.path.join(ROOT, "Makefile")) as f:
            makefile = f.read()
        release = re.search(r"^release:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
        self.assertIn("--target gantry example_hello", release)
        query = subprocess.run(["ninja", "-C", BUILD, "-t", "query",
                                "examples/hello/example_hello"],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(query.returncode, 0, query.stderr)
        inputs = {line.strip().rsplit("/", 1)[-1] for line in query.stdout.splitlines()
                  if line.startswith("    ")}
        self.assertTrue(wanted <= inputs, (wanted, query.stdout))
        run = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
        for binary in wanted:  # make run links each into examples/hello/bin
            self.assertIn(binary, run)


if __name__ == "__main__":
    unittest.main()
