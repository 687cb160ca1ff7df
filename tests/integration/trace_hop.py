"""A replica for the tracing tests: every request's headers go as a JSON line to $RECORD_FILE;
with $NEXT set it then calls http://$NEXT/ through the mesh ($HTTP_PROXY), passing on the
traceparent it got, as an instrumented service would. /fail answers 500. Listens on $PORT."""
import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORD = os.environ["RECORD_FILE"]
NEXT = os.environ.get("NEXT", "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200)
        with open(RECORD, "a") as f:
            f.write(json.dumps({"instance": os.environ.get("GANTRY_INSTANCE"), "path": self.path,
                                "headers": {k.lower(): v for k, v in self.headers.items()}}) + "\n")
        status = 500 if self.path == "/fail" else 200
        if NEXT:
            headers = {}
            if self.headers.get("traceparent"):
                headers["traceparent"] = self.headers["traceparent"]
            request = urllib.request.Request(f"http://{NEXT}{self.path}", headers=headers)
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except urllib.error.HTTPError as error:
                status = error.code
        self.reply(status)

    def reply(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
