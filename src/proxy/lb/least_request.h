// Least request by the power of two choices: of two endpoints drawn at random, the one with
// fewer requests in flight (in this worker). Avoids the herd that "pick the global minimum"
// causes when every worker sees the same minimum. One per cluster per worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gantry::proxy {

class LeastRequest {
 public:
  explicit LeastRequest(uint64_t seed) : state_(seed | 1) {}

  // `active[i]`: requests in flight to endpoint i; must not be empty.
  size_t Pick(const std::vector<uint32_t>& active) {
    size_t n = active.size();
    if (n == 1) return 0;
    size_t a = static_cast<size_t>(Next() % n);
    size_t b = static_cast<size_t>(Next() % (n - 1));
    if (b >= a) ++b;  // two distinct endpoints
    return active[b] < active[a] ? b : a;
  }

 private:
  uint64_t Next() {  // xorshift64*: fast, and enough for spreading load
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dULL;
  }
  uint64_t state_;
};

}  // namespace gantry::proxy
