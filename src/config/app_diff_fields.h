// The fields behind a change `apply` reports, as "name: old -> new" lines (values written as
// in an app file), so that `apply --dry-run` shows what exactly changes. Pure.
#pragma once

#include <string>
#include <vector>

#include "config/app_spec.h"

namespace gantry::config {

// Every field of the service that differs, in app-file order ("env.GREETING: \"one\" ->
// \"two\"", "policy.timeout: 15s -> 2s"); resources are the caller's.
std::vector<std::string> ChangedFields(const ServiceSpec& before, const ServiceSpec& now);
// The routes gone ("- /old -> web") and come ("+ /v2 -> web, strip_prefix").
std::vector<std::string> ChangedRoutes(const std::vector<RouteSpec>& before,
                                       const std::vector<RouteSpec>& now);

}  // namespace gantry::config
