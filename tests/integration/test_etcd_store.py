"""gantry up --store etcd://: the app's state in a real etcd member. Keys under /gantry/<app>/;
an etcd that is not there at start is a clear error; an etcd lost while running degrades the
agent (the data plane serves on, writes answer 503) and is picked up again when it is back,
with no restart of gantry."""
import json
import os
import unittest

from etcd_support import Etcd
from gantry_support import (Agent, PLAIN_APP, free_port, http_request, up_failing_to_start,
                            wait_for, write_app)


class StartWithoutEtcd(unittest.TestCase):
    def test_an_etcd_that_does_not_answer_is_named_and_the_agent_exits(self):
        address = f"127.0.0.1:{free_port()}"
        result = up_failing_to_start("--store", f"etcd://{address}")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(address, result.stderr + result.stdout)

    def test_a_bad_store_or_a_broker_is_refused_with_a_reason(self):
        result = up_failing_to_start("--store", "consul://127.0.0.1:8500")
        self.assertEqual(result.returncode, 2)
        self.assertIn("etcd://host:port", result.stderr)
        result = up_failing_to_start("--broker", "kafka://127.0.0.1:9092")
        self.assertEqual(result.returncode, 2)
        self.assertIn("nats://host:port", result.stderr)


class OnEtcd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.etcd = Etcd()
        cls.addClassCleanup(cls.etcd.close)
        app = "name: shop\n" + PLAIN_APP + "gateway:\n  routes:\n    - { path: /, service: plain }\n"
        cls.agent = Agent(write_app(app), workers=1,
                          extra_args=("--store", cls.etcd.store_flag))
        cls.addClassCleanup(cls.agent.close)
        cls.agent.wait_ready(timeout=60)

    def put(self, key, value, timeout=10):
        return http_request(self.agent.api, "PUT", f"/api/v1/kv/{key}", body=value,
                            timeout=timeout)

    def test_1_every_key_lives_under_the_apps_prefix(self):
        self.assertEqual(self.put("greeting", "hi")[0], 200)
        keys = self.etcd.keys("/gantry/shop/")
        self.assertIn("/gantry/shop/greeting", keys)
        self.assertTrue(any("plain-1" in k for k in keys), keys)  # the registry
        self.assertEqual(self.etcd.keys("/gantry/other/"), [])

    def test_2_losing_etcd_degrades_and_its_return_is_picked_up(self):
        self.etcd.kill9()
        try:
            status, _, body = self.put("while-down", "x", timeout=30)
            self.assertEqual(status, 503, body)
            self.assertEqual(json.loads(body)["code"], "unavailable")
            # The data plane serves on from its last snapshot.
            for _ in range(20):
                status, _, body = http_request(self.agent.gateway, "GET", "/")
                self.assertEqual(status, 200, body)
            self.assertIsNone(self.agent.proc.poll())
        finally:
            self.etcd.start()
        wait_for(lambda: self.put("after", "y", timeout=30)[0] == 200, 60,
                 "a write once etcd is back\n" + self.agent.output())
        self.assertEqual(http_request(self.agent.api, "GET", "/api/v1/kv/greeting")[2], "hi")
        self.assertEqual(http_request(self.agent.gateway, "GET", "/")[0], 200)
        self.assertIsNone(self.agent.proc.poll())


if __name__ == "__main__":
    unittest.main()
