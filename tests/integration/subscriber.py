"""A subscribing replica for the delivery tests: every POST is appended as a JSON line
({instance, path, headers, body}) to $RECORD_FILE and answered 200, unless the body starts with
"fail" (500, every time, with the body "cannot take: <body>") or "once-fail" (500 on its first
attempt only). GET /healthz answers 200. Listens on 127.0.0.1:$PORT."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORD = os.environ["RECORD_FILE"]
INSTANCE = os.environ.get("GANTRY_INSTANCE", "?")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(200 if self.path == "/healthz" else 404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        line = json.dumps({"instance": INSTANCE, "path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": body.decode("utf-8", "replace")})
        with open(RECORD, "a") as f:
            f.write(line + "\n")
        first_try = self.headers.get("X-Gantry-Attempt") == "1"
        failing = body.startswith(b"fail") or (body.startswith(b"once-fail") and first_try)
        self.reply(500, b"cannot take: " + body) if failing else self.reply(200)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
