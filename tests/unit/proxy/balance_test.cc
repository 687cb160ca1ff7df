// The worker's endpoint choice per policy, on hand-built snapshots: distributions of weighted
// round robin, random, least_request, peak EWMA and slow start; retries avoid the last endpoint;
// and the snapshot builder's panic threshold and outlier exclusion.
#include <chrono>
#include <map>

#include <gtest/gtest.h>

#include "config/app_file.h"
#include "proxy/snapshot_builder.h"
#include "proxy/worker.h"

namespace gantry::proxy {
namespace {

using Policy = config::LbSpec::Policy;

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Cluster MakeCluster(Policy policy, const std::vector<uint32_t>& weights) {
  Cluster cluster = Cluster::Named("svc");
  cluster.policy.lb.policy = policy;
  cluster.runtime = std::make_shared<ClusterRuntime>(cluster.policy, 1);
  for (size_t i = 0; i < weights.size(); ++i) {
    Endpoint endpoint;
    endpoint.instance_id = "svc-" + std::to_string(i + 1);
    endpoint.key = "127.0.0.1:" + std::to_string(9000 + i);
    endpoint.weight = weights[i];
    endpoint.runtime = std::make_shared<EndpointRuntime>(1);
    cluster.weighted = cluster.weighted || weights[i] != weights[0];
    cluster.endpoints.push_back(std::move(endpoint));
  }
  return cluster;
}

// A worker (not started) routing by a snapshot holding `cluster`.
class Balance : public testing::Test {
 protected:
  void Use(Cluster cluster) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->clusters.push_back(std::move(cluster));
    snapshot->cluster_by_service["svc"] = 0;
    store_.Publish(snapshot);
    view_ = worker_.AcquireView();
  }
  void TearDown() override {
    if (view_) worker_.ReleaseView(view_);
  }
  const Cluster& cluster() { return view_->snapshot->clusters[0]; }
  std::map<std::string, int> Count(int picks) {
    std::map<std::string, int> seen;
    for (int i = 0; i < picks; ++i)
      ++seen[worker_.PickEndpoint(*view_, cluster(), 0, nullptr).instance_id];
    return seen;
  }

  SnapshotStore store_;
  Worker worker_{0, store_, WorkerLimits{}, WorkerHooks{}};
  WorkerView* view_ = nullptr;
};

TEST_F(Balance, RoundRobinTakesTurns) {
  Use(MakeCluster(Policy::kRoundRobin, {1, 1, 1}));
  auto seen = Count(300);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 100) << id;
}

TEST_F(Balance, WeightedRoundRobinFollowsWeightsSmoothly) {
  Use(MakeCluster(Policy::kRoundRobin, {1, 3, 6}));
  auto seen = Count(1000);
  EXPECT_EQ(seen["svc-1"], 100);
  EXPECT_EQ(seen["svc-2"], 300);
  EXPECT_EQ(seen["svc-3"], 600);
  // Smooth: the heavy endpoint never gets more than two turns in a row with these weights.
  std::string last;
  int run = 0;
  for (int i = 0; i < 100; ++i) {
    std::string id = worker_.PickEndpoint(*view_, cluster(), 0, nullptr).instance_id;
    run = id == last ? run + 1 : 1;
    last = id;
    EXPECT_LE(run, 2);
  }
}

TEST_F(Balance, RandomSpreadsEvenly) {
  Use(MakeCluster(Policy::kRandom, {1, 1, 1, 1}));
  auto seen = Count(40000);
  for (const auto& [id, n] : seen) EXPECT_NEAR(n, 10000, 600) << id;
}

TEST_F(Balance, LeastRequestAvoidsBusyEndpoints) {
  Use(MakeCluster(Policy::kLeastRequest, {1, 1, 1}));
  cluster().endpoints[0].runtime->per_worker[0].AddActive(50);  // svc-1 is busy
  auto seen = Count(3000);
  // P2C: the busy one wins only when drawn... never, as its partner is always less loaded.
  EXPECT_EQ(seen["svc-1"], 0);
  EXPECT_NEAR(seen["svc-2"], 1500, 200);
}

