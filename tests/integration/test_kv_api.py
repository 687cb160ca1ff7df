"""The KV and lease API of the real agent: shapes of PRODUCT.md, bad input, blocking reads,
long-polled watches and durability across kill -9 of the agent."""
import base64
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from etcd_support import ON_ETCD, SHORTEST_LEASE
from gantry_support import GANTRY, Agent, copy_example, http_request, wait_for

APP = None


def setUpModule():
    global APP
    APP = copy_example("hello")


def one_replica_app():
    with open(APP) as f:
        text = f.read()
    path = os.path.join(os.path.dirname(APP), "one.yaml")
    with open(path, "w") as f:
        f.write(text.replace("replicas: 3", "replicas: 1"))
    return path


class OneAgent(unittest.TestCase):
    """One agent, running a single hello replica, shared by a class's tests."""

    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(one_replica_app(), workers=1)

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()


class KvTest(OneAgent):

    def call(self, method, path, body=None, headers=None, timeout=10):
        return http_request(self.agent.api, method, path, headers=headers, body=body,
                            timeout=timeout)

    def put(self, key, value, query=""):
        status, _, body = self.call("PUT", f"/api/v1/kv/{key}{query}", body=value)
        self.assertEqual(status, 200, body)
        return json.loads(body)["revision"]

    def test_put_get_delete_round_trip(self):
        rev = self.put("rt/a", "hello")
        status, headers, body = self.call("GET", "/api/v1/kv/rt/a")
        self.assertEqual((status, body), (200, "hello"))
        self.assertEqual(headers["X-Gantry-Mod-Revision"], str(rev))
        self.assertGreaterEqual(int(headers["X-Gantry-Index"]), rev)
        rev2 = self.put("rt/a", "again")
        self.assertGreater(rev2, rev)
        status, _, body = self.call("DELETE", "/api/v1/kv/rt/a")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["deleted"], 1)
        status, _, body = self.call("GET", "/api/v1/kv/rt/a")
        self.assertEqual(status, 404)
        self.assertIn("error", json.loads(body))

    def test_prefix_list_is_base64_json_and_prefix_delete(self):
        binary = bytes(range(256))
        status, _, _ = self.call("PUT", "/api/v1/kv/list/bin", body=binary)
        self.assertEqual(status, 200)
        self.put("list/text", "t")
        self.put("listing-not-under", "x")
        status, _, body = self.call("GET", "/api/v1/kv/list/?prefix=true")
        self.assertEqual(status, 200)
        rows = json.loads(body)
        self.assertEqual([r["key"] for r in rows], ["list/bin", "list/text"])
        self.assertEqual(base64.b64decode(rows[0]["value"]), binary)
        for field in ("create_revision", "mod_revision", "lease"):
            self.assertIn(field, rows[0])
        status, _, body = self.call("DELETE", "/api/v1/kv/list/?prefix=true")
        self.assertEqual(json.loads(body)["deleted"], 2)
        status, _, _ = self.call("GET", "/api/v1/kv/listing-not-under")
        self.assertEqual(status, 200)

    def test_compare_and_set(self):
        rev = self.put("cas/k", "v1", "?cas=0")  # create only if absent
        status, _, body = self.call("PUT", "/api/v1/kv/cas/k?cas=0", body="v2")
        self.assertEqual(status, 409, body)
        status, _, body = self.call("PUT", f"/api/v1/kv/cas/k?cas={rev + 100}", body="v2")
        self.assertEqual(status, 409, body)
        self.put("cas/k", "v2", f"?cas={rev}")
        status, _, body = self.call("DELETE", f"/api/v1/kv/cas/k?cas={rev}")
        self.assertEqual(status, 409, body)  # it moved on
        self.assertEqual(self.call("GET", "/api/v1/kv/cas/k")[2], "v2")

    def test_leases_keep_keys_alive_then_expire_or_revoke_them(self):
        status, _, body = self.call("POST", "/api/v1/leases", body='{"ttl": "1s"}')
        self.assertEqual(status, 200, body)
        lease = json.loads(body)
        self.assertEqual(lease["ttl"], f"{SHORTEST_LEASE}s")  # what the store granted
        self.assertIsInstance(lease["id"], str)
        self.put("lease/k", "v", f"?lease={lease['id']}")
        status, headers, _ = self.call("GET", "/api/v1/kv/lease/k")
        self.assertEqual(headers["X-Gantry-Lease"], lease["id"])
        deadline = time.monotonic() + 2.5 * SHORTEST_LEASE
        while time.monotonic() < deadline:  # kept alive past its TTL
            status, _, body = self.call("PUT", f"/api/v1/leases/{lease['id']}/keepalive")
            self.assertEqual(status, 200, body)
            time.sleep(0.2)
        self.assertEqual(self.call("GET", "/api/v1/kv/lease/k")[0], 200)
        started = time.monotonic()
        wait_for(lambda: self.call("GET", "/api/v1/kv/lease/k")[0] == 404, 5, "lease expiry")
        self.assertLess(time.monotonic() - started, SHORTEST_LEASE + 1.5)
        status, _, _ = self.call("PUT", f"/api/v1/leases/{lease['id']}/keepalive")
        self.assertEqual(status, 404)

        status, _, body = self.call("POST", "/api/v1/leases", body='{"ttl": "60s"}')
        other = json.loads(body)["id"]
        self.put("lease/r", "v", f"?lease={other}")
        status, _, _ = self.call("DELETE", f"/api/v1/leases/{other}")
        self.assertEqual(status, 200)
        self.assertEqual(self.call("GET", "/api/v1/kv/lease/r")[0], 404)

    def test_bad_input_gets_a_4xx_with_a_json_reason(self):
        cases = [
            ("POST", "/api/v1/leases", "{not json", 400, "invalid_json"),
            ("POST", "/api/v1/leases", '{"ttl": "10s", "tll": 1}', 400, "unknown_field"),
            ("POST", "/api/v1/leases", '{"ttl": 10}', 400, "invalid_argument"),
            ("POST", "/api/v1/leases", '{"ttl": "100ms"}', 400, "invalid_argument"),
            ("POST", "/api/v1/leases", '{"ttl": "48h"}', 400, "invalid_argument"),
            ("GET", "/api/v1/leases", None, 405, "method_not_allowed"),
            ("PUT", "/api/v1/leases/99999/keepalive", None, 404, "not_found"),
            ("PUT", "/api/v1/kv/" + "k" * (8 * 1024 + 1), "v", 400, "invalid_argument"),
            ("PUT", "/api/v1/kv/big", "v" * (1024 * 1024 + 1), 413, "value_too_large"),
            ("POST", "/api/v1/kv/k", "v", 405, "method_not_allowed"),
            ("PUT", "/api/v1/kv/k?cas=abc", "v", 400, "invalid_argument"),
            ("PUT", "/api/v1/kv/k?lease=abc", "v", 400, "invalid_argument"),
            ("PUT", "/api/v1/kv/k?lease=99999", "v", 404, "not_found"),
            ("GET", "/api/v1/kv/", None, 400, "invalid_argument"),
            ("GET", "/api/v1/kv/k%zz", None, 400, "invalid_argument"),
            ("PUT", "/api/v1/kv/k%FF", "v", 400, "invalid_argument"),
            ("GET", "/api/v1/kv/k?index=1&wait=forever", None, 400, "invalid_argument"),
        ]
        for method, path, body, want_status, want_code in cases:
            with self.subTest(method=method, path=path[:40]):
                status, headers, text = self.call(method, path, body=body)
                self.assertEqual(status, want_status, text)
                self.assertEqual(json.loads(text)["code"], want_code, text)
        self.assertEqual(self.call("GET", "/api/v1/kv/k")[0], 404)  # nothing was written
        # The agent keeps serving.
        self.assertEqual(self.call("GET", "/api/v1/agent")[0], 200)

    def test_blocking_read_wakes_within_50ms_of_a_change(self):
        rev = self.put("block/k", "v1")
        results = {}

        def blocked():
            status, headers, body = self.call("GET", f"/api/v1/kv/block/k?index={rev}&wait=10s")
            results["at"] = time.monotonic()
            results["answer"] = (status, headers, body)

        thread = threading.Thread(target=blocked)
        thread.start()
        time.sleep(0.3)  # let it park (if it did not, it has answered already: checked below)
        self.assertNotIn("answer", results, "the blocking read did not block")
        self.put("block/other", "unrelated")  # outside the range: no wake
        time.sleep(0.2)
        self.assertNotIn("answer", results, "an unrelated key woke the blocking read")
        rev2 = self.put("block/k", "v2")
        put_done = time.monotonic()
        thread.join(timeout=10)
        status, headers, body = results["answer"]
        self.assertEqual((status, body), (200, "v2"))
        self.assertGreaterEqual(int(headers["X-Gantry-Index"]), rev2)
        self.assertLess(results["at"] - put_done, 0.05)

    def test_blocking_read_returns_when_the_wait_runs_out(self):
        rev = self.put("block/timeout", "v")
        started = time.monotonic()
        status, headers, body = self.call("GET", f"/api/v1/kv/block/timeout?index={rev}&wait=300ms")
        elapsed = time.monotonic() - started
        self.assertEqual((status, body), (200, "v"))
        self.assertGreaterEqual(elapsed, 0.28)
        self.assertLess(elapsed, 2)

    def test_an_index_past_the_current_one_answers_at_once(self):
        # e.g. an index remembered from before the agent restarted
        self.put("future/k", "v")
        for path in ("/api/v1/kv/future/k?index=999999999&wait=10s",
                     "/api/v1/services?index=999999999&wait=10s"):
            started = time.monotonic()
            status, _, _ = self.call("GET", path)
            self.assertEqual(status, 200)
            self.assertLess(time.monotonic() - started, 2, path)

    def test_watch_long_poll_delivers_every_event_in_order(self):
        first = self.put("watch/a", "1")
        self.put("watch/b", "2")
        self.call("DELETE", "/api/v1/kv/watch/a")
        status, _, body = self.call("GET", f"/api/v1/kv/watch/?prefix=true&watch={first}")
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        events = [(e["type"], e["key"]) for e in answer["events"]]
        self.assertEqual(events, [("put", "watch/a"), ("put", "watch/b"), ("delete", "watch/a")])
        # Continuing after the answer's revision waits for the next event.
        results = {}
        thread = threading.Thread(target=lambda: results.update(answer=self.call(
            "GET", f"/api/v1/kv/watch/?prefix=true&watch={answer['revision'] + 1}&wait=10s")))
        thread.start()
        time.sleep(0.2)
        self.assertNotIn("answer", results)
        self.put("watch/c", "3")
        thread.join(timeout=10)
        later = json.loads(results["answer"][2])
        self.assertEqual([e["key"] for e in later["events"]], ["watch/c"])
        self.assertEqual(base64.b64decode(later["events"][0]["value"]), b"3")

    def test_a_watch_followed_answer_after_answer_misses_no_event_under_writes(self):
        """Each answer's revision is where the next watch starts: an event written while one
        answer was on its way must come in the next (on etcd one went missing)."""
        count = 300
        start = self.put("follow/start", "0")
        errors = []

        def write():
            for i in range(count):
                status, _, body = self.call("PUT", f"/api/v1/kv/follow/{i:04d}", str(i).encode())
                if status != 200:
                    errors.append(body)
                    return

        writer = threading.Thread(target=write)
        writer.start()
        seen, revision = [], start
        deadline = time.monotonic() + 60
        while len(seen) < count + 1 and time.monotonic() < deadline:
            status, _, body = self.call(
                "GET", f"/api/v1/kv/follow/?prefix=true&watch={revision + 1 if seen else start}"
                       "&wait=5s")
            self.assertEqual(status, 200, body)
            answer = json.loads(body)
            seen += [e["key"] for e in answer["events"]]
            revision = answer["revision"]
        writer.join(timeout=30)
        self.assertEqual(errors, [])
        self.assertEqual(seen, ["follow/start"] + [f"follow/{i:04d}" for i in range(count)])

    def test_blocking_services_read_wakes_on_a_registry_change(self):
        self.agent.wait_ready()
        status, headers, _ = self.call("GET", "/api/v1/services/hello/instances")
        index = int(headers["X-Gantry-Index"])
        results = {}
        thread = threading.Thread(target=lambda: results.update(answer=self.call(
            "GET", f"/api/v1/services/hello/instances?index={index}&wait=20s", timeout=30)))
        thread.start()
        time.sleep(0.2)
        self.assertNotIn("answer", results)
        replica = [r for r in self.agent.ps() if r["service"] == "hello"][0]
        os.kill(replica["pid"], 9)
        thread.join(timeout=25)
        status, headers, _ = results["answer"]
        self.assertEqual(status, 200)
        self.assertGreater(int(headers["X-Gantry-Index"]), index)


