// Consistent hashing on a ring (ketama): each endpoint owns `points_per_endpoint` points; a key
// goes to the first point at or after its hash. When an endpoint leaves, only its own keys
// move. Built once per snapshot (immutable), read by every worker.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gantry::coord {

class RingHash {
 public:
  // `keys` name the endpoints (their addresses), in the cluster's order; weights default to 1.
  explicit RingHash(const std::vector<std::string>& keys, size_t points_per_endpoint = 160,
                    const std::vector<uint32_t>& weights = {});

  // The endpoint index for a key's hash; `keys` must not have been empty.
  size_t Pick(uint64_t key_hash) const;
  size_t points() const { return ring_.size(); }

 private:
  struct Point {
    uint64_t hash;
    uint32_t endpoint;
  };
  std::vector<Point> ring_;  // sorted by hash
};

}  // namespace gantry::coord
