// Round robin over a cluster's endpoints. One per cluster per worker: no sharing, no atomics.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gantry::proxy {

class RoundRobin {
 public:
  // Workers start at different offsets so that N workers do not hit the same replica in step.
  explicit RoundRobin(uint64_t start = 0) : next_(start) {}
  // An index in [0, n); n must be > 0.
  size_t Pick(size_t n) { return static_cast<size_t>(next_++ % n); }

 private:
  uint64_t next_;
};

}  // namespace gantry::proxy