class KvDurabilityTest(unittest.TestCase):
    def test_acknowledged_writes_survive_kill9_of_the_agent(self):
        agent = Agent(one_replica_app(), workers=1)
        try:
            revisions = {}
            for i in range(50):
                status, _, body = http_request(agent.api, "PUT", f"/api/v1/kv/d/{i}", body=f"v{i}")
                self.assertEqual(status, 200, body)
                revisions[i] = json.loads(body)["revision"]
            status, _, body = http_request(agent.api, "POST", "/api/v1/leases", body='{"ttl": "1s"}')
            lease = json.loads(body)["id"]
            http_request(agent.api, "PUT", f"/api/v1/kv/d/leased?lease={lease}", body="x")
            agent.kill9()
            time.sleep(SHORTEST_LEASE + 0.2)  # the lease runs out while the agent is down
            state_dir = agent.state_dir
        finally:
            agent.close()
        again = Agent(one_replica_app(), workers=1, state_dir=state_dir)
        try:
            for i in range(50):
                status, headers, body = http_request(again.api, "GET", f"/api/v1/kv/d/{i}")
                self.assertEqual((status, body), (200, f"v{i}"))
                self.assertEqual(int(headers["X-Gantry-Mod-Revision"]), revisions[i])
            self.assertEqual(http_request(again.api, "GET", "/api/v1/kv/d/leased")[0], 404)
            status, _, body = http_request(again.api, "PUT", "/api/v1/kv/d/next", body="n")
            self.assertGreater(json.loads(body)["revision"], max(revisions.values()) + 1)
        finally:
            again.close()


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
@unittest.skipIf(ON_ETCD, "the embedded store's own disk (etcd has its own space quota)")
class KvDiskFullTest(unittest.TestCase):
    def test_disk_full_is_507_and_reads_go_on(self):
        state_dir = tempfile.mkdtemp(prefix="gantry-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", state_dir], check=True)
        try:
            agent = Agent(one_replica_app(), workers=1, state_dir=state_dir)
            try:
                written = []
                status = 200
                for i in range(40):
                    status, _, body = http_request(agent.api, "PUT", f"/api/v1/kv/full/{i}",
                                                   body="x" * 100_000)
                    if status != 200:
                        break
                    written.append(i)
                self.assertEqual(status, 507, body)
                self.assertEqual(json.loads(body)["code"], "disk_full")
                self.assertGreater(len(written), 2)
                for i in written:
                    self.assertEqual(http_request(agent.api, "GET", f"/api/v1/kv/full/{i}")[0], 200)
                self.assertEqual(http_request(agent.api, "GET", "/api/v1/agent")[0], 200)
            finally:
                agent.close()
        finally:
            subprocess.run(["umount", state_dir], check=True)


