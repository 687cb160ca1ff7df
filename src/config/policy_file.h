// The app file's `policy:` block of a service and `rate_limit:` of a route: schema and checks.
// Internal to config/ (app_file.cc calls these).
#pragma once

#include "config/app_spec.h"
#include "config/yaml_reader.h"

namespace gantry::config {

void ParsePolicy(const Entry& block, PolicySpec& policy, Diagnostics& diag);
void ParseRateLimit(const Entry& block, RateLimitSpec& limit, Diagnostics& diag);

}  // namespace gantry::config
