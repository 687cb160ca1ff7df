// Which replica owns a key: the one the proxy's hashing balancers send that key's requests to
// (the key hashed with coord::StableHash, as lb/request_key does with a header, cookie or path
// value). Services balanced by ring_hash or maglev use their own table from the snapshot;
// others get a ring built on the spot over the same endpoints, so the answer is stable too.
// Pure: reads a snapshot.
#pragma once

#include <string>
#include <string_view>

#include "proxy/snapshot.h"

namespace gantry::proxy {

struct KeyOwner {
  const Endpoint* endpoint = nullptr;  // null when the service has no replica to take it
  std::string_view algorithm;          // "ring_hash" or "maglev"
};

KeyOwner OwnerOf(const Cluster& cluster, std::string_view key);

}  // namespace gantry::proxy
