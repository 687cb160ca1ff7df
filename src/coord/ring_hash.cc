#include "coord/ring_hash.h"

#include <algorithm>

#include "coord/stable_hash.h"

namespace gantry::coord {

RingHash::RingHash(const std::vector<std::string>& keys, size_t points_per_endpoint,
                   const std::vector<uint32_t>& weights) {
  for (size_t e = 0; e < keys.size(); ++e) {
    size_t points = points_per_endpoint * (weights.empty() ? 1 : weights[e]);
    for (size_t p = 0; p < points; ++p) {
      // A point's place depends on the endpoint's name alone, never on its position in the
      // list: that is what keeps other endpoints' keys in place when one leaves.
      std::string point = keys[e] + "#" + std::to_string(p);
      ring_.push_back({StableHash(point), static_cast<uint32_t>(e)});
    }
  }
  std::sort(ring_.begin(), ring_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.endpoint < b.endpoint;
  });
}

size_t RingHash::Pick(uint64_t key_hash) const {
  auto it = std::lower_bound(ring_.begin(), ring_.end(), key_hash,
                             [](const Point& p, uint64_t h) { return p.hash < h; });
  if (it == ring_.end()) it = ring_.begin();  // past the last point: wrap around
  return it->endpoint;
}

}  // namespace gantry::coord
