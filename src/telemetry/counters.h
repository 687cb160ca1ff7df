// Counters and histograms written by several threads without locked instructions: each writer
// thread (a data-plane worker, the control-plane loop) owns a slot of its own, on its own
// cache line, and increments it with relaxed loads and stores; readers merge the slots when
// they ask (a scrape, the stats API). A reader may see a slot mid-update of another counter,
// never a torn value.
// Writers: the slot's own thread. Merge(): any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <vector>

namespace gantry::telemetry {

// A counter with one writer thread and any number of readers.
class RelaxedCounter {
 public:
  void Add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// One counter per writer slot.
class ShardedCounter {
 public:
  explicit ShardedCounter(size_t slots) : slots_(new Slot[slots]), count_(slots) {}
  void Add(size_t slot, uint64_t n = 1) { slots_[slot].value.Add(n); }
  uint64_t Merge() const;

 private:
  struct alignas(64) Slot {
    RelaxedCounter value;
  };
  std::unique_ptr<Slot[]> slots_;
  size_t count_;
};

// The bound below which `quantile` (0..1) of the observations counted in `buckets` (not
// cumulative; one more than `bounds`, the last unbounded) fell: an upper estimate, the last
// bound for the unbounded bucket, 0 without observations. Shared by every reader of bucketed
// latencies (the stats API, `gantry top`).
uint64_t BucketQuantile(std::span<const uint64_t> buckets, std::span<const uint64_t> bounds,
                        double quantile);

// Observations counted in buckets by upper bound (the last bucket is unbounded), with their sum.
struct HistogramTotals {
  std::vector<uint64_t> buckets;  // not cumulative; one more than the bounds
  uint64_t sum = 0;
  uint64_t Count() const;
  // The bound below which `quantile` (0..1) of the observations fell (an upper estimate; the
  // last bound for the unbounded bucket), 0 without observations.
  uint64_t Quantile(std::span<const uint64_t> bounds, double quantile) const;
};

class ShardedHistogram {
 public:
  // `bounds` ascending; they must outlive the histogram (a constant table, in practice).
  ShardedHistogram(std::span<const uint64_t> bounds, size_t slots);
  void Observe(size_t slot, uint64_t value);
  HistogramTotals Merge() const;
  std::span<const uint64_t> bounds() const { return bounds_; }

 private:
  struct alignas(64) Line {
    RelaxedCounter counters[64 / sizeof(RelaxedCounter)];
  };
  RelaxedCounter& At(size_t slot, size_t i) const {
    return lines_[slot * lines_per_slot_ + i / std::size(Line{}.counters)]
        .counters[i % std::size(Line{}.counters)];
  }

  std::span<const uint64_t> bounds_;
  size_t lines_per_slot_;  // the buckets and the sum, on cache lines of the slot's own
  std::unique_ptr<Line[]> lines_;
  size_t slots_;
};

}  // namespace gantry::telemetry
