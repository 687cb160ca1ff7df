"""What the engines' test helpers share (etcd_support.py, nats_support.py): a server process in
its own process group with its own folder, and one server per agent state folder."""
import atexit
import os
import shutil
import signal
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EngineProcess:
    """A server started in its own process group (self.proc) with its own folder."""
    proc = None
    folder = None

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
