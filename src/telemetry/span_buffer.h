// Where a data-plane worker leaves its span records for the control plane: a single-producer,
// single-consumer ring. The worker fills a slot in place and publishes it (no lock, no copy);
// the control plane drains it a few times a second, reading each span in place. A drained span
// stays in its slot, readable as "limbo", until the reader releases it: an ordinary span of a
// trace not (yet) kept waits there, without a copy, in case an error of its trace comes later
// (TraceStore). When the ring is full, new spans are counted and dropped: tracing never holds a
// request back; so that limbo never fills it, at most half the ring is held after a drain.
// Claim/Publish: the worker's thread. Drain, ForEachRetained, Release...: one reader thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "telemetry/trace.h"

namespace gantry::telemetry {

class SpanBuffer {
 public:
  // `capacity` is rounded up to a power of two.
  explicit SpanBuffer(size_t capacity = 16384)
      : ring_(std::bit_ceil(std::max<size_t>(capacity, 2))) {}

  // A slot to fill, or null when the ring is full; Publish() hands the filled slot over.
  SpanRecord* Claim() {
    uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - released_.load(std::memory_order_acquire) >= ring_.size()) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return nullptr;
    }
    return &ring_[head & (ring_.size() - 1)];
  }
  void Publish() {
    head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  void Record(const SpanRecord& span) {
    if (SpanRecord* slot = Claim()) {
      *slot = span;
      Publish();
    }
  }

  // Calls `visit(const SpanRecord&)` for each span published since the last drain, in place
  // (no copy), noting `now_us` as their drain time; during a visit, ForEachRetained sees the
  // spans drained so far, this one included. Then, past half the ring held, the oldest are
  // released early (counted: released_early()). Returns how many the writer dropped since the
  // last drain.
  template <typename Visit>
  uint64_t Drain(int64_t now_us, Visit&& visit) {
    uint64_t head = head_.load(std::memory_order_acquire);
    while (drained_ < head) {
      const SpanRecord& span = ring_[drained_ & (ring_.size() - 1)];
      ++drained_;
      visit(span);
    }
    if (drains_.empty() || drains_.back().first != drained_) drains_.emplace_back(drained_, now_us);
    uint64_t held = drained_ - released_.load(std::memory_order_relaxed);
    if (held > ring_.size() / 2) {
      released_early_ += held - ring_.size() / 2;
      Release(drained_ - ring_.size() / 2);
    }
    uint64_t dropped = dropped_.load(std::memory_order_relaxed);
    uint64_t fresh = dropped - dropped_seen_;
    dropped_seen_ = dropped;
    return fresh;
  }

  // The drained spans not released yet (limbo), oldest first.
  template <typename Visit>
  void ForEachRetained(Visit&& visit) const {
    for (uint64_t i = released_.load(std::memory_order_relaxed); i < drained_; ++i) {
      visit(ring_[i & (ring_.size() - 1)]);
    }
  }

  // Gives the writer back the slots of the spans drained at `cutoff_us` or before.
  void ReleaseDrainedUpTo(int64_t cutoff_us) {
    uint64_t up_to = 0;
    while (!drains_.empty() && drains_.front().second <= cutoff_us) {
      up_to = drains_.front().first;
      drains_.pop_front();
    }
    if (up_to > released_.load(std::memory_order_relaxed)) Release(up_to);
  }

  // Drains and releases at once, appending the spans to `out` (tests).
  uint64_t Drain(std::vector<SpanRecord>& out) {
    uint64_t dropped = Drain(0, [&out](const SpanRecord& span) { out.push_back(span); });
    Release(drained_);
    drains_.clear();
    return dropped;
  }

  uint64_t released_early() const { return released_early_; }

 private:
  void Release(uint64_t position) { released_.store(position, std::memory_order_release); }

  std::vector<SpanRecord> ring_;
  alignas(64) std::atomic<uint64_t> head_{0};      // the worker's
  alignas(64) std::atomic<uint64_t> released_{0};  // the reader's: slots before it are free
  alignas(64) std::atomic<uint64_t> dropped_{0};
  // The reader's own.
  uint64_t drained_ = 0;                             // spans before it were visited
  std::deque<std::pair<uint64_t, int64_t>> drains_;  // (drained_ after a drain, its time)
  uint64_t dropped_seen_ = 0;
  uint64_t released_early_ = 0;
};

}  // namespace gantry::telemetry
