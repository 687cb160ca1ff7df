#include "agent/progress.h"

#include <gtest/gtest.h>

namespace gantry::agent {
namespace {

registry::Instance Healthy(const std::string& id, uint16_t port) {
  registry::Instance instance;
  instance.id = id;
  instance.service = "web";
  instance.address = {"127.0.0.1", port};
  instance.health = registry::Health::kHealthy;
  return instance;
}

orchestrator::ReplicaView View(const std::string& id, int pid) {
  orchestrator::ReplicaView view;
  view.id = id;
  view.service = "web";
  view.pid = pid;
  return view;
}

TEST(Progress, AReplicaRestartedBetweenTwoLooksIsHealthyAgain) {
  config::AppSpec spec;
  Progress progress(spec, false);
  registry::Registry registry;
  registry.DeclareService("web");
  registry.Upsert(Healthy("web-1", 1000));
  EXPECT_EQ(progress.HealthChanges(registry).count("web-1"), 1u);
  EXPECT_TRUE(progress.HealthChanges(registry).empty());  // nothing new

  // Killed and started again, and the new process healthy, all before the next look: the
  // supervisor must still hear that the new process is healthy.
  progress.Exited(View("web-1", 0), "killed by SIGKILL", false);
  registry.Remove("web-1");
  progress.Started(View("web-1", 42));
  registry.Upsert(Healthy("web-1", 1001));
  auto changes = progress.HealthChanges(registry);
  ASSERT_EQ(changes.count("web-1"), 1u);
  EXPECT_EQ(changes["web-1"], registry::Health::kHealthy);
}

}  // namespace
}  // namespace gantry::agent
