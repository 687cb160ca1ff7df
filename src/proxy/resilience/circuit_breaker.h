// Circuit-breaker thresholds of one service (policy.circuit_breaker), shared by every worker:
// connections open, requests waiting for a connection, requests in flight. A request past a
// threshold is answered 503 at once, marked `x-gantry-overloaded`, instead of queueing behind a
// service that cannot keep up. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "config/app_spec.h"

namespace gantry::proxy {

class CircuitBreaker {
 public:
  enum Resource { kConnections = 0, kPending = 1, kRequests = 2 };

  explicit CircuitBreaker(const config::BreakerSpec& spec)
      : limits_{spec.max_connections, spec.max_pending, spec.max_requests} {}

  // Takes one of `resource` if under its threshold; Release gives it back.
  bool TryAcquire(Resource resource);
  void Release(Resource resource) { used_[resource].fetch_sub(1, std::memory_order_relaxed); }
  int64_t used(Resource resource) const { return used_[resource].load(std::memory_order_relaxed); }
  uint64_t overflows() const { return overflows_.load(std::memory_order_relaxed); }

 private:
  int64_t limits_[3];
  std::atomic<int64_t> used_[3] = {};
  std::atomic<uint64_t> overflows_{0};
};

}  // namespace gantry::proxy
