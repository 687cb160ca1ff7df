"""What every bench/*/run script needs: the build's location, free ports, bounded waits, a
raised descriptor limit for the servers it starts, and starting gantry and etcd pinned to CPU 0."""
import json
import os
import resource
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "release")
FILES = 65536


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    """Polls `predicate` (exceptions count as not yet); raises after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - not up yet, whatever the client says
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def raise_files():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = FILES if hard == resource.RLIM_INFINITY else min(FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def start_gantry(workdir, app_text, name="gantry", extra_args=()):
    """`gantry up` of `app_text` on CPU 0 with one worker; returns (process, API host:port)."""
    app = os.path.join(workdir, f"{name}.yaml")
    with open(app, "w") as f:
        f.write(app_text)
    state = os.path.join(workdir, f"{name}-state")
    proc = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(BUILD, "gantry"), "up", "-f", app, "--workers", "1",
         "--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0", "--mesh", "127.0.0.1:0",
         "--state-dir", state, *extra_args],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, f"{name}.log"), "w"))
    agent_file = os.path.join(state, "agent.json")
    wait_for(lambda: os.path.exists(agent_file) and json.load(open(agent_file)).get("api"), 30,
             "gantry")
    return proc, json.load(open(agent_file))["api"].removeprefix("http://")


def start_etcd(workdir):
    """Debian's etcd (fsync on) on CPU 0; returns (process, client host:port)."""
    client, peer = free_port(), free_port()
    proc = subprocess.Popen(
        ["taskset", "-c", "0", "etcd", "--name", "bench", "--data-dir", os.path.join(workdir, "etcd"),
         "--listen-client-urls", f"http://127.0.0.1:{client}",
         "--advertise-client-urls", f"http://127.0.0.1:{client}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"bench=http://127.0.0.1:{peer}", "--log-level", "error",
         "--logger", "zap"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "etcd.log"), "w"))
    address = f"127.0.0.1:{client}"
    wait_for(lambda: b"true" in urllib.request.urlopen(f"http://{address}/health", timeout=1).read(),
             30, "etcd")
    return proc, address
