// Where a data-plane worker leaves its span records for the control plane: a single-producer,
// single-consumer ring. The worker fills a slot in place and publishes it (no lock, no copy);
// the control plane drains it a few times a second. When the ring is full, new spans are
// counted and dropped: tracing never holds a request back.
// Claim/Publish: the worker's thread. Drain: one reader thread at a time.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "telemetry/trace.h"

namespace gantry::telemetry {

class SpanBuffer {
 public:
  explicit SpanBuffer(size_t capacity = 8192) : ring_(capacity) {}

  // A slot to fill, or null when the ring is full; Publish() hands the filled slot over.
  SpanRecord* Claim() {
    uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) >= ring_.size()) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return nullptr;
    }
    return &ring_[head % ring_.size()];
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

  // Appends the published spans to `out`; returns how many were dropped since last time.
  uint64_t Drain(std::vector<SpanRecord>& out) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    uint64_t head = head_.load(std::memory_order_acquire);
    size_t needed = out.size() + static_cast<size_t>(head - tail);
    if (out.capacity() < needed) out.reserve(std::max(needed, out.capacity() * 2));  // geometric
    for (; tail < head; ++tail) out.push_back(ring_[tail % ring_.size()]);
    tail_.store(tail, std::memory_order_release);
    uint64_t dropped = dropped_.load(std::memory_order_relaxed);
    uint64_t fresh = dropped - dropped_seen_;
    dropped_seen_ = dropped;
    return fresh;
  }

 private:
  std::vector<SpanRecord> ring_;
  alignas(64) std::atomic<uint64_t> head_{0};  // the worker's
  alignas(64) std::atomic<uint64_t> tail_{0};  // the reader's
  alignas(64) std::atomic<uint64_t> dropped_{0};
  uint64_t dropped_seen_ = 0;  // the reader's
};

}  // namespace gantry::telemetry