TEST_F(Balance, PeakEwmaPrefersTheFastEndpoint) {
  Use(MakeCluster(Policy::kPeakEwma, {1, 1, 1}));
  worker_.RecordLatency(cluster(), cluster().endpoints[0], 50'000);  // 50 ms
  worker_.RecordLatency(cluster(), cluster().endpoints[1], 1'000);
  worker_.RecordLatency(cluster(), cluster().endpoints[2], 1'000);
  auto seen = Count(3000);
  EXPECT_EQ(seen["svc-1"], 0);  // always paired with a faster one
  EXPECT_GT(seen["svc-2"], 1200);
  EXPECT_GT(seen["svc-3"], 1200);
  // A peak counts at once; the estimate then decays towards recent samples.
  worker_.RecordLatency(cluster(), cluster().endpoints[1], 80'000);
  EXPECT_EQ(cluster().endpoints[1].runtime->per_worker[0].ewma_us, 80'000);
}

TEST_F(Balance, SlowStartRampsANewEndpointUp) {
  Cluster c = MakeCluster(Policy::kRoundRobin, {1, 1});
  c.policy.slow_start = std::chrono::seconds(100);
  int64_t now = NowUnixMs();
  c.endpoints[0].healthy_since_unix_ms = now - 1'000'000;  // long healthy
  c.endpoints[1].healthy_since_unix_ms = now - 20'000;     // 20% into its ramp
  c.slow_start_until_unix_ms = now + 80'000;
  Use(std::move(c));
  auto seen = Count(20000);
  // Shares 1 : 0.2 -> the new one gets about 1/6.
  EXPECT_NEAR(seen["svc-2"], 20000.0 / 6, 400);
}

TEST_F(Balance, ARetryAvoidsTheEndpointThatFailed) {
  Use(MakeCluster(Policy::kRandom, {1, 1}));
  const Endpoint& failed = cluster().endpoints[0];
  for (int i = 0; i < 200; ++i) {
    EXPECT_NE(&worker_.PickEndpoint(*view_, cluster(), 0, &failed), &failed);
  }
}

config::AppSpec SpecWith(const std::string& policy) {
  auto result = config::ParseAppFile(
      "services:\n  api: { command: [api], replicas: 4, policy: " + policy + " }\n", "t.yaml", ".");
  EXPECT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  return *result.spec;
}

registry::Instance Instance(const std::string& id, uint16_t port, registry::Health health) {
  registry::Instance instance;
  instance.id = id;
  instance.service = "api";
  instance.address = {"127.0.0.1", port};
  instance.health = health;
  // Unhealthy ones here failed after passing (see snapshot_test for ones that never passed).
  instance.ever_healthy = health != registry::Health::kUnknown;
  return instance;
}

TEST(SnapshotPanic, UnderTheThresholdEveryOnceHealthyReplicaTakesTraffic) {
  registry::Registry registry;
  registry.Upsert(Instance("api-1", 1, registry::Health::kHealthy));
  registry.Upsert(Instance("api-2", 2, registry::Health::kUnhealthy));
  registry.Upsert(Instance("api-3", 3, registry::Health::kUnhealthy));
  registry.Upsert(Instance("api-4", 4, registry::Health::kUnknown));  // starting: never counted
  auto panic = BuildSnapshot(SpecWith("{}"), registry, nullptr, 1);
  EXPECT_TRUE(panic->clusters[0].panic);  // 1 of 3 healthy < 50%
  EXPECT_EQ(panic->clusters[0].endpoints.size(), 3u);
  auto strict = BuildSnapshot(SpecWith("{ panic_threshold: 0% }"), registry, nullptr, 1);
  EXPECT_FALSE(strict->clusters[0].panic);
  EXPECT_EQ(strict->clusters[0].endpoints.size(), 1u);
  registry.Upsert(Instance("api-2", 2, registry::Health::kHealthy));
  auto fine = BuildSnapshot(SpecWith("{}"), registry, panic.get(), 1);
  EXPECT_FALSE(fine->clusters[0].panic);  // 2 of 3: not under 50%
  EXPECT_EQ(fine->clusters[0].endpoints.size(), 2u);
  // Runtimes carry over for endpoints that stayed.
  EXPECT_EQ(fine->clusters[0].endpoints[0].runtime, panic->clusters[0].endpoints[0].runtime);
  EXPECT_EQ(fine->clusters[0].runtime, panic->clusters[0].runtime);
}

TEST(SnapshotOutliers, EjectedEndpointsAreLeftOut) {
  registry::Registry registry;
  for (int i = 1; i <= 4; ++i) {
    registry.Upsert(
        Instance("api-" + std::to_string(i), static_cast<uint16_t>(i), registry::Health::kHealthy));
  }
  FakeClock clock;
  OutlierDetector outliers(clock);
  config::AppSpec spec = SpecWith("{ outlier: { max_ejection_percent: 50 } }");
  ASSERT_TRUE(outliers.Report("api", "api-3", spec.services[0].policy.outlier, 4));
  auto snapshot = BuildSnapshot(spec, registry, nullptr, 1, &outliers);
  ASSERT_EQ(snapshot->clusters[0].endpoints.size(), 3u);
  for (const Endpoint& endpoint : snapshot->clusters[0].endpoints) {
    EXPECT_NE(endpoint.instance_id, "api-3");
  }
  clock.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(outliers.Expire());
  EXPECT_EQ(
      BuildSnapshot(spec, registry, snapshot.get(), 1, &outliers)->clusters[0].endpoints.size(),
      4u);
}

}  // namespace
}  // namespace gantry::proxy
