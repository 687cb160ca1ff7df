"""`gantry validate` on bad app files: each names its expected error on its first line."""
import glob
import os
import subprocess
import unittest

from gantry_support import EXAMPLES, GANTRY

BAD_APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_apps")


class Validate(unittest.TestCase):
    def test_example_app_is_valid(self):
        result = subprocess.run([GANTRY, "validate", "-f", os.path.join(EXAMPLES, "hello", "gantry.yaml")],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual((result.returncode, result.stdout), (0, "ok\n"), result.stderr)

    def test_every_bad_file_names_file_line_and_column(self):
        files = sorted(glob.glob(os.path.join(BAD_APPS, "*.yaml")))
        self.assertGreaterEqual(len(files), 8)
        for path in files:
            with self.subTest(path=os.path.basename(path)):
                with open(path) as f:
                    expect = f.readline().removeprefix("# expect: ").strip()
                result = subprocess.run([GANTRY, "validate", "-f", path], capture_output=True, text=True,
                                        timeout=30)
                self.assertEqual(result.returncode, 1)
                self.assertEqual(result.stdout, "")
                self.assertIn(f"{path}:{expect}", result.stderr)

    def test_up_refuses_a_bad_file_and_starts_nothing(self):
        path = os.path.join(BAD_APPS, "unknown_key.yaml")
        result = subprocess.run([GANTRY, "up", "-f", path, "--api", "127.0.0.1:0"], capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{path}:5:5:", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(BAD_APPS, ".gantry")))

    def test_missing_file(self):
        result = subprocess.run([GANTRY, "validate", "-f", "/nonexistent.yaml"], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("/nonexistent.yaml: cannot read the app file", result.stderr)

    def test_unbuilt_verbs_say_not_supported_yet(self):
        result = subprocess.run([GANTRY, "agent"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("gantry agent: not supported yet", result.stderr)
        result = subprocess.run([GANTRY, "call", "web/"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("gantry call: not supported yet", result.stderr)

    def test_ps_reports_a_non_json_answer_in_one_line(self):
        import http.server
        import threading

        class NotJson(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "9")
                self.end_headers()
                self.wfile.write(b"not json!")

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), NotJson)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            result = subprocess.run([GANTRY, "ps", "--api", f"127.0.0.1:{server.server_port}"],
                                    capture_output=True, text=True, timeout=30)
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "gantry ps: the agent's answer is not a JSON list of replicas\n")

    def test_version(self):
        result = subprocess.run([GANTRY, "version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^gantry \d+\.\d+\.\d+ ")


if __name__ == "__main__":
    unittest.main()
