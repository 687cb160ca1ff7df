// A publisher per system, each on its own connection, one message at a time: Publish returns
// once the system acknowledged the message as stored (false on a refusal).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/broker_bench.h"
#include "net/asio.h"

namespace gantry::bench {

class Publisher {
 public:
  virtual ~Publisher() = default;
  virtual net::asio::awaitable<bool> Publish(const std::string& payload) = 0;
};

// Makes what the system needs before publishing to `topic` (JetStream: the stream).
net::asio::awaitable<void> Prepare(const Options& o);

net::asio::awaitable<std::unique_ptr<Publisher>> OpenPublisher(const Options& o,
                                                               const std::string& topic);

// A 128-byte payload stamped with `scheduled_ns` (steady clock) and a flag ('w': warm-up).
std::string StampedPayload(int64_t scheduled_ns, char flag);
// The stamp and flag back; false if `payload` carries none.
bool ReadStamp(std::string_view payload, int64_t& scheduled_ns, char& flag);

int64_t NowNs();

// What a subscriber saw: every delivery counted, the latency of the measured ones (flag 'm')
// kept. The gantry sink replica and the in-process JetStream and Redis consumers share it.
struct Deliveries {
  int64_t received = 0;
  std::vector<double> latencies_us;
  void Record(std::string_view payload, int64_t arrived_ns);
  // {"received", "measured", "p50_us", "p99_us", "p999_us", "max_us"}
  std::string StatsJson() const;
};

}  // namespace gantry::bench
