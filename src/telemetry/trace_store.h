// The agent's recent traces: spans from every worker, grouped by trace, decided once a trace
// has been quiet for `settle` (tail sampling: a trace with an error (5xx, or no response) or a
// span of at least `slow` is kept; the rest are kept at `sample_rate`, chosen by trace id so
// every agent decides alike), then kept in a bounded ring, oldest out first.
// Control-plane thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "telemetry/trace.h"

namespace gantry::telemetry {

struct TraceStoreOptions {
  double sample_rate = 0.1;
  std::chrono::microseconds slow{std::chrono::milliseconds(500)};
  std::chrono::microseconds settle{std::chrono::seconds(1)};
  size_t max_traces = 1000;
  size_t max_pending_spans = 50'000;  // undecided spans held at most (overflow: dropped)
  size_t max_spans_per_trace = 500;
};

struct TraceSummary {
  TraceId trace_id{};
  std::string root_service;  // the earliest span's
  std::string root_target;
  int64_t start_unix_us = 0;
  int64_t duration_us = 0;  // first start to last end
  size_t spans = 0;
  bool error = false;
  std::vector<std::string> services;
};

class TraceStore {
 public:
  explicit TraceStore(TraceStoreOptions options = {}) : options_(options) {}

  // New spans, read at `now_us` (a monotonic clock).
  void Add(std::vector<SpanRecord> spans, int64_t now_us);
  // Decides the traces quiet since `settle`; returns the spans of those kept (for export).
  std::vector<SpanRecord> Settle(int64_t now_us);

  // Kept traces, newest first; only those with a span of `service` when it is not empty.
  std::vector<TraceSummary> List(const std::string& service, size_t limit) const;
  std::optional<std::vector<SpanRecord>> Get(const TraceId& id) const;

  uint64_t kept() const { return kept_; }
  uint64_t sampled_out() const { return sampled_out_; }
  uint64_t dropped_spans() const { return dropped_spans_; }
  void CountDropped(uint64_t spans) { dropped_spans_ += spans; }

  static TraceSummary Summarize(const std::vector<SpanRecord>& spans);

 private:
  struct Pending {
    std::vector<SpanRecord> spans;
    int64_t last_us = 0;
  };
  bool Keep(const TraceId& id, const std::vector<SpanRecord>& spans) const;

  TraceStoreOptions options_;
  std::map<TraceId, Pending> pending_;
  size_t pending_spans_ = 0;
  std::deque<std::pair<TraceId, std::vector<SpanRecord>>> kept_traces_;  // oldest first
  uint64_t kept_ = 0, sampled_out_ = 0, dropped_spans_ = 0;
};

}  // namespace gantry::telemetry
