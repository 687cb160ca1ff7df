// Turns the app spec and the registry's current state into a proxy Snapshot. Control plane.
#pragma once

#include <memory>

#include "config/app_spec.h"
#include "proxy/snapshot.h"
#include "registry/registry.h"

namespace gantry::proxy {

std::shared_ptr<Snapshot> BuildSnapshot(const config::AppSpec& spec,
                                        const registry::Registry& registry);

}  // namespace gantry::proxy
