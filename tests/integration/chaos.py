"""The chaos run: an app under keep-alive and Connection: close HTTP/1.1, HTTP/2 and gRPC load,
with KV puts, publishes and lock acquisitions, while a seeded random sequence of operations is applied to it:
scale, restart, apply (a changed env value), kill -9 of a replica, kill -9 of the detached
agent followed by `up -d` (its replicas adopted). A crash-looping service runs beside the
others. After every step: the agent is alive, no request failed, every acknowledged KV put and
publish is there. At the end: the app converges to the asked counts, healthy, with `ps`, the
registry and every proxy worker's snapshot agreeing, and after `down` no process of the app is
left.

Run by test_chaos.py (about a minute, in `make test`) and by scripts/chaos (longer). The seed is
printed first; CHAOS_SEED=<seed> replays the same sequence of operations (timings differ).

Requests whose failure no proxy could hide are not made: a replica is killed only while its
service has another healthy one, and the load and the writes pause (and their connections are
dropped) while the agent itself is killed and started again.
"""
import base64
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import h2.config
import h2.connection
import h2.events

from etcd_support import store_args
from gantry_support import GANTRY, HELLO, INVENTORY, free_port, pid_alive, wait_for
from nats_support import broker_args

APP = """name: chaos
services:
  web:
    command: [{hello}]
    replicas: 3
    env: {{ VERSION: "{version}" }}
    health: {{ http: /healthz, interval: 200ms }}
    update: {{ max_surge: 1, max_unavailable: 0 }}
    stop_grace: 5s
  stock:
    command: [{inventory}]
    protocol: grpc
    replicas: 2
    health: {{ grpc: true, interval: 200ms }}
    stop_grace: 5s
    # Stock lookups are safe to repeat: a call cut off by a dying replica is tried elsewhere.
    policy: {{ retries: {{ attempts: 2, on: [connect-failure, reset, unavailable],
                           non_idempotent: true }} }}
  crashy:
    command: [/bin/false]
    replicas: 2
    restart: always
gateway:
  routes:
    - {{ path: /shop.Inventory, service: stock }}
    - {{ path: /, service: web }}
"""

# Counts each service may be scaled to (web and stock always keep one replica).
SCALE = {"web": (1, 5), "stock": (1, 3)}


def log(message):
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Gate:
    """Lets the load through while open; close() waits until no request is in flight. Each
    opening is a new generation: clients drop connections made in an earlier one."""

    def __init__(self):
        self.cond = threading.Condition()
        self.open = True
        self.busy = 0
        self.generation = 0

    def enter(self, stop):
        with self.cond:
            while not self.open and not stop.is_set():
                self.cond.wait(0.1)
            self.busy += 1
            return self.generation

    def leave(self):
        with self.cond:
            self.busy -= 1
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.open = False
            while self.busy:
                self.cond.wait()

    def reopen(self):
        with self.cond:
            self.open = True
            self.generation += 1
            self.cond.notify_all()


