// Traffic counters and latency histograms of the data plane, per service and per route. Each
// worker writes its own slot (single writer, relaxed atomics: plain increments, no locked
// instructions, no shared cache lines); readers merge the slots when they ask.
// Writers: their worker's thread. Merge(): any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "telemetry/counters.h"

namespace gantry::proxy {

using telemetry::RelaxedCounter;

// Upper bounds of the latency buckets, in microseconds (the last bucket is unbounded).
inline constexpr std::array<uint64_t, 19> kLatencyBoundsUs = {
    100,    250,    500,     1000,    2500,    5000,     10000,    25000,    50000,    100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 120000000};
inline constexpr size_t kLatencyBuckets = kLatencyBoundsUs.size() + 1;

struct TrafficTotals {
  uint64_t requests = 0;
  uint64_t by_class[6] = {};       // responses by status class: [1] 1xx ... [5] 5xx, [0] none sent
  uint64_t retries = 0;            // tries after the first
  uint64_t timeouts = 0;           // answered 504 by gantry
  uint64_t overflows = 0;          // refused by a circuit breaker (503, x-gantry-overloaded)
  uint64_t rate_limited = 0;       // refused by a rate limit (429)
  uint64_t upstream_failures = 0;  // connect failures, resets, bad responses
  uint64_t latency[kLatencyBuckets] = {};
  uint64_t latency_sum_us = 0;

  // The latency below which `quantile` (0..1) of requests finished, from the buckets: the
  // bucket's upper bound (an upper estimate), 0 without requests.
  uint64_t QuantileUs(double quantile) const;
};

class TrafficStats {
 public:
  explicit TrafficStats(size_t workers) : slots_(new Slot[workers]), workers_(workers) {}

  // Worker `worker` only.
  void RecordRequest(size_t worker, int status, uint64_t latency_us);
  void RecordRetry(size_t worker) { slots_[worker].retries.Add(); }
  void RecordTimeout(size_t worker) { slots_[worker].timeouts.Add(); }
  void RecordOverflow(size_t worker) { slots_[worker].overflows.Add(); }
  void RecordRateLimited(size_t worker) { slots_[worker].rate_limited.Add(); }
  void RecordUpstreamFailure(size_t worker) { slots_[worker].upstream_failures.Add(); }

  TrafficTotals Merge() const;

 private:
  struct alignas(64) Slot {
    RelaxedCounter requests, retries, timeouts, overflows, rate_limited, upstream_failures;
    RelaxedCounter by_class[6];
    RelaxedCounter latency[kLatencyBuckets];
    RelaxedCounter latency_sum_us;
  };
  std::unique_ptr<Slot[]> slots_;
  size_t workers_;
};

}  // namespace gantry::proxy
