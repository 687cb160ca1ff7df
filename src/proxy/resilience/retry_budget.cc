#include "proxy/resilience/retry_budget.h"

#include <algorithm>

namespace gantry::proxy {

bool RetryBudget::TryStartRetry() {
  auto allowed = std::max<int64_t>(
      min_retries_, static_cast<int64_t>(ratio_ * static_cast<double>(active_requests())));
  int64_t before = active_retries_.fetch_add(1, std::memory_order_relaxed);
  if (before < allowed) return true;
  active_retries_.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

}  // namespace gantry::proxy
