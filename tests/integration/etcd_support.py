"""A real etcd member for integration tests (Debian's etcd-server), on free 127.0.0.1 ports with
its own data folder, and the store flag that points an agent at it.

With GANTRY_TEST_STORE=etcd in the environment, every Agent of gantry_support keeps its state in
such a member (one per state folder, so an agent started again on the same folder finds its
data): ctest runs the store's integration tests both ways.
"""
import base64
import json
import os
import shutil
import tempfile
import urllib.request

from engine_support import EngineProcess, free_port, server_for

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ON_ETCD = os.environ.get("GANTRY_TEST_STORE") == "etcd"
# etcd grants no lease under 2 s (its minimum follows its election timeout); gantry's own: 1 s.
SHORTEST_LEASE = 2 if ON_ETCD else 1


class Etcd(EngineProcess):
    """One etcd member; kill9() and start() again keep its ports and data."""

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.client_port}"

    @property
    def store_flag(self):
        return f"etcd://{self.endpoint}"

    def __init__(self, folder=None, name="test", cluster=None, ports=None):
        """`cluster`/`ports`: a member of EtcdCluster (its initial-cluster and its own ports)."""
        self.folder = folder or tempfile.mkdtemp(prefix="gantry-etcd-")
        self.name = name
        self.client_port, self.peer_port = ports or (free_port(), free_port())
        self.cluster = cluster
        self.proc = None
        if cluster is None:
            self.start()

    label = "etcd"

    def launch(self):
        client = f"http://{self.endpoint}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        self.spawn(
            [ETCD, "--name", self.name, "--data-dir", os.path.join(self.folder, "data"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", self.cluster or f"{self.name}={peer}",
             "--initial-cluster-state", "new"],
            os.path.join(self.folder, "etcd.log"))

    def serving(self):
        self.call("/v3/kv/range", {"key": _b64("health")})
        return True

    def call(self, path, body, timeout=5):
        """etcd's JSON gateway: the decoded answer."""
        request = urllib.request.Request(f"http://{self.endpoint}{path}",
                                         data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def keys(self, prefix):
        """Every key under `prefix`, as text."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        answer = self.call("/v3/kv/range", {"key": _b64(prefix), "range_end": _b64(end),
                                            "keys_only": True})
        return [base64.b64decode(kv["key"]).decode() for kv in answer.get("kvs", [])]

class EtcdCluster:
    """Three etcd members on 127.0.0.1, each with its own ports and folder."""

    def __init__(self, size=3):
        self.folder = tempfile.mkdtemp(prefix="gantry-etcd-cluster-")
        ports = [(free_port(), free_port()) for _ in range(size)]
        cluster = ",".join(f"m{i}=http://127.0.0.1:{peer}" for i, (_, peer) in enumerate(ports))
        self.members = []
        for i, member_ports in enumerate(ports):
            folder = os.path.join(self.folder, f"m{i}")
            os.makedirs(folder)
            self.members.append(Etcd(folder, f"m{i}", cluster, member_ports))
        for member in self.members:
            member.launch()
        for member in self.members:
            member.wait_serving(30)

    @property
    def store_flag(self):
        return "etcd://" + ",".join(m.endpoint for m in self.members)

    def leader(self):
        """The member that leads now (asked of a live one)."""
        for member in self.members:
            if member.proc.poll() is not None:
                continue
            try:
                status = member.call("/v3/maintenance/status", {})
            except OSError:
                continue
            leader = status.get("leader")
            for candidate in self.members:
                if candidate.proc.poll() is None:
                    answer = candidate.call("/v3/maintenance/status", {})
                    if answer["header"]["member_id"] == leader:
                        return candidate
        raise AssertionError("no member knows a leader")

    def close(self):
        for member in self.members:
            member.kill9()
        shutil.rmtree(self.folder, ignore_errors=True)


def _b64(text):
    return base64.b64encode(text.encode()).decode()


_MEMBERS = {}  # state folder -> its Etcd, when GANTRY_TEST_STORE=etcd


def store_args(state_dir):
    """The --store flag for an agent on `state_dir` (none: the embedded store)."""
    if not ON_ETCD:
        return []
    return ["--store", server_for(_MEMBERS, state_dir, Etcd).store_flag]
