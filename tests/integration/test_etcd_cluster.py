"""gantry on a 3-member etcd cluster whose leader is killed (kill -9) under put and lock load:
every acknowledged write is there afterwards, lock tokens strictly increase and no two clients
hold the lock at once, and the agent runs on through the election."""
import json
import random
import threading
import time
import unittest

from etcd_support import EtcdCluster
from gantry_support import PLAIN_APP, Agent, http_request, wait_for, write_app

SEED = random.SystemRandom().randrange(1 << 30)


class LeaderKilledUnderLoad(unittest.TestCase):
    def setUp(self):
        print(f"seed {SEED}", flush=True)
        self.rng = random.Random(SEED)
        self.cluster = EtcdCluster(3)
        self.addCleanup(self.cluster.close)
        self.agent = Agent(write_app("name: fault\n" + PLAIN_APP), workers=1,
                           extra_args=("--store", self.cluster.store_flag))
        self.addCleanup(self.agent.close)
        self.agent.wait_ready(timeout=60)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged = {}  # key -> value
        self.holds = []         # (token, acquired at, released at), by the client's clock

    def putter(self, worker):
        for i in range(100000):
            if self.stop.is_set():
                return
            key, value = f"load/{worker}/{i}", f"v{self.rng.random()}"
            try:
                status, _, _ = http_request(self.agent.api, "PUT", f"/api/v1/kv/{key}", body=value,
                                            timeout=15)
            except OSError:
                continue
            if status == 200:
                with self.lock:
                    self.acknowledged[key] = value

    def locker(self):
        for _ in range(100000):
            if self.stop.is_set():
                return
            try:
                status, _, body = http_request(self.agent.api, "POST", "/api/v1/locks/guard",
                                               body='{"ttl": "10s", "wait": "5s"}', timeout=15)
            except OSError:
                continue
            if status != 200:
                continue
            acquired = time.monotonic()
            token = json.loads(body)["token"]
            time.sleep(0.01)
            released = time.monotonic()  # from here this client no longer uses what it guards
            with self.lock:
                self.holds.append((token, acquired, released))
            try:
                http_request(self.agent.api, "DELETE", f"/api/v1/locks/guard?token={token}",
                             timeout=15)
            except OSError:
                pass

    def test_every_acknowledged_write_and_the_lock_survive_the_leaders_death(self):
        threads = [threading.Thread(target=self.putter, args=(w,)) for w in range(3)]
        threads += [threading.Thread(target=self.locker) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            wait_for(lambda: len(self.acknowledged) > 100 and len(self.holds) > 10, 60,
                     "load before the kill")
            leader = self.cluster.leader()
            before = len(self.acknowledged)
            leader.kill9()
            print(f"killed the leader {leader.name} after {before} acknowledged puts", flush=True)
            wait_for(lambda: len(self.acknowledged) > before + 100, 60,
                     "puts acknowledged after the election\n" + self.agent.output())
            holds_after = len(self.holds)
            wait_for(lambda: len(self.holds) > holds_after + 5, 60, "locks after the election")
        finally:
            self.stop.set()
            for t in threads:
                t.join(timeout=60)
        self.assertIsNone(self.agent.proc.poll(), self.agent.output())

        for key, value in self.acknowledged.items():
            status, _, body = http_request(self.agent.api, "GET", f"/api/v1/kv/{key}")
            self.assertEqual((status, body), (200, value), key)

        holds = sorted(self.holds, key=lambda h: h[1])
        for earlier, later in zip(holds, holds[1:]):
            self.assertLess(earlier[0], later[0], "tokens strictly increase")
            self.assertLess(earlier[2], later[1], f"two holders at once: {earlier} and {later}")
        print(f"{len(self.acknowledged)} puts acknowledged and found, {len(holds)} lock holds",
              flush=True)


if __name__ == "__main__":
    unittest.main()
