// The durable publish rate: N connections publishing back to back, each waiting for its ack.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <vector>

#include "broker/broker_bench.h"
#include "broker/publishers.h"
#include "http_client.h"

namespace gantry::bench {

namespace asio = net::asio;
using Clock = std::chrono::steady_clock;

namespace {

struct Results {
  std::vector<double> latencies_us;
  int64_t errors = 0;
};

asio::awaitable<void> Client(const Options& o, Clock::time_point end, Results& r) {
  auto publisher = co_await OpenPublisher(o, kPublishTopic);
  const std::string payload = StampedPayload(0, 'p');
  while (Clock::now() < end) {
    auto start = Clock::now();
    if (!co_await publisher->Publish(payload)) ++r.errors;
    r.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
}

}  // namespace

int RunPublish(const Options& o) {
  asio::io_context io(1);
  Results results;
  FirstFailure failure;
  auto on_done = failure.catcher();
  asio::co_spawn(io, Prepare(o), on_done);
  io.run();
  io.restart();
  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int c = 0; c < o.clients && !failure; ++c)
    asio::co_spawn(io, Client(o, end, results), on_done);
  io.run();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failure) return failure.Report("broker_bench");
  auto& lat = results.latencies_us;
  std::sort(lat.begin(), lat.end());
  std::printf(
      "{\"system\":\"%s\",\"test\":\"publish\",\"clients\":%d,\"ops\":%zu,\"errors\":%lld,"
      "\"ops_per_s\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f}\n",
      o.system.c_str(), o.clients, lat.size(), static_cast<long long>(results.errors),
      static_cast<double>(lat.size()) / elapsed, Percentile(lat, 0.5), Percentile(lat, 0.99));
  return results.errors ? 1 : 0;
}

}  // namespace gantry::bench
