"""Distributed locks through the API: fencing tokens that strictly increase per lock, FIFO
waiters, waits that run out (408), release by token, a holder whose lease ends handing over,
and a safety run: concurrent lockers, some pausing past their TTL (as a SIGSTOPped process
would), checked by a protected resource that refuses lower tokens and by a checker that no
holder took the lock while another one's lease was certainly still valid."""
import json
import random
import subprocess
import threading
import time
import unittest

from gantry_support import GANTRY, PLAIN_APP, Agent, http_request, wait_for, write_app



class Locks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(write_app(PLAIN_APP), workers=1)
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)

    def acquire(self, name, ttl="5s", wait="0s", timeout=30):
        status, _, body = http_request(self.agent.api, "POST", f"/api/v1/locks/{name}",
                                       body=json.dumps({"ttl": ttl, "wait": wait}),
                                       timeout=timeout)
        return status, json.loads(body)

    def release(self, name, token):
        status, _, body = http_request(self.agent.api, "DELETE",
                                       f"/api/v1/locks/{name}?token={token}")
        return status, json.loads(body)

    def describe(self, name):
        return json.loads(http_request(self.agent.api, "GET", f"/api/v1/locks/{name}")[2])

    def test_tokens_increase_and_a_held_lock_refuses_at_once(self):
        status, first = self.acquire("basic")
        self.assertEqual(status, 200, first)
        self.assertEqual(self.describe("basic")["holder"]["token"], first["token"])
        started = time.monotonic()
        status, answer = self.acquire("basic", wait="0s")
        self.assertEqual((status, answer["code"]), (408, "lock_wait_timeout"))
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual(self.release("basic", first["token"]), (200, {"released": True}))
        self.assertEqual(self.release("basic", first["token"])[0], 404)
        status, second = self.acquire("basic")
        self.assertEqual(status, 200)
        self.assertGreater(second["token"], first["token"])
        self.release("basic", second["token"])
        self.assertIsNone(self.describe("basic")["holder"])

    def test_waiters_get_the_lock_in_order(self):
        _, holder = self.acquire("fifo")
        got = {}

        def wait_for_lock(who):
            got[who] = self.acquire("fifo", wait="20s")

        threads = []
        for i, who in enumerate(["b", "c"]):
            threads.append(threading.Thread(target=wait_for_lock, args=(who,)))
            threads[-1].start()
            wait_for(lambda: self.describe("fifo")["waiters"] == i + 1, 10, f"{who} queued")
        self.release("fifo", holder["token"])
        wait_for(lambda: "b" in got, 10, "b to get the lock")
        self.assertNotIn("c", got)  # still waiting behind b
        self.release("fifo", got["b"][1]["token"])
        threads[1].join(timeout=10)
        self.assertEqual(got["c"][0], 200)
        self.assertLess(holder["token"], got["b"][1]["token"])
        self.assertLess(got["b"][1]["token"], got["c"][1]["token"])
        self.release("fifo", got["c"][1]["token"])

    def test_a_lost_lease_hands_the_lock_over(self):
        _, first = self.acquire("expiry", ttl="1s")  # never kept alive
        started = time.monotonic()
        status, second = self.acquire("expiry", ttl="5s", wait="15s")
        self.assertEqual(status, 200, second)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)
        self.assertGreater(second["token"], first["token"])
        self.release("expiry", second["token"])

    def gantry_lock(self, *args):
        proc = subprocess.Popen([GANTRY, "lock", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

        def finish():  # SIGTERM: gantry lock passes it to the command, then releases
            if proc.poll() is None:
                proc.terminate()
            proc.communicate(timeout=30)

        self.addCleanup(finish)
        return proc

    def test_gantry_lock_runs_a_command_with_its_token_and_releases(self):
        proc = self.gantry_lock("cli", "--api", self.agent.api, "--",
                                "sh", "-c", 'echo "token=$GANTRY_FENCING_TOKEN"; exit 7')
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 7, err)  # the command's status
        self.assertRegex(out, r"^token=\d+\n$")
        self.assertIsNone(self.describe("cli")["holder"])  # released at the command's end

    def test_gantry_lock_waits_and_refuses(self):
        self.gantry_lock("cli-busy", "--api", self.agent.api, "--", "sleep", "30")
        wait_for(lambda: self.describe("cli-busy")["holder"], 10, "the lock to be held")
        other = self.gantry_lock("cli-busy", "--api", self.agent.api, "--wait", "0s", "--", "true")
        _, err = other.communicate(timeout=30)
        self.assertEqual(other.returncode, 2)
        self.assertIn("is held", err)

    def test_gantry_lock_stops_the_command_when_the_lease_is_lost(self):
        proc = self.gantry_lock("cli-lost", "--api", self.agent.api, "--ttl", "3s", "--",
                                "sleep", "60")
        holder = wait_for(lambda: self.describe("cli-lost")["holder"], 10, "the lock held")
        http_request(self.agent.api, "DELETE", f"/api/v1/leases/{holder['lease']}")
        started = time.monotonic()
        _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 3, err)
        self.assertIn("lost lock", err)
        self.assertLess(time.monotonic() - started, 5)  # found at the next keepalive (1 s)

    def elect(self, name, value, wait="0s"):
        status, _, body = http_request(self.agent.api, "POST", f"/api/v1/elections/{name}",
                                       body=json.dumps({"ttl": "5s", "wait": wait, "value": value}),
                                       timeout=30)
        return status, json.loads(body)

    def observe(self, name, index=None, wait="10s"):
        query = f"?index={index}&wait={wait}" if index else ""
        status, headers, body = http_request(self.agent.api, "GET",
                                             f"/api/v1/elections/{name}{query}", timeout=30)
        return json.loads(body), int(headers["X-Gantry-Index"])

    def test_leader_election_campaign_observe_resign(self):
        status, a = self.elect("leader", "node-a")
        self.assertEqual(status, 200, a)
        self.assertEqual(self.elect("leader", "node-c")[0], 408)  # a campaign that cannot wait
        state, index = self.observe("leader")
        self.assertEqual((state["holder"]["value"], state["waiters"]), ("node-a", 0))
        result = {}
        campaign = threading.Thread(
            target=lambda: result.update(b=self.elect("leader", "node-b", wait="20s")))
        campaign.start()
        state, index = self.observe("leader", index)  # wakes when node-b joins the queue
        self.assertEqual((state["holder"]["value"], state["waiters"]), ("node-a", 1))
        started = time.monotonic()
        unchanged, same_index = self.observe("leader", index, wait="1s")  # nothing happens
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        self.assertEqual((unchanged, same_index), (state, index))
        self.assertEqual(self.release_election("leader", a["token"]), 200)  # node-a resigns
        campaign.join(timeout=20)
        self.assertEqual(result["b"][0], 200)
        state, _ = self.observe("leader", index)
        self.assertEqual(state["holder"]["value"], "node-b")
        self.assertGreater(result["b"][1]["token"], a["token"])
        self.release_election("leader", result["b"][1]["token"])

    def release_election(self, name, token):
        return http_request(self.agent.api, "DELETE", f"/api/v1/elections/{name}?token={token}")[0]

    def test_bad_requests(self):
        self.assertEqual(self.acquire("bad/name")[0], 404)
        self.assertEqual(self.acquire("bad%20name")[0], 400)
        status, _, body = http_request(self.agent.api, "POST", "/api/v1/locks/x", body="{\"ttl\": 5}")
        self.assertEqual(status, 400, body)
        self.assertEqual(http_request(self.agent.api, "DELETE", "/api/v1/locks/x")[0], 400)

    def test_safety_under_pauses(self):
        ttl = 1.0
        resource = {"highest": 0, "accepted": [], "refused": 0}
        resource_lock = threading.Lock()
        holds = []  # (token, asked_at, acquired_at, released_at)
        errors = []

        def write(token):  # the protected resource: fencing by token
            with resource_lock:
                if token < resource["highest"]:
                    resource["refused"] += 1
                    return False
                resource["highest"] = token
                resource["accepted"].append(token)
                return True

        def locker(seed):
            rng = random.Random(seed)
            deadline = time.monotonic() + 20
            for _ in range(6):
                if time.monotonic() > deadline:
                    break
                asked = time.monotonic()
                status, held = self.acquire("safety", ttl=f"{int(ttl * 1000)}ms", wait="15s")
                acquired = time.monotonic()
                if status != 200:
                    errors.append((status, held))
                    continue
                if rng.random() < 0.25:
                    time.sleep(ttl * 1.8)  # paused past the TTL: the lease ends meanwhile
                    write(held["token"])
                    holds.append((held["token"], asked, acquired, time.monotonic(), True))
                    continue  # its release finds nothing, like a process that woke too late
                time.sleep(rng.uniform(0.005, 0.03))
                write(held["token"])
                released_at = time.monotonic()
                self.release("safety", held["token"])
                holds.append((held["token"], asked, acquired, released_at, False))

        threads = [threading.Thread(target=locker, args=(seed,)) for seed in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(errors, [])
        tokens = [h[0] for h in holds]
        self.assertEqual(len(tokens), len(set(tokens)), "a token given twice")
        holds.sort(key=lambda h: h[0])
        for earlier, later in zip(holds, holds[1:]):
            self.assertLess(earlier[2], later[2] + 0.05, "tokens out of acquisition order")
        # No holder got the lock while an earlier one certainly still held it: before that one
        # released it, or, for one paused past its TTL, before its lease could have ended (it was
        # granted after the holder asked).
        for i, a in enumerate(holds):
            token, asked, _, released, paused = a
            certainly_held_until = asked + ttl if paused else released
            for b in holds[i + 1:]:
                self.assertGreaterEqual(b[2], certainly_held_until - 0.05,
                                        f"{b[0]} acquired while {token} held the lock")
        accepted = resource["accepted"]
        self.assertEqual(accepted, sorted(accepted))
        self.assertGreater(len(holds), 12)


if __name__ == "__main__":
    unittest.main()
