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

Instance Make(const std::string& id, int port, Health health = Health::kUnknown) {
  Instance instance;
  instance.id = id;
  instance.service = "web";
  instance.address = {"127.0.0.1", static_cast<uint16_t>(port)};
  instance.health = health;
  return instance;
}

TEST(Registry, TracksInstancesHealthAndIndex) {
  Registry registry;
  int notified = 0;
  registry.OnChange([&] { ++notified; });
  registry.DeclareService("idle");
  registry.Upsert(Make("web-1", 1));
  registry.Upsert(Make("web-2", 2));
  EXPECT_EQ(registry.services(), (std::set<std::string>{"idle", "web"}));
  EXPECT_FALSE(registry.HasHealthy("web"));
  uint64_t index = registry.index();
  registry.Upsert(Make("web-2", 2, Health::kHealthy));
  EXPECT_GT(registry.index(), index);
  EXPECT_TRUE(registry.HasHealthy("web"));
  index = registry.index();
  registry.Upsert(Make("web-2", 2, Health::kHealthy));  // the same again: no change
  EXPECT_EQ(registry.index(), index);
  registry.Remove("web-2");
  EXPECT_FALSE(registry.HasHealthy("web"));
  EXPECT_EQ(registry.InstancesOf("web").size(), 1u);
  EXPECT_EQ(notified, 5);
}

}  // namespace
}  // namespace gantry::registry
