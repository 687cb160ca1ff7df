#include "orchestrator/autoscaler.h"

#include <gtest/gtest.h>

namespace gantry::orchestrator {
namespace {

using std::chrono::seconds;

config::AutoscaleSpec Spec() {
  config::AutoscaleSpec spec;
  spec.enabled = true;
  spec.min = 1;
  spec.max = 5;
  spec.target_rps = 100;
  spec.up_window = seconds(0);
  spec.down_window = seconds(30);
  spec.cooldown = seconds(5);
  return spec;
}

TEST(Autoscaler, ScalesUpAtOnceWithItsReason) {
  FakeClock clock;
  Autoscaler autoscaler(Spec());
  EXPECT_FALSE(autoscaler.Observe(clock.Now(), {1, 80, -1}));  // under target: nothing
  clock.Advance(seconds(1));
  auto decision = autoscaler.Observe(clock.Now(), {1, 350, -1});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->replicas, 4);
  EXPECT_EQ(decision->reason, "350 req/s against a target of 100 per replica");
}

TEST(Autoscaler, StaysWithinBounds) {
  FakeClock clock;
  Autoscaler autoscaler(Spec());
  auto decision = autoscaler.Observe(clock.Now(), {1, 99999, -1});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->replicas, 5);  // max
  clock.Advance(seconds(1));
  decision = autoscaler.Observe(clock.Now(), {0, 0, -1});  // scaled below min by hand
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->replicas, 1);
  EXPECT_EQ(decision->reason, "bounds [1, 5]");
}

TEST(Autoscaler, CooldownBetweenChanges) {
  FakeClock clock;
  Autoscaler autoscaler(Spec());
  ASSERT_TRUE(autoscaler.Observe(clock.Now(), {1, 250, -1}));  // -> 3
  clock.Advance(seconds(2));
  EXPECT_FALSE(autoscaler.Observe(clock.Now(), {3, 450, -1}));  // wants 5: cooling down
  clock.Advance(seconds(3));
  auto decision = autoscaler.Observe(clock.Now(), {3, 450, -1});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->replicas, 5);
}

TEST(Autoscaler, ScalesDownOnlyWhenTheWholeWindowAgrees) {
  FakeClock clock;
  Autoscaler autoscaler(Spec());
  ASSERT_TRUE(autoscaler.Observe(clock.Now(), {1, 400, -1}));  // -> 4
  // Load drops; a single burst inside the window holds the count.
  for (int s = 1; s <= 29; ++s) {
    clock.Advance(seconds(1));
    double rps = s == 20 ? 390 : 50;
    auto decision = autoscaler.Observe(clock.Now(), {4, rps, -1});
    EXPECT_FALSE(decision) << "second " << s;
  }
  // 30 s after the burst the window is all quiet: down to what the highest of it asked.
  std::optional<ScalingDecision> decision;
  for (int s = 30; s <= 60 && !decision; ++s) {
    clock.Advance(seconds(1));
    decision = autoscaler.Observe(clock.Now(), {4, 50, -1});
    if (decision) {
      EXPECT_GE(s, 50) << "too early";
    }
  }
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->replicas, 1);
  EXPECT_NE(decision->reason.find("for the last 30s"), std::string::npos) << decision->reason;
}

TEST(Autoscaler, FollowsCpuAgainstItsTarget) {
  FakeClock clock;
  config::AutoscaleSpec spec = Spec();
  spec.target_rps = 0;
  spec.target_cpu = 0.5;
  Autoscaler autoscaler(spec);
  EXPECT_FALSE(autoscaler.Observe(clock.Now(), {2, 0, 0.4}));
  clock.Advance(seconds(1));
  auto decision = autoscaler.Observe(clock.Now(), {2, 0, 0.9});  // 2 * 0.9 / 0.5 = 3.6
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->replicas, 4);
  EXPECT_EQ(decision->reason, "CPU at 90% against a target of 50% per replica");
  clock.Advance(seconds(10));
  EXPECT_FALSE(autoscaler.Observe(clock.Now(), {4, 0, -1}));  // no CPU figure: no CPU vote
}

}  // namespace
}  // namespace gantry::orchestrator
