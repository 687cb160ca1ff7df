#include "proxy/resilience/circuit_breaker.h"

namespace gantry::proxy {

bool CircuitBreaker::TryAcquire(Resource resource) {
  int64_t before = used_[resource].fetch_add(1, std::memory_order_relaxed);
  if (before < limits_[resource]) return true;
  used_[resource].fetch_sub(1, std::memory_order_relaxed);
  overflows_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace gantry::proxy
