// GET /api/v1/services/{service}/owner?key=: the replica the proxy's hashing balancers send
// `key` to, from a published snapshot (404 for an unknown service, 503 with no healthy replica).
#pragma once

#include <string>

#include "http/message.h"
#include "proxy/snapshot.h"

namespace gantry::agent {

http::Response KeyOwnerAnswer(const proxy::Snapshot& snapshot, const std::string& service,
                              const std::string& key);

}  // namespace gantry::agent
