#include <gtest/gtest.h>

#include "config/app_file.h"
#include "proxy/snapshot_builder.h"

namespace gantry::proxy {
namespace {

config::AppSpec Spec() {
  auto result = config::ParseAppFile(R"(
services:
  web: { command: [web] }
  api: { command: [api], replicas: 2 }
gateway:
  routes:
    - { path: /, service: web }
    - { path: /api, service: api, strip_prefix: true }
)",
                                     "t.yaml", ".");
  EXPECT_TRUE(result.errors.empty());
  return *result.spec;
}

registry::Instance Make(const std::string& id, const std::string& service, uint16_t port,
                        registry::Health health) {
  registry::Instance instance;
  instance.id = id;
  instance.service = service;
  instance.address = {"127.0.0.1", port};
  instance.health = health;
  instance.ever_healthy = health == registry::Health::kHealthy;
  return instance;
}

TEST(BuildSnapshot, OnlyHealthyEndpointsInIdOrder) {
  config::AppSpec spec = Spec();
  registry::Registry registry;
  registry.Upsert(Make("api-2", "api", 2002, registry::Health::kHealthy));
  registry.Upsert(Make("api-1", "api", 2001, registry::Health::kHealthy));
  registry.Upsert(Make("web-1", "web", 1001, registry::Health::kUnknown));  // not checked yet
  auto snapshot = BuildSnapshot(spec, registry, nullptr, 1);
  const Cluster* api = snapshot->FindCluster("api");
  ASSERT_NE(api, nullptr);
  ASSERT_EQ(api->endpoints.size(), 2u);
  EXPECT_EQ(api->endpoints[0].instance_id, "api-1");
  EXPECT_EQ(api->endpoints[1].key, "127.0.0.1:2002");
  EXPECT_TRUE(snapshot->FindCluster("web")->endpoints.empty());
  EXPECT_EQ(snapshot->FindCluster("nope"), nullptr);
  ASSERT_EQ(snapshot->routes.size(), 2u);
  EXPECT_EQ(snapshot->routes[0].prefix, "/api");  // longest first
  EXPECT_TRUE(snapshot->routes[0].strip_prefix);
}

// Panic routing (under panic_threshold healthy) spreads traffic over replicas that failed their
// checks after passing them, never over replicas that have not passed one yet (a scale-up's
// new replicas, still starting: they could only fail the requests).
TEST(BuildSnapshot, PanicRoutingNeverUsesReplicasThatWereNeverHealthy) {
  config::AppSpec spec = Spec();
  registry::Registry registry;
  registry.Upsert(Make("api-1", "api", 2001, registry::Health::kHealthy));
  registry.Upsert(Make("api-2", "api", 2002, registry::Health::kUnhealthy));  // starting
  registry.Upsert(Make("api-3", "api", 2003, registry::Health::kUnhealthy));  // starting
  auto snapshot = BuildSnapshot(spec, registry, nullptr, 1);
  const Cluster* api = snapshot->FindCluster("api");
  EXPECT_FALSE(api->panic);
  ASSERT_EQ(api->endpoints.size(), 1u);
  EXPECT_EQ(api->endpoints[0].instance_id, "api-1");

  registry::Instance fell = Make("api-2", "api", 2002, registry::Health::kUnhealthy);
  fell.ever_healthy = true;  // was healthy, then failed: counts, and is used in panic
  registry.Upsert(fell);
  registry.Upsert(Make("api-4", "api", 2004, registry::Health::kUnhealthy));
  snapshot = BuildSnapshot(spec, registry, snapshot.get(), 1);
  api = snapshot->FindCluster("api");
  EXPECT_FALSE(api->panic);  // 1 of 2 that count: 50% is not under 50%
  registry::Instance also_fell = Make("api-1", "api", 2001, registry::Health::kUnhealthy);
  also_fell.ever_healthy = true;
  registry.Upsert(also_fell);
  snapshot = BuildSnapshot(spec, registry, snapshot.get(), 1);
  api = snapshot->FindCluster("api");
  EXPECT_TRUE(api->panic);
  ASSERT_EQ(api->endpoints.size(), 2u);
  EXPECT_EQ(api->endpoints[0].instance_id, "api-1");
  EXPECT_EQ(api->endpoints[1].instance_id, "api-2");
}

TEST(SnapshotStore, PublishBumpsVersionAndReplaces) {
  SnapshotStore store;
  uint64_t before = store.version();
  auto next = std::make_shared<Snapshot>();
  next->clusters.push_back(Cluster::Named("x"));
  store.Publish(next);
  EXPECT_EQ(store.version(), before + 1);
  EXPECT_EQ(store.Load()->version, store.version());
  EXPECT_EQ(store.Load()->clusters.size(), 1u);
}

}  // namespace
}  // namespace gantry::proxy
