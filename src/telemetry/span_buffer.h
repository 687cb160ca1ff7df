// Where a data-plane worker leaves its span records for the control plane: a bounded vector
// behind a mutex only these two threads take (the worker per request, the control plane a few
// times a second to drain it), so it is almost never contended. Past `capacity` records not
// yet drained, new ones are counted and dropped: tracing never holds a request back.
// Record: the worker's thread. Drain: any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "telemetry/trace.h"

namespace gantry::telemetry {

class SpanBuffer {
 public:
  explicit SpanBuffer(size_t capacity = 8192) : capacity_(capacity) { spans_.reserve(64); }

  void Record(const SpanRecord& span) {
    std::lock_guard lock(mutex_);
    if (spans_.size() >= capacity_) {
      ++dropped_;
      return;
    }
    spans_.push_back(span);
  }
  // Moves the records into `out` (appended); returns how many were dropped since last time.
  uint64_t Drain(std::vector<SpanRecord>& out) {
    std::vector<SpanRecord> taken;
    uint64_t dropped;
    {
      std::lock_guard lock(mutex_);
      taken.swap(spans_);
      spans_.reserve(taken.size());
      dropped = dropped_;
      dropped_ = 0;
    }
    out.insert(out.end(), taken.begin(), taken.end());
    return dropped;
  }

 private:
  std::mutex mutex_;
  std::vector<SpanRecord> spans_;
  size_t capacity_;
  uint64_t dropped_ = 0;
};

}  // namespace gantry::telemetry
