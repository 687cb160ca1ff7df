// The data plane's traffic stats as JSON (GET /api/v1/proxy/stats): per service and per
// gateway route, merged over the workers, with the snapshot's version, the version each worker
// routes by (`workers_acknowledged`) and each service's endpoints. Any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/snapshot.h"

namespace gantry::proxy {

std::string StatsJson(const Snapshot& snapshot, const std::vector<uint64_t>& workers_acknowledged);

}  // namespace gantry::proxy
