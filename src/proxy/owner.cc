#include "proxy/owner.h"

#include <vector>

#include "coord/stable_hash.h"

namespace gantry::proxy {

KeyOwner OwnerOf(const Cluster& cluster, std::string_view key) {
  KeyOwner owner;
  if (cluster.endpoints.empty()) return owner;
  uint64_t hash = coord::StableHash(key);
  if (cluster.maglev) {
    owner.algorithm = "maglev";
    owner.endpoint = &cluster.endpoints[cluster.maglev->Pick(hash)];
    return owner;
  }
  owner.algorithm = "ring_hash";
  if (cluster.ring) {
    owner.endpoint = &cluster.endpoints[cluster.ring->Pick(hash)];
    return owner;
  }
  std::vector<std::string> keys;
  std::vector<uint32_t> weights;
  for (const Endpoint& endpoint : cluster.endpoints) {
    keys.push_back(endpoint.key);
    weights.push_back(endpoint.weight);
  }
  owner.endpoint = &cluster.endpoints[coord::RingHash(keys, 160, weights).Pick(hash)];
  return owner;
}

}  // namespace gantry::proxy
