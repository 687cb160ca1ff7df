"""The chaos run (chaos.py) for about a minute under the build being tested: seeded random
scale, restart, apply, kill -9 of replicas and of the detached agent under HTTP/1.1, HTTP/2 and
gRPC load with KV puts and publishes. CHAOS_SEED replays a sequence; CHAOS_SECONDS changes the
length (scripts/chaos runs longer ones)."""
import os
import random
import unittest

import chaos


class Chaos(unittest.TestCase):
    def test_a_random_sequence_of_operations_under_load(self):
        seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 32))
        seconds = float(os.environ.get("CHAOS_SECONDS", "60"))
        print(f"\nchaos seed {seed} (replay: CHAOS_SEED={seed})", flush=True)
        steps = chaos.Run(seed, seconds).run()
        self.assertGreater(steps, 0)


if __name__ == "__main__":
    unittest.main()
