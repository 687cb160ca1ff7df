#include "registry/health.h"

#include <gtest/gtest.h>

#include "registry/registry.h"

namespace gantry::registry {
namespace {
using std::chrono::seconds;

TEST(HealthState, StartsUnknownAndNeedsConsecutivePasses) {
  FakeClock clock;
  HealthState state(/*healthy_after=*/2, /*unhealthy_after=*/3);
  EXPECT_EQ(state.health(), Health::kUnknown);
  EXPECT_FALSE(state.Record(true, clock.Now()));
  EXPECT_FALSE(state.Record(false, clock.Now()));  // breaks the run of passes
  EXPECT_FALSE(state.Record(true, clock.Now()));
  clock.Advance(seconds(2));
  EXPECT_TRUE(state.Record(true, clock.Now()));
  EXPECT_EQ(state.health(), Health::kHealthy);
  EXPECT_EQ(state.changed_at(), clock.Now());
}

TEST(HealthState, OneFlapDoesNotFlipTraffic) {
  FakeClock clock;
  HealthState state(1, 3);
  state.Record(true, clock.Now());
  ASSERT_EQ(state.health(), Health::kHealthy);
  auto healthy_since = state.changed_at();
  clock.Advance(seconds(1));
  EXPECT_FALSE(state.Record(false, clock.Now()));
  EXPECT_FALSE(state.Record(false, clock.Now()));
  EXPECT_FALSE(state.Record(true, clock.Now()));  // resets the failure count
  EXPECT_FALSE(state.Record(false, clock.Now()));
  EXPECT_FALSE(state.Record(false, clock.Now()));
  EXPECT_EQ(state.health(), Health::kHealthy);
  EXPECT_EQ(state.changed_at(), healthy_since);
  clock.Advance(seconds(1));
  EXPECT_TRUE(state.Record(false, clock.Now()));
  EXPECT_EQ(state.health(), Health::kUnhealthy);
  EXPECT_EQ(state.changed_at(), clock.Now());
}

TEST(Registry, TracksInstancesHealthAndIndex) {
  FakeClock clock;
  Registry registry;
  int notified = 0;
  registry.OnChange([&] { ++notified; });
  registry.DeclareService("idle");
  registry.Upsert({"web-1", "web", {"127.0.0.1", 1}, {}, Health::kUnknown, "", {}});
  registry.Upsert({"web-2", "web", {"127.0.0.1", 2}, {}, Health::kUnknown, "", {}});
  EXPECT_EQ(registry.services(), (std::set<std::string>{"idle", "web"}));
  EXPECT_FALSE(registry.HasHealthy("web"));
  uint64_t index = registry.index();
  EXPECT_TRUE(registry.SetHealth("web-2", Health::kHealthy, "HTTP 200", clock.Now()));
  EXPECT_GT(registry.index(), index);
  EXPECT_TRUE(registry.HasHealthy("web"));
  index = registry.index();
  EXPECT_FALSE(registry.SetHealth("web-2", Health::kHealthy, "HTTP 204", clock.Now()));
  EXPECT_EQ(registry.index(), index);  // same health: no new index, output still recorded
  EXPECT_EQ(registry.Find("web-2")->check_output, "HTTP 204");
  registry.Remove("web-2");
  EXPECT_FALSE(registry.HasHealthy("web"));
  EXPECT_EQ(registry.InstancesOf("web").size(), 1u);
  EXPECT_EQ(notified, 5);
}

}  // namespace
}  // namespace gantry::registry
