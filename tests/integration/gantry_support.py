"""Helpers for integration tests: run the real gantry binary on free ports and talk to it.

Every address is 127.0.0.1 with port 0 (the agent picks and reports its ports through
agent.json); every wait has a deadline.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from etcd_support import store_args
from nats_support import broker_args

GANTRY = os.environ["GANTRY_BIN"]
HELLO = os.environ["GANTRY_HELLO_BIN"]
INVENTORY = os.environ.get("GANTRY_INVENTORY_BIN", "")
EXAMPLES = os.environ["GANTRY_EXAMPLES"]


def wait_for(predicate, timeout, what):
    """Polls predicate until it returns a truthy value; fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def http_request(address, method, path, headers=None, body=None, timeout=10):
    """One request on a fresh connection: (status, headers dict, body text)."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def free_port():
    """A port on 127.0.0.1 that was free a moment ago (for a server the test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def publish(api, topic, body, headers=None):
    """POST /api/v1/topics/{topic}: (status, the JSON answer)."""
    status, _, answer = http_request(api, "POST", f"/api/v1/topics/{topic}",
                                     headers=headers or {}, body=body)
    return status, json.loads(answer)


def raw_exchange(address, data, timeout=5):
    """Sends raw bytes and reads until the server closes: for malformed-request cases."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def group_members(pgid):
    """Pids of live (non-zombie) processes in process group `pgid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


class Agent:
    """`gantry up` in the background with its own state folder and free ports."""

    @classmethod
    def for_class(cls, test_class, app_file, prefix, workers=1):
        """Starts one for a TestCase's setUpClass, in a fresh state folder (test_class.state),
        closed when the class is done; waits until it is ready."""
        test_class.state = tempfile.mkdtemp(prefix=prefix)
        agent = cls(app_file, workers=workers, state_dir=test_class.state)
        test_class.addClassCleanup(lambda: test_class.agent.close())
        test_class.agent = agent
        agent.wait_ready(timeout=60)
        return agent

    def __init__(self, app_file, workers=2, state_dir=None, extra_args=(), descriptors=None):
        """`descriptors`: the agent's descriptor limit (soft and hard), when not the default."""
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="gantry-it-")
        self.lines = []
        self._lock = threading.Lock()

        def limit():
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))

        self.proc = subprocess.Popen(
            [GANTRY, "up", "-f", app_file, "--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0",
             "--mesh", "127.0.0.1:0", "--state-dir", self.state_dir, "--workers", str(workers),
             *store_args(self.state_dir), *broker_args(self.state_dir), *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            preexec_fn=limit if descriptors else None)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        info = wait_for(self._agent_file, 30, "agent.json\n" + self.output())
        self.api = info["api"].removeprefix("http://")
        self.gateway = info["gateway"].removeprefix("http://").removeprefix("https://")
        self.mesh = info["mesh"].removeprefix("http://")

    def _read(self):
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def _agent_file(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"gantry exited with {self.proc.returncode}:\n{self.output()}")
        try:
            with open(os.path.join(self.state_dir, "agent.json")) as f:
                info = json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return info if info.get("pid") == self.proc.pid else None  # not a killed one's

    def output(self):
        with self._lock:
            return "\n".join(self.lines)

    def wait_ready(self, timeout=30):
        try:
            wait_for(lambda: any(l.startswith("ready:") for l in list(self.lines)), timeout,
                     "all replicas healthy")
        except AssertionError as e:
            report = f"{e}\n{self.output()}\nreplicas: {self._ps_for_report()}"
            self.close()  # a test that fails here may never reach its own close
            raise AssertionError(report) from None

    def _ps_for_report(self):
        try:
            return json.dumps(self.ps())
        except (AssertionError, OSError, ValueError, subprocess.TimeoutExpired) as e:
            return f"(gantry ps failed: {e})"

    def ps(self):
        result = subprocess.run([GANTRY, "ps", "-o", "json", "--api", self.api],
                                capture_output=True, text=True, timeout=15)
        if result.returncode != 0:
            raise AssertionError(f"gantry ps failed: {result.stderr}")
        return json.loads(result.stdout)

    def stop(self, sig=signal.SIGINT, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._reader.join(timeout=5)
            self.proc.stdout.close()

    def kill9(self):
        """SIGKILL of the agent alone (its replicas follow through PDEATHSIG)."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        self.proc.stdout.close()

    def close(self):
        if self.proc.poll() is None:
            self.stop()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if not self.proc.stdout.closed:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def up_failing_to_start(*flags):
    """`gantry up` of a plain app with `flags` that should not start (a bad or missing engine):
    the finished process, output captured."""
    return subprocess.run([GANTRY, "up", "-f", write_app(PLAIN_APP), "--api", "127.0.0.1:0",
                           "--gateway", "127.0.0.1:0", "--mesh", "127.0.0.1:0", *flags],
                          capture_output=True, text=True, timeout=60)


def copy_example(name):
    """Copies examples/<name> into a new folder, with bin/ linked to this build's binaries,
    so the example's own app file runs against the build under test."""
    folder = os.path.join(tempfile.mkdtemp(prefix="gantry-example-"), name)
    shutil.copytree(os.path.join(EXAMPLES, name), folder, ignore=shutil.ignore_patterns("bin", ".gantry"))
    os.makedirs(os.path.join(folder, "bin"))
    os.symlink(HELLO, os.path.join(folder, "bin", "hello"))
    os.symlink(INVENTORY, os.path.join(folder, "bin", "inventory"))
    return os.path.join(folder, "gantry.yaml")


# An app with one plain HTTP replica (flaky_upstream.py): for tests of the agent's own APIs.
_FLAKY_UPSTREAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flaky_upstream.py")
PLAIN_APP = f"""
services:
  plain:
    command: [{sys.executable}, {_FLAKY_UPSTREAM}]
    health: {{ http: /healthz, interval: 200ms }}
"""


def write_app(text):
    """Writes an app file into a new folder; returns its path."""
    folder = tempfile.mkdtemp(prefix="gantry-app-")
    path = os.path.join(folder, "gantry.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


class Load:
    """Keep-alive GETs of the hello example from `clients` threads until finish() (each thread
    bounded by `max_requests` too); counts the answers that are not hello's, and errors."""

    def __init__(self, address, clients=6, max_requests=50000):
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.max_requests = max_requests
        self.stop = threading.Event()
        self.ok = 0
        self.failures = []
        self.seen = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.client) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def client(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        for _ in range(self.max_requests):
            if self.stop.is_set():
                break
            try:
                conn.request("GET", "/")
                response = conn.getresponse()
                body = response.read().decode()
                ok = response.status == 200 and body.startswith("hello from ")
                detail = (response.status, body[:200])
            except (OSError, http.client.HTTPException) as e:
                ok, detail = False, repr(e)
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            with self.lock:
                if ok:
                    self.ok += 1
                    self.seen.add(body.strip().removeprefix("hello from "))
                else:
                    self.failures.append(detail)
        conn.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
