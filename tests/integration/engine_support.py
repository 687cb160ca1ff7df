"""What the engines' test helpers share (etcd_support.py, nats_support.py): a server process in
its own process group with its own folder, and one server per agent state folder."""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EngineProcess:
    """A server started in its own process group (self.proc) with its own folder. A subclass
    gives launch() (which calls spawn) and serving() (true once it answers; OSError or
    ValueError count as not yet)."""
    proc = None
    folder = None
    label = "the server"
    log_path = None

    def spawn(self, args, log_path):
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def start(self, timeout=20):
        self.launch()
        self.wait_serving(timeout)

    def wait_serving(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.label} exited with {self.proc.returncode}: see "
                                     f"{self.log_path}")
            try:
                if self.serving():
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.label} did not serve within {timeout}s: see {self.log_path}")

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def close(self):
        self.kill9()
        shutil.rmtree(self.folder, ignore_errors=True)


def server_for(servers, state_dir, make):
    """The server of `state_dir` in `servers`, made (and closed at exit) on first use: an agent
    started again on the same folder finds its data."""
    server = servers.get(state_dir)
    if server is None:
        server = servers[state_dir] = make()
        atexit.register(server.close)
    return server
