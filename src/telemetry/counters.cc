#include "telemetry/counters.h"

#include <algorithm>

namespace gantry::telemetry {

uint64_t ShardedCounter::Merge() const {
  uint64_t sum = 0;
  for (size_t i = 0; i < count_; ++i) sum += slots_[i].value.Get();
  return sum;
}

uint64_t HistogramTotals::Count() const {
  uint64_t count = 0;
  for (uint64_t n : buckets) count += n;
  return count;
}

uint64_t BucketQuantile(std::span<const uint64_t> buckets, std::span<const uint64_t> bounds,
                        double quantile) {
  uint64_t count = 0;
  for (uint64_t n : buckets) count += n;
  if (count == 0 || bounds.empty()) return 0;
  auto rank = static_cast<uint64_t>(quantile * static_cast<double>(count));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    seen += buckets[i];
    if (seen > rank || seen == count) return bounds[std::min(i, bounds.size() - 1)];
  }
  return bounds.back();
}

uint64_t HistogramTotals::Quantile(std::span<const uint64_t> bounds, double quantile) const {
  return BucketQuantile(buckets, bounds, quantile);
}

ShardedHistogram::ShardedHistogram(std::span<const uint64_t> bounds, size_t slots)
    : bounds_(bounds),
      lines_per_slot_((bounds.size() + 2 + std::size(Line{}.counters) - 1) /
                      std::size(Line{}.counters)),
      lines_(new Line[lines_per_slot_ * slots]),
      slots_(slots) {}

void ShardedHistogram::Observe(size_t slot, uint64_t value) {
  size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                      bounds_.begin());
  At(slot, bucket).Add();
  At(slot, bounds_.size() + 1).Add(value);  // the sum
}

HistogramTotals ShardedHistogram::Merge() const {
  HistogramTotals totals;
  totals.buckets.assign(bounds_.size() + 1, 0);
  for (size_t slot = 0; slot < slots_; ++slot) {
    for (size_t b = 0; b <= bounds_.size(); ++b) totals.buckets[b] += At(slot, b).Get();
    totals.sum += At(slot, bounds_.size() + 1).Get();
  }
  return totals;
}

}  // namespace gantry::telemetry
