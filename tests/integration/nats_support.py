"""A real NATS server with JetStream for integration tests (Debian's nats-server), on free
127.0.0.1 ports with its own store folder, and the broker flag that points an agent at it.

With GANTRY_TEST_BROKER=nats in the environment, every Agent of gantry_support keeps its topics
in such a server (one per state folder, so an agent started again on the same folder finds its
messages): ctest runs the broker's integration tests both ways.
"""
import json
import os
import shutil
import tempfile
import urllib.request

from engine_support import EngineProcess, free_port, server_for

NATS_SERVER = shutil.which("nats-server") or "/usr/bin/nats-server"
ON_NATS = os.environ.get("GANTRY_TEST_BROKER") == "nats"


class Nats(EngineProcess):
    """One nats-server with JetStream; kill9() and start() again keep its ports and store.
    `cluster`: (name, [route ports of every member]) for a member of NatsCluster."""

    def __init__(self, folder=None, name="n0", cluster=None, ports=None):
        self.folder = folder or tempfile.mkdtemp(prefix="gantry-nats-")
        self.name = name
        self.client_port, self.monitor_port, self.route_port = ports or (
            free_port(), free_port(), free_port())
        self.cluster = cluster
        self.proc = None
        if cluster is None:
            self.start()

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.client_port}"

    @property
    def broker_flag(self):
        return f"nats://{self.endpoint}"

    label = "nats-server"

    def launch(self):
        args = [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.client_port),
                "-m", str(self.monitor_port), "-sd", os.path.join(self.folder, "jetstream"),
                "-n", self.name]
        if self.cluster:
            name, route_ports = self.cluster
            routes = ",".join(f"nats://127.0.0.1:{p}" for p in route_ports if p != self.route_port)
            args += ["--cluster_name", name, "--cluster", f"nats://127.0.0.1:{self.route_port}",
                     "--routes", routes]
        self.spawn(args, os.path.join(self.folder, f"{self.name}.log"))

    def serving(self):
        """JetStream is on (in a cluster: once it has a meta leader)."""
        info = self.monitor("/jsz")
        return not self.cluster or bool(info.get("meta_cluster", {}).get("leader"))

    def monitor(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}{path}",
                                    timeout=5) as response:
            return json.loads(response.read())

class NatsCluster:
    """Three JetStream servers on 127.0.0.1 routed to each other."""

    def __init__(self, size=3):
        self.folder = tempfile.mkdtemp(prefix="gantry-nats-cluster-")
        ports = [(free_port(), free_port(), free_port()) for _ in range(size)]
        route_ports = [p[2] for p in ports]
        self.members = []
        for i, member_ports in enumerate(ports):
            folder = os.path.join(self.folder, f"n{i}")
            os.makedirs(folder)
            self.members.append(Nats(folder, f"n{i}", ("gantry-test", route_ports), member_ports))
        for member in self.members:
            member.launch()
        for member in self.members:
            member.wait_serving(60)

    @property
    def broker_flag(self):
        return "nats://" + ",".join(m.endpoint for m in self.members) + "?replicas=3"

    def close(self):
        for member in self.members:
            member.kill9()
        shutil.rmtree(self.folder, ignore_errors=True)


_SERVERS = {}  # state folder -> its Nats, when GANTRY_TEST_BROKER=nats


def broker_args(state_dir):
    """The --broker flag for an agent on `state_dir` (none: the embedded broker)."""
    if not ON_NATS:
        return []
    return ["--broker", server_for(_SERVERS, state_dir, Nats).broker_flag]
