"""A replica whose faults the test chooses, for the resilience tests.

Listens on 127.0.0.1:$PORT (HTTP/1.1, keep-alive). Every answer carries X-Instance (its
$GANTRY_INSTANCE) and, for GET /whoami, says it in the body too.
  /healthz         200, always
  /whoami          200 "<instance>"
  /sleep/<ms>      waits, then 200
  /status/<code>   that status
  /headers         the request's headers as JSON (names lowercased)
  /crash-on/<id>   instance <id> exits at once without answering (as kill -9 would); others 200
  anything else    200 "<METHOD> <path> <body>"
Faults by instance (comma-separated ids in the environment):
  SICK=ids   every request but /healthz is answered 503
  SLOW=ids   every request but /healthz waits 2 s first
  SICK_FILE=path   /healthz answers 503 while that file exists
"""
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INSTANCE = os.environ.get("GANTRY_INSTANCE", "?")
SICK = INSTANCE in os.environ.get("SICK", "").split(",")
SLOW = INSTANCE in os.environ.get("SLOW", "").split(",")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Instance", INSTANCE)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = self.path
        if path == "/healthz":
            sick_file = os.environ.get("SICK_FILE")
            if sick_file and os.path.exists(sick_file):
                return self.answer(503, "sick")
            return self.answer(200, "ok")
        if SLOW:
            time.sleep(2)
        if SICK:
            return self.answer(503, f"{INSTANCE} is sick")
        if path == "/whoami":
            return self.answer(200, INSTANCE)
        if path.startswith("/sleep/"):
            time.sleep(int(path.rsplit("/", 1)[1]) / 1000)
            return self.answer(200, f"{INSTANCE} slept")
        if path.startswith("/status/"):
            return self.answer(int(path.rsplit("/", 1)[1]), f"{INSTANCE} status")
        if path.startswith("/crash-on/"):
            if path.rsplit("/", 1)[1] == INSTANCE:
                os._exit(1)
            return self.answer(200, INSTANCE)
        if path == "/headers":
            return self.answer(200, json.dumps({k.lower(): v for k, v in self.headers.items()}))
        return self.answer(200, f"{self.command} {path} {body}")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


if __name__ == "__main__":
    Server(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
