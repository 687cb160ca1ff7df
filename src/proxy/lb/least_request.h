// Least request by the power of two choices: of two endpoints drawn at random, the one with
// fewer requests in flight (in this worker). Avoids the herd that "pick the global minimum"
// causes when every worker sees the same minimum. One per cluster per worker.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gantry::proxy {

// xorshift64*: fast and good enough for spreading load (not for anything secret).
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ULL | 1) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dULL;
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }  // n > 0

 private:
  uint64_t state_;
};

class LeastRequest {
 public:
  explicit LeastRequest(uint64_t seed) : random_(seed) {}

  // `active(i)`: requests in flight to endpoint i of `n` (n > 0).
  template <typename Active>
  size_t Pick(size_t n, const Active& active) {
    if (n == 1) return 0;
    size_t a = random_.Below(n);
    size_t b = random_.Below(n - 1);
    if (b >= a) ++b;  // two distinct endpoints
    return active(b) < active(a) ? b : a;
  }

 private:
  FastRandom random_;
};

}  // namespace gantry::proxy
