#include "proxy/connection_budget.h"

#include <algorithm>

namespace gantry::proxy {

ConnectionBudget BudgetFor(uint64_t descriptor_limit, size_t requested) {
  ConnectionBudget budget;
  uint64_t limit = std::max<uint64_t>(descriptor_limit, 16);
  // An eighth for the control plane, at least 256 and at most 4,096 (never more than half).
  budget.reserve = static_cast<size_t>(
      std::min<uint64_t>(std::clamp<uint64_t>(limit / 8, 256, 4096), limit / 2));
  // Half of the rest for client connections: each may hold an upstream connection too.
  size_t fits = std::max<size_t>(1, static_cast<size_t>((limit - budget.reserve) / 2));
  budget.clients = requested == 0 ? fits : std::min(requested, fits);
  budget.clamped = requested > fits;
  // A quarter kept for the mesh: gateway clients cannot take the services' own calls' room.
  budget.gateway = std::max<size_t>(1, budget.clients - budget.clients / 4);
  return budget;
}

}  // namespace gantry::proxy
