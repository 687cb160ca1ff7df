// A route's local rate limit (rate_limit: {rps, burst, by}): one token bucket per key (client
// IP or a header's value), shared by the workers. A request takes a token or is refused with
// the time until the next one (for Retry-After). Buckets idle long enough to be full again
// are dropped, so the map does not grow with every client ever seen.
// Thread-safe: the buckets are sharded, one mutex per shard. Time is passed in (tests pin it).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/app_spec.h"

namespace gantry::proxy {

class RateLimiter {
 public:
  explicit RateLimiter(const config::RateLimitSpec& spec) : spec_(spec) {}

  // 0 when a token was taken; otherwise milliseconds until one is there.
  int64_t Take(std::string_view key, int64_t now_ms);
  const config::RateLimitSpec& spec() const { return spec_; }
  size_t BucketCountForTest();

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated_ms = 0;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
    int64_t last_sweep_ms = 0;
  };
  void Sweep(Shard& shard, int64_t now_ms);

  config::RateLimitSpec spec_;
  std::array<Shard, 16> shards_;
};

}  // namespace gantry::proxy
