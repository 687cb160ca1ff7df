// The real Proxy with two worker threads: a published snapshot is in use by every worker, and
// acknowledged, within 10 ms.
#include <chrono>

#include <gtest/gtest.h>

#include "net/asio.h"
#include "proxy/proxy.h"

namespace gantry::proxy {
namespace {

// Runs the control loop until `done` or a second has passed (it may have no work for a while:
// the workers post to it).
template <typename Done>
void RunUntil(net::asio::io_context& io, const Done& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(1));
    io.restart();
  }
}

TEST(ProxyAcknowledgement, EveryWorkerSwitchesWithinTenMilliseconds) {
  net::asio::io_context io;
  SnapshotStore snapshots;
  ProxyOptions options;
  options.workers = 2;
  options.gateway = {"127.0.0.1", 0};
  options.mesh = {"127.0.0.1", 0};
  options.post_to_control = [&io](std::function<void()> task) {
    net::asio::post(io, std::move(task));
  };
  auto proxy = Proxy::Create(options, snapshots);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  (*proxy)->Start();

  std::vector<double> waits_ms;
  for (int round = 0; round < 20; ++round) {
    auto published_at = std::chrono::steady_clock::now();
    uint64_t version = (*proxy)->Publish(std::make_shared<Snapshot>());
    bool acknowledged = false;
    (*proxy)->WhenAcknowledged(version, [&] {
      acknowledged = true;
      waits_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - published_at)
              .count());
    });
    RunUntil(io, [&] { return acknowledged; });
    ASSERT_TRUE(acknowledged) << "round " << round;
    EXPECT_EQ((*proxy)->acknowledged_version(), version);
  }
  std::sort(waits_ms.begin(), waits_ms.end());
  EXPECT_LT(waits_ms[waits_ms.size() / 2], 10.0) << "median publish -> all acknowledged";
  (*proxy)->Stop();
}

TEST(ProxyAcknowledgement, AnOlderVersionIsAlreadyAcknowledged) {
  net::asio::io_context io;
  SnapshotStore snapshots;
  ProxyOptions options;
  options.gateway = {"127.0.0.1", 0};
  options.mesh = {"127.0.0.1", 0};
  options.post_to_control = [&io](std::function<void()> task) {
    net::asio::post(io, std::move(task));
  };
  auto proxy = Proxy::Create(options, snapshots);
  ASSERT_TRUE(proxy.ok());
  (*proxy)->Start();
  uint64_t version = (*proxy)->Publish(std::make_shared<Snapshot>());
  bool done = false;
  (*proxy)->WhenAcknowledged(version, [&] { done = true; });
  RunUntil(io, [&] { return done; });
  ASSERT_TRUE(done);
  bool at_once = false;
  (*proxy)->WhenAcknowledged(version - 1, [&] { at_once = true; });
  EXPECT_TRUE(at_once);  // no waiting for what every worker is already past
  (*proxy)->Stop();
}

}  // namespace
}  // namespace gantry::proxy
