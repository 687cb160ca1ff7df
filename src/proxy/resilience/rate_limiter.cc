#include "proxy/resilience/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace gantry::proxy {

int64_t RateLimiter::Take(std::string_view key, int64_t now_ms) {
  Shard& shard = shards_[std::hash<std::string_view>()(key) % shards_.size()];
  std::lock_guard lock(shard.mutex);
  Sweep(shard, now_ms);
  auto [it, inserted] = shard.buckets.try_emplace(std::string(key));
  Bucket& bucket = it->second;
  double burst = spec_.burst;
  if (inserted) {
    bucket.tokens = burst;
  } else {
    double refill = static_cast<double>(now_ms - bucket.updated_ms) * spec_.rps / 1000.0;
    bucket.tokens = std::min(burst, bucket.tokens + std::max(0.0, refill));
  }
  bucket.updated_ms = now_ms;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil((1.0 - bucket.tokens) * 1000.0 / spec_.rps)));
}

void RateLimiter::Sweep(Shard& shard, int64_t now_ms) {
  // A bucket untouched for as long as a refill from empty takes is full: the same as absent.
  auto full_after_ms = static_cast<int64_t>(std::ceil(spec_.burst * 1000.0 / spec_.rps));
  if (now_ms - shard.last_sweep_ms < std::max<int64_t>(full_after_ms, 1000)) return;
  shard.last_sweep_ms = now_ms;
  std::erase_if(shard.buckets, [&](const auto& entry) {
    return now_ms - entry.second.updated_ms >= full_after_ms;
  });
}

size_t RateLimiter::BucketCountForTest() {
  size_t count = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    count += shard.buckets.size();
  }
  return count;
}

}  // namespace gantry::proxy
