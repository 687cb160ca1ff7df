"""examples/hello: greeter. GET /greet calls the hello service through the mesh.

`requests` honours HTTP_PROXY, which gantry points at its mesh listener, so the plain
URL http://hello/ reaches a healthy hello replica.
"""
import os

import requests
from flask import Flask

app = Flask(__name__)


@app.get("/greet")
def greet():
    answer = requests.get("http://hello/", timeout=5)
    return f"greeter ({os.environ['GANTRY_INSTANCE']}) got: {answer.text}", answer.status_code


@app.get("/healthz")
def healthz():
    return "ok\n"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
