// Turns the app spec and the registry's current state into a proxy Snapshot. Control plane.
#pragma once

#include <memory>

#include "config/app_spec.h"
#include "proxy/snapshot.h"
#include "registry/registry.h"

namespace gantry::proxy {

// `previous` (may be null) lends its endpoints' runtimes to the endpoints that are still
// there, so per-worker state such as pooled connections survives the change; `workers` is
// the number of proxy workers (one runtime slot each).
std::shared_ptr<Snapshot> BuildSnapshot(const config::AppSpec& spec,
                                        const registry::Registry& registry,
                                        const Snapshot* previous, size_t workers);

}  // namespace gantry::proxy
