// The data plane's traffic stats as JSON (GET /api/v1/proxy/stats): per service and per
// gateway route, merged over the workers. Any thread.
#pragma once

#include <string>

#include "proxy/snapshot.h"

namespace gantry::proxy {

std::string StatsJson(const Snapshot& snapshot);

}  // namespace gantry::proxy
