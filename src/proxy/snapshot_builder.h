// Turns the app spec and the registry's current state into a proxy Snapshot. Control plane.
#pragma once

#include <memory>

#include "config/app_spec.h"
#include "proxy/resilience/outlier_detector.h"
#include "proxy/snapshot.h"
#include "registry/registry.h"

namespace gantry::proxy {

// `previous` (may be null) lends its runtimes to what is still there (an endpoint at the same
// address, a service with the same policy, the same route), so per-worker state, pooled
// connections, budgets, breakers, rate limits and stats survive unrelated changes. `workers`
// is the number of proxy workers (one runtime slot each). Endpoints `outliers` ejected are
// left out, unless the service is under its panic threshold.
std::shared_ptr<Snapshot> BuildSnapshot(const config::AppSpec& spec,
                                        const registry::Registry& registry,
                                        const Snapshot* previous, size_t workers,
                                        const OutlierDetector* outliers = nullptr);

}  // namespace gantry::proxy
