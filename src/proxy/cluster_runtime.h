// What the data plane keeps about one service (cluster) and one gateway route beyond a
// snapshot's lifetime: the shared limits (retry budget, circuit breaker, rate limiter) and the
// traffic stats. The snapshot builder hands the same runtime to every snapshot while the
// service's policy (or the route) stays the same. Thread-safe as their parts are.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>

#include "config/app_spec.h"
#include "proxy/resilience/circuit_breaker.h"
#include "proxy/resilience/rate_limiter.h"
#include "proxy/resilience/retry_budget.h"
#include "proxy/resilience/retry_policy.h"
#include "proxy/stats.h"

namespace gantry::proxy {

struct ClusterRuntime {
  static uint32_t NextServiceId() {
    static std::atomic<uint32_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  ClusterRuntime(const config::PolicySpec& policy, size_t workers)
      : policy(policy),
        retry_policy(policy.retries),
        retry_budget(policy.retries.budget, policy.retries.min_retries),
        breaker(policy.circuit_breaker),
        stats(workers) {}

  // Never reused while the process runs (spans carry it: the same id is the same service).
  const uint32_t service_id = NextServiceId();
  const config::PolicySpec policy;
  const RetryPolicy retry_policy;
  RetryBudget retry_budget;
  CircuitBreaker breaker;
  TrafficStats stats;
};

// A request's whole time: the service's policy.timeout, shortened by the caller's own deadline
// (-1: none). 0 or less: the caller's deadline has passed already.
inline int64_t RequestTimeoutMs(const config::PolicySpec& policy, int64_t caller_timeout_ms) {
  int64_t timeout_ms = policy.timeout.count();
  return caller_timeout_ms >= 0 ? std::min(timeout_ms, caller_timeout_ms) : timeout_ms;
}

struct RouteRuntime {
  RouteRuntime(const config::RouteSpec& spec, size_t workers) : spec(spec), stats(workers) {
    if (spec.rate_limit.rps > 0) rate_limiter = std::make_unique<RateLimiter>(spec.rate_limit);
  }

  const config::RouteSpec spec;
  std::unique_ptr<RateLimiter> rate_limiter;  // null: no limit
  TrafficStats stats;
};

}  // namespace gantry::proxy
