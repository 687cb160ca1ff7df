// The retry budget of one service, shared by every worker (Finagle's and Envoy's idea): retries
// in flight, counted from the decision to retry (backoff included) to the end of the retried
// try, may be at most `ratio` of the requests in flight, but `min_retries` are always allowed.
// So a sick service gets a bounded extra load, never a retry storm.
// Thread-safe (relaxed atomics: the limit is a rate, not an exact bound under races).
#pragma once

#include <atomic>
#include <cstdint>

namespace gantry::proxy {

class RetryBudget {
 public:
  RetryBudget(double ratio, int min_retries) : ratio_(ratio), min_retries_(min_retries) {}

  void RequestStarted() { active_requests_.fetch_add(1, std::memory_order_relaxed); }
  void RequestEnded() { active_requests_.fetch_sub(1, std::memory_order_relaxed); }

  // Takes a retry from the budget if there is room; the caller gives it back with RetryEnded.
  bool TryStartRetry();
  void RetryEnded() { active_retries_.fetch_sub(1, std::memory_order_relaxed); }

  int64_t active_requests() const { return active_requests_.load(std::memory_order_relaxed); }
  int64_t active_retries() const { return active_retries_.load(std::memory_order_relaxed); }

 private:
  double ratio_;
  int min_retries_;
  std::atomic<int64_t> active_requests_{0};
  std::atomic<int64_t> active_retries_{0};
};

}  // namespace gantry::proxy
