"""What every bench/*/run script needs: the build's location, free ports, bounded waits and a
raised descriptor limit for the servers it starts."""
import os
import resource
import socket
import time

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
