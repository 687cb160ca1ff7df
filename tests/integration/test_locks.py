"""Distributed locks through the API: fencing tokens that strictly increase per lock, FIFO
waiters, waits that run out (408), release by token, a holder whose lease ends handing over,
and a safety run of real `gantry lock` processes, some SIGSTOPped past their TTL, checked by a
protected resource that refuses lower tokens and by a checker that no holder took the lock
while another one's lease was certainly still valid."""
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

from etcd_support import SHORTEST_LEASE
from gantry_support import GANTRY, PLAIN_APP, Agent, http_request, wait_for, write_app

LOCK_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lock_worker.py")



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

    def test_every_held_lock_is_listed(self):
        _, first = self.acquire("listed-a", ttl="30s")
        _, second = self.acquire("listed-b", ttl="30s")
        listed = json.loads(http_request(self.agent.api, "GET", "/api/v1/locks")[2])
        mine = {row["name"]: row for row in listed if row["name"].startswith("listed-")}
        self.assertEqual(sorted(mine), ["listed-a", "listed-b"])
        self.assertEqual(mine["listed-a"]["holder"]["token"], first["token"])
        self.assertEqual(mine["listed-b"]["waiters"], 0)
        self.release("listed-a", first["token"])
        self.release("listed-b", second["token"])
        listed = json.loads(http_request(self.agent.api, "GET", "/api/v1/locks")[2])
        self.assertFalse([row for row in listed if row["name"].startswith("listed-")])
        self.assertEqual(http_request(self.agent.api, "POST", "/api/v1/locks")[0], 405)

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

    def test_safety_with_real_processes_paused_past_their_ttl(self):
        """Four slots run `gantry lock` + lock_worker.py over and over on one lock (TTL 1 s)
        while a pauser SIGSTOPs a random holder's process group (the CLI keeping the lease alive
        and the worker) for 1.8 s. The protected resource refuses a token lower than the
        highest it accepted (fencing). Checked: no holder began while another unpaused holder
        was between its writes; a paused holder was overtaken only after its lease could have
        ended; every accepted write came in token order; a paused holder learned of its lost
        lock (exit 3) and its late write was refused."""
        ttl = float(SHORTEST_LEASE)  # 1 s, or etcd's shortest, 2 s
        attempts = []  # (time, token, group, mark, accepted)
        state = {"highest": 0}
        guard = threading.Lock()

        class Resource(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                token, group = int(query["token"][0]), int(query["group"][0])
                with guard:
                    accepted = token >= state["highest"]
                    if accepted:
                        state["highest"] = token
                    attempts.append((time.monotonic(), token, group, query["mark"][0], accepted))
                self.send_response(200 if accepted else 409)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Resource)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        url = f"http://127.0.0.1:{server.server_address[1]}/write"
        running = {}  # group -> Popen, the holders and waiters alive now
        results = []  # (group, exit code)
        pauses = {}  # group -> when it was stopped
        stop_at = time.monotonic() + 25

        def slot(seed):
            rng = random.Random(seed)
            while time.monotonic() < stop_at:
                proc = subprocess.Popen(
                    [GANTRY, "lock", "safety", "--api", self.agent.api, "--ttl", f"{SHORTEST_LEASE}s", "--wait",
                     "20s", "--", sys.executable, LOCK_WORKER, url, str(rng.uniform(0.05, 0.2))],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
                with guard:
                    running[proc.pid] = proc
                proc.wait(timeout=60)
                with guard:
                    del running[proc.pid]
                    results.append((proc.pid, proc.returncode))

        def pauser():
            rng = random.Random(99)
            while time.monotonic() < stop_at - 3:
                time.sleep(rng.uniform(0.5, 1.5))
                with guard:
                    # A group that is between its writes holds the lock now.
                    begun = {a[2] for a in attempts if a[3] == "begin"}
                    ended = {a[2] for a in attempts if a[3] == "end"}
                    holders = [g for g in running if g in begun - ended and g not in pauses]
                if not holders:
                    continue
                group = rng.choice(holders)
                pauses[group] = time.monotonic()
                os.killpg(group, signal.SIGSTOP)
                time.sleep(ttl * 1.8)
                os.killpg(group, signal.SIGCONT)

        threads = [threading.Thread(target=slot, args=(n,)) for n in range(4)]
        threads.append(threading.Thread(target=pauser))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads))

        holds = {}  # group -> {token, begin, end, refused}
        for at, token, group, mark, accepted in attempts:
            hold = holds.setdefault(group, {"token": token, "begin": None, "end": None,
                                            "refused": 0})
            hold[mark] = at
            hold["refused"] += 0 if accepted else 1
        self.assertGreater(len(holds), 20)
        self.assertGreater(len(pauses), 0, "nobody was paused")
        tokens = sorted(h["token"] for h in holds.values())
        self.assertEqual(len(tokens), len(set(tokens)), "a token given twice")
        accepted = [a[1] for a in attempts if a[4]]
        self.assertEqual(accepted, sorted(accepted), "the resource took a lower token late")
        by_token = sorted(holds.items(), key=lambda item: item[1]["token"])
        for i, (group, a) in enumerate(by_token):
            if a["begin"] is None:
                continue
            # Until when `a` certainly held the lock: its end, or for a paused holder the
            # earliest its lease could end: the TTL after its last keepalive, which came at most
            # a third of the TTL before the pause plus the CLI's poll step and the request's
            # time (well under a sixth of the TTL here). A lock that let a waiter in as soon as
            # its holder stalled fails this.
            held_until = a["end"] or a["begin"]
            if group in pauses:
                held_until = min(held_until, pauses[group] + ttl / 2)
            for _, b in by_token[i + 1:]:
                if b["begin"] is not None:
                    self.assertGreaterEqual(b["begin"], held_until - 0.05,
                                            f"token {b['token']} began while {a['token']} held")
        codes = dict(results)
        overtaken = [g for g in pauses if codes.get(g) == 3]
        self.assertTrue(overtaken, f"no paused holder lost its lock: {pauses} {codes}")
        self.assertTrue(any(holds[g]["refused"] for g in overtaken if g in holds) or
                        all(holds[g]["end"] is None for g in overtaken if g in holds),
                        "a paused holder that lost its lock wrote again unrefused")


if __name__ == "__main__":
    unittest.main()
