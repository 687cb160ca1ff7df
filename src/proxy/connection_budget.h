// How many client connections the proxy may hold, from the process's descriptor limit: every
// client connection is a descriptor and may need an upstream one, and the control plane (API,
// health checks, the store's and broker's files, replicas' logs and pipes) must keep some for
// itself, or one flood of idle gateway connections stops everything else. Pure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gantry::proxy {

struct ConnectionBudget {
  size_t clients = 0;    // client connections, gateway and mesh together
  size_t gateway = 0;    // of which the gateway may hold at most this many (the rest: the mesh's)
  size_t reserve = 0;    // descriptors left to the control plane
  bool clamped = false;  // the requested count was more than the limit allows
};

// `requested`: --max-connections (0: as many as the limit allows).
ConnectionBudget BudgetFor(uint64_t descriptor_limit, size_t requested);

}  // namespace gantry::proxy