class Run:
    def __init__(self, seed, seconds, workers=2):
        self.seed = seed
        self.seconds = seconds
        self.rng = random.Random(seed)
        self.folder = tempfile.mkdtemp(prefix="gantry-chaos-")
        self.app = os.path.join(self.folder, "gantry.yaml")
        self.state = os.path.join(self.folder, ".gantry")
        self.version = 0
        self.counts = {"web": 3, "stock": 2, "crashy": 2}
        self.ports = {"api": free_port(), "gateway": free_port(), "mesh": free_port()}
        self.api = f"127.0.0.1:{self.ports['api']}"
        self.gateway = f"127.0.0.1:{self.ports['gateway']}"
        self.workers = workers
        self.stop = threading.Event()
        self.gate = Gate()
        self.lock = threading.Lock()
        self.failures = []      # (step, client, detail)
        self.ok = {}            # client -> answers
        self.kv_acked = {}      # key -> value
        self.published = {}     # offset -> payload
        self.step = "start"
        self.seen_pids = set()
        self.threads = []
        self.key_space = None  # KV keys the writer cycles through; None: a new key every put
        self.write_limit = 8000
        self.write_app()

    # --- the app and the agent ---

    def write_app(self):
        with open(self.app, "w") as f:
            f.write(APP.format(hello=HELLO, inventory=INVENTORY, version=self.version))

    def gantry(self, *args, timeout=120):
        return subprocess.run([GANTRY, *args, "--api", self.api], capture_output=True, text=True,
                              timeout=timeout)

    def up(self):
        # --no-wait: the crash-looping service is never ready; convergence is checked instead.
        result = subprocess.run(
            [GANTRY, "up", "-d", "--no-wait", "-f", self.app, "--state-dir", self.state, "--workers",
             str(self.workers), "--api", self.api, "--gateway", self.gateway, "--mesh",
             f"127.0.0.1:{self.ports['mesh']}", *store_args(self.state), *broker_args(self.state)],
            capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"gantry up -d failed: {result.stderr}{self.agent_log()}")
        self.agent_pid = self.agent_file()["pid"]

    def agent_file(self):
        with open(os.path.join(self.state, "agent.json")) as f:
            return json.load(f)

    def agent_log(self, tail=4000):
        try:
            with open(os.path.join(self.state, "agent.log"), errors="replace") as f:
                return "\n--- agent.log ---\n" + f.read()[-tail:]
        except OSError:
            return ""

    def agent_alive(self):
        """Until every thread of it has exited: the main one turns zombie first, while another
        may still be closing the process's files (the store's lock among them)."""
        try:
            threads = os.listdir(f"/proc/{self.agent_pid}/task")
        except OSError:
            return False
        for thread in threads:
            try:
                with open(f"/proc/{self.agent_pid}/task/{thread}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                        return True
            except OSError:
                continue  # gone meanwhile
        return False

    def ps(self):
        result = self.gantry("ps", "-o", "json", timeout=30)
        if result.returncode != 0:
            raise AssertionError(f"gantry ps failed: {result.stderr}")
        rows = json.loads(result.stdout)
        self.seen_pids.update(r["pid"] for r in rows if r["pid"])
        return rows

    def api_json(self, path):
        host, port = self.api.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise AssertionError(f"GET {path}: {response.status} {body[:300]!r}")
            return json.loads(body)
        finally:
            conn.close()

    def healthy(self, service):
        return [r for r in self.ps() if r["service"] == service and r["pid"]
                and r["state"] == "running" and r["health"] == "healthy"]

    def converged(self):
        """The asked counts, every replica running and healthy, and ps, the registry and every
        worker's snapshot naming the same replicas."""
        rows = self.ps()
        stats = self.api_json("/api/v1/proxy/stats")
        if set(stats["workers_acknowledged"]) != {stats["version"]}:
            return False
        for service in ("web", "stock"):
            mine = sorted(r["id"] for r in rows if r["service"] == service)
            healthy = sorted(r["id"] for r in rows if r["service"] == service and r["pid"]
                             and r["state"] == "running" and r["health"] == "healthy")
            if len(mine) != self.counts[service] or healthy != mine:
                return False
            registry = sorted(i["id"] for i in self.api_json(
                f"/api/v1/services/{service}/instances?healthy=true"))
            if registry != mine or sorted(stats["services"][service]["instances"]) != mine:
                return False
        return len([r for r in rows if r["service"] == "crashy"]) == self.counts["crashy"]

    def wait_converged(self, timeout=60):
        wait_for(self.converged, timeout,
                 f"convergence to {self.counts} after {self.step}\n{self.describe()}")

    def describe(self):
        try:
            rows = self.ps()
            return "\n".join(f"{r['id']} pid={r['pid']} {r['state']} {r['health']}" for r in rows)
        except Exception as e:  # noqa: BLE001 (a description for a failure message)
            return repr(e)

    # --- load ---

    def count(self, client, ok, detail=None):
        with self.lock:
            if ok:
                self.ok[client] = self.ok.get(client, 0) + 1
            else:
                self.failures.append((self.step, client, detail))

    def client_loop(self, name, make, call, limit):
        """Calls `call(connection)` up to `limit` times while the run goes on; a connection is
        made again after an error or a new gate generation."""
        connection, generation = None, -1
        for _ in range(limit):
            if self.stop.is_set():
                break
            current = self.gate.enter(self.stop)
            try:
                if self.stop.is_set():
                    break
                if connection is None or generation != current:
                    if connection is not None:
                        connection.close()
                    connection, generation = make(), current
                try:
                    detail = call(connection)
                except Exception as e:  # noqa: BLE001 (every failure is counted)
                    detail = repr(e)
                    connection.close()
                    connection = None
                self.count(name, detail is None, detail)
            finally:
                self.gate.leave()
        if connection is not None:
            connection.close()

    def http1(self, keep_alive):
        host, port = self.gateway.split(":")

        def make():
            return http.client.HTTPConnection(host, int(port), timeout=15)

        def call(conn):
            headers = {} if keep_alive else {"Connection": "close"}
            conn.request("GET", "/", headers=headers)
            response = conn.getresponse()
            body = response.read()
            if not keep_alive:
                conn.close()
            if response.status != 200 or not body.startswith(b"hello from web-"):
                return (response.status, body[:200])
            return None
        return make, call

    def http2(self):
        host, port = self.gateway.split(":")

        class H2:
            def __init__(self):
                self.sock = socket.create_connection((host, int(port)), timeout=15)
                self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
                self.conn.initiate_connection()
                self.sock.sendall(self.conn.data_to_send())

            def close(self):
                self.sock.close()

            def get(self):
                stream = self.conn.get_next_available_stream_id()
                self.conn.send_headers(stream, [(":method", "GET"), (":path", "/"),
                                                (":scheme", "http"), (":authority", "web")],
                                       end_stream=True)
                self.sock.sendall(self.conn.data_to_send())
                status, body = None, b""
                while True:
                    data = self.sock.recv(65536)
                    if not data:
                        return ("closed", body[:200])
                    for event in self.conn.receive_data(data):
                        if isinstance(event, h2.events.ResponseReceived):
                            status = dict(event.headers).get(b":status")
                        elif isinstance(event, h2.events.DataReceived):
                            body += event.data
                            self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                                event.stream_id)
                        elif isinstance(event, h2.events.StreamReset):
                            return ("reset", event.error_code)
                        elif isinstance(event, h2.events.ConnectionTerminated):
                            return ("goaway", event.error_code)
                        elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                            self.sock.sendall(self.conn.data_to_send())
                            if status != b"200" or not body.startswith(b"hello from web-"):
                                return (status, body[:200])
                            return None
                    self.sock.sendall(self.conn.data_to_send())

        return H2, lambda conn: conn.get()

    def grpc_client(self):
        class Channel:
            def __init__(self, target):
                self.channel = grpc.insecure_channel(target)
                # shop.Item{sku = "abc"}: field 1, length-delimited.
                self.get = self.channel.unary_unary("/shop.Inventory/Get")

            def close(self):
                self.channel.close()

        def call(channel):
            answer = channel.get(b"\x0a\x03abc", timeout=15)
            return None if b"stock-" in answer else ("unexpected answer", answer[:100])
        return lambda: Channel(self.gateway), call

    def writer(self, limit):
        host, port = self.api.split(":")

        class Api:
            def __init__(self):
                self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

            def close(self):
                self.conn.close()

        n = [0]

        def call(api):
            n[0] += 1
            # A bounded key space for long runs (soak): each key's last acknowledged value counts.
            slot = n[0] if self.key_space is None else n[0] % self.key_space
            key, value = f"chaos/k{slot:06d}", f"v{n[0]}-{self.seed}"
            if n[0] % 2:
                api.conn.request("PUT", f"/api/v1/kv/{key}", body=value)
                response = api.conn.getresponse()
                body = response.read()
                if response.status != 200:
                    return ("kv put", response.status, body[:200])
                with self.lock:
                    self.kv_acked[key] = value
            else:
                api.conn.request("POST", "/api/v1/topics/chaos", body=value)
                response = api.conn.getresponse()
                body = response.read()
                if response.status != 200:
                    return ("publish", response.status, body[:200])
                with self.lock:
                    self.published[json.loads(body)["offset"]] = value
            return None
        self.client_loop("writer", Api, call, limit)

    def locker(self, limit):
        """Takes and gives back one lock over and over: tokens must only grow."""
        host, port = self.api.split(":")
        last = [0]

        class Api:
            def __init__(self):
                self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

            def close(self):
                self.conn.close()

        def call(api):
            api.conn.request("POST", "/api/v1/locks/chaos", body='{"ttl": "10s", "wait": "10s"}')
            response = api.conn.getresponse()
            body = response.read()
            if response.status != 200:
                return ("lock", response.status, body[:200])
            token = json.loads(body)["token"]
            if token <= last[0]:
                return ("lock token went back", last[0], token)
            last[0] = token
            api.conn.request("DELETE", f"/api/v1/locks/chaos?token={token}")
            response = api.conn.getresponse()
            body = response.read()
            return None if response.status == 200 else ("unlock", response.status, body[:200])
        self.client_loop("locker", Api, call, limit)

    def start_load(self, scale=1):
        """`scale`: every client's count bound times this (a soak of N minutes: N), so that a
        long run keeps its load to the end."""
        clients = [("h1-keepalive-1", self.http1(True), 200000 * scale),
                   ("h1-keepalive-2", self.http1(True), 200000 * scale),
                   ("h1-close", self.http1(False), 100000 * scale),
                   ("h2", self.http2(), 200000 * scale),
                   ("grpc", self.grpc_client(), 200000 * scale)]
        for name, (make, call), limit in clients:
            t = threading.Thread(target=self.client_loop, args=(name, make, call, limit),
                                 daemon=True)
            t.start()
            self.threads.append(t)
        for target, limit in ((self.writer, self.write_limit), (self.locker, 100000 * scale)):
            t = threading.Thread(target=target, args=(limit,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop_load(self):
        self.stop.set()
        self.gate.reopen()
        for t in self.threads:
            t.join(timeout=60)

    # --- checks ---

    def check(self):
        if not self.agent_alive():
            raise AssertionError(f"the agent died during {self.step}{self.agent_log()}")
        with self.lock:
            failures = list(self.failures)
            kv = dict(self.kv_acked)
            published = dict(self.published)
        if failures:
            raise AssertionError(f"{len(failures)} failed requests, the first: {failures[:5]}")
        listed = {e["key"]: base64.b64decode(e["value"]).decode()
                  for e in self.api_json("/api/v1/kv/chaos/?prefix=true")}
        lost = [k for k, v in kv.items() if listed.get(k) != v]
        if lost:
            raise AssertionError(f"{len(lost)} acknowledged puts lost, the first: {lost[:5]}")
        if published:
            topic = self.api_json(f"/api/v1/topics/chaos?from=0&limit=10000")
            stored = {m["offset"]: base64.b64decode(m["payload"]).decode()
                      for m in topic["messages"]}
            gone = [o for o, v in published.items() if stored.get(o) != v]
            if gone:
                raise AssertionError(f"{len(gone)} acknowledged publishes lost: {gone[:5]}")

    # --- operations ---

    def op_scale(self):
        service = self.rng.choice(sorted(SCALE))
        low, high = SCALE[service]
        self.counts[service] = self.rng.randint(low, high)
        self.step = f"scale {service}={self.counts[service]}"
        log(self.step)
        result = self.gantry("scale", f"{service}={self.counts[service]}")
        if result.returncode != 0:
            raise AssertionError(f"{self.step}: {result.stderr}")
        self.wait_converged()

    def op_restart(self):
        service = self.rng.choice(sorted(SCALE))
        self.step = f"restart {service}"
        log(self.step)
        result = self.gantry("restart", service, timeout=180)
        if result.returncode != 0:
            raise AssertionError(f"{self.step}: {result.stderr}")
        self.wait_converged()

    def op_apply(self):
        self.version += 1
        self.step = f"apply VERSION={self.version}"
        log(self.step)
        # The app file keeps its own counts; the running ones are what scale last said.
        self.write_app()
        result = subprocess.run([GANTRY, "apply", "-f", self.app, "--api", self.api],
                                capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise AssertionError(f"{self.step}: {result.stderr}")
        self.counts.update(web=3, stock=2)  # apply brings the app file's counts back
        self.wait_converged()

    def op_kill_replica(self):
        service = self.rng.choice(sorted(SCALE))
        healthy = self.healthy(service)
        if len(healthy) < 2:  # the last healthy one: every proxy would fail its requests
            return self.op_scale()
        victim = self.rng.choice(sorted(healthy, key=lambda r: r["id"]))
        self.step = f"kill -9 {victim['id']} (pid {victim['pid']})"
        log(self.step)
        os.kill(victim["pid"], signal.SIGKILL)
        wait_for(lambda: any(r["id"] == victim["id"] and r["pid"] not in (0, victim["pid"])
                             for r in self.ps()) or victim["id"] not in
                 {r["id"] for r in self.ps()}, 30, f"{victim['id']} replaced")
        self.wait_converged()

    def op_kill_agent(self):
        self.step = f"kill -9 agent (pid {self.agent_pid}), then up -d"
        log(self.step)
        before = {r["id"]: r["pid"] for r in self.ps() if r["pid"]}
        self.gate.close()  # nothing in flight: an agent's death fails what it carries
        try:
            os.kill(self.agent_pid, signal.SIGKILL)
            wait_for(lambda: not self.agent_alive(), 10, "the agent to die")
            self.up()
            # The app file's counts, as `up` always starts from (scaled-away replicas stop).
            self.counts.update(web=3, stock=2)
            self.wait_converged()
            adopted = {r["id"]: r["pid"] for r in self.ps() if r["pid"]}
            kept = [i for i, pid in before.items() if adopted.get(i) == pid]
            wanted = {f"web-{n}" for n in range(1, 4)} | {f"stock-{n}" for n in range(1, 3)}
            web_stock = [i for i in before if i in wanted]
            if not set(web_stock) <= set(kept):
                raise AssertionError(f"replicas restarted instead of adopted: "
                                     f"{sorted(set(web_stock) - set(kept))}")
        finally:
            self.gate.reopen()

    OPERATIONS = (("scale", 3), ("restart", 2), ("apply", 2), ("kill_replica", 3),
                  ("kill_agent", 1))

    # --- the run ---

    def run(self):
        log(f"seed {self.seed} ({self.seconds}s; replay with CHAOS_SEED={self.seed}); "
            f"app in {self.folder}")
        self.up()
        steps = 0
        try:
            self.wait_converged(timeout=90)
            self.start_load()
            wait_for(lambda: sum(self.ok.values()) > 100, 60, "the load to get going")
            started = time.monotonic()
            names = [name for name, weight in self.OPERATIONS for _ in range(weight)]
            while time.monotonic() - started < self.seconds:
                getattr(self, "op_" + self.rng.choice(names))()
                steps += 1
                self.check()
            self.step = "the end"
            self.wait_converged()
            self.check()
            log(f"{steps} steps; answers: {dict(sorted(self.ok.items()))}; "
                f"{len(self.kv_acked)} puts and {len(self.published)} publishes checked")
        finally:
            self.stop_load()
            self.down()
        self.check_no_orphans()
        return steps

    def down(self):
        if not self.agent_alive():
            return
        result = subprocess.run([GANTRY, "down", "--state-dir", self.state], capture_output=True,
                                text=True, timeout=180)
        if result.returncode != 0:
            os.kill(self.agent_pid, signal.SIGKILL)
            raise AssertionError(f"gantry down failed: {result.stderr}{self.agent_log()}")
        wait_for(lambda: not self.agent_alive(), 30, "the agent to exit")

    def check_no_orphans(self):
        def left():
            alive = [pid for pid in self.seen_pids if pid_alive(pid)]
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        if os.readlink(f"/proc/{entry}/cwd") == self.folder:
                            alive.append(int(entry))
                    except OSError:
                        pass
            return sorted(set(alive))
        wait_for(lambda: not left(), 15, f"no process of the app left (pids {left()})")
        shutil.rmtree(self.folder, ignore_errors=True)


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    Run(seed, args.seconds).run()


if __name__ == "__main__":
    main(sys.argv[1:])
