#include "proxy/stats.h"

#include <algorithm>

namespace gantry::proxy {

void TrafficStats::RecordRequest(size_t worker, int status, uint64_t latency_us) {
  Slot& slot = slots_[worker];
  slot.requests.Add();
  int status_class = status >= 100 && status < 600 ? status / 100 : 0;
  slot.by_class[status_class].Add();
  size_t bucket = static_cast<size_t>(
      std::lower_bound(kLatencyBoundsUs.begin(), kLatencyBoundsUs.end(), latency_us) -
      kLatencyBoundsUs.begin());
  slot.latency[bucket].Add();
  slot.latency_sum_us.Add(latency_us);
}

TrafficTotals TrafficStats::Merge() const {
  TrafficTotals totals;
  for (size_t w = 0; w < workers_; ++w) {
    const Slot& slot = slots_[w];
    totals.requests += slot.requests.Get();
    totals.retries += slot.retries.Get();
    totals.timeouts += slot.timeouts.Get();
    totals.overflows += slot.overflows.Get();
    totals.rate_limited += slot.rate_limited.Get();
    totals.upstream_failures += slot.upstream_failures.Get();
    for (size_t c = 0; c < 6; ++c) totals.by_class[c] += slot.by_class[c].Get();
    for (size_t b = 0; b < kLatencyBuckets; ++b) totals.latency[b] += slot.latency[b].Get();
    totals.latency_sum_us += slot.latency_sum_us.Get();
  }
  return totals;
}

uint64_t TrafficTotals::QuantileUs(double quantile) const {
  return telemetry::BucketQuantile(latency, kLatencyBoundsUs, quantile);
}

}  // namespace gantry::proxy