class KvCliTest(OneAgent):
    """`gantry kv` against a real agent."""

    def kv(self, *args, stdin=None):
        return subprocess.run([GANTRY, "kv", *args, "--api", self.agent.api], input=stdin,
                              capture_output=True, text=True, timeout=30)

    def test_put_get_ls_del(self):
        put = self.kv("put", "cli/a", "one")
        self.assertEqual(put.returncode, 0, put.stderr)
        self.assertRegex(put.stdout, r"^revision \d+\n$")
        self.assertEqual(self.kv("put", "cli/b b", stdin="from stdin").returncode, 0)
        self.assertEqual(self.kv("get", "cli/b b").stdout, "from stdin\n")
        self.assertEqual(self.kv("ls", "cli/").stdout, "cli/a\ncli/b b\n")
        rows = json.loads(self.kv("ls", "cli/", "-o", "json").stdout)
        self.assertEqual(base64.b64decode(rows[0]["value"]), b"one")
        deleted = self.kv("del", "cli/", "--prefix")
        self.assertEqual(deleted.stdout, "deleted 2\n")
        missing = self.kv("get", "cli/a")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no such key", missing.stderr)

    def test_cas_failure_is_a_nonzero_exit_with_the_reason(self):
        self.assertEqual(self.kv("put", "clicas/k", "1", "--cas", "0").returncode, 0)
        again = self.kv("put", "clicas/k", "2", "--cas", "0")
        self.assertEqual(again.returncode, 1)
        self.assertIn("mod revision", again.stderr)

    def test_watch_prints_history_then_live_events(self):
        first = int(self.kv("put", "cli/w/a", "1").stdout.split()[1])
        watch = subprocess.Popen(
            [GANTRY, "kv", "watch", "cli/w/", "--prefix", "--from",
             str(first), "--count", "3", "--api", self.agent.api],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.kv("put", "cli/w/b", "2")
            self.kv("del", "cli/w/a")
            out, err = watch.communicate(timeout=20)
        finally:
            watch.kill()
        lines = [line.split(" ", 2)[1:] for line in out.splitlines()]
        self.assertEqual(lines, [["PUT", "cli/w/a 1"], ["PUT", "cli/w/b 2"], ["DELETE", "cli/w/a"]],
                         err)
