// The agent's recent traces: spans from every worker, grouped by trace, decided once a trace
// has been quiet for `settle` (tail sampling: a trace with an error (5xx, or no response) or a
// span of at least `slow` is kept; the rest are kept at `sample_rate`, chosen by trace id so
// every agent decides alike), then kept in a bounded ring, oldest out first.
// Most spans are neither errors nor slow, and most traces are not chosen: such a span waits in
// a flat ring ("limbo", no allocation) for `settle`, and joins its trace only if an error or a
// slow span of that trace arrives meanwhile; else it is overwritten. Only the traces that may
// be kept are grouped.
// Control-plane thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
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
  size_t limbo_spans = 16384;  // unchosen ordinary spans held for `settle` at most
};

// Past this many new notable traces in one batch of spans, their ordinary spans already in
// limbo are not looked for (an error storm keeps its error spans, not all their siblings).
inline constexpr size_t kLimboScansPerBatch = 64;

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
  explicit TraceStore(TraceStoreOptions options = {})
      : options_(options), limbo_(options.limbo_spans) {}

  // New spans, read at `now_us` (a monotonic clock).
  void Add(std::vector<SpanRecord> spans, int64_t now_us);
  // Decides the traces quiet since `settle`; returns the spans of those kept (for export).
  std::vector<SpanRecord> Settle(int64_t now_us);

  // Kept traces, newest first; only those with a span of `service` when it is not empty.
  std::vector<TraceSummary> List(const std::string& service, size_t limit) const;
  std::optional<std::vector<SpanRecord>> Get(const TraceId& id) const;

  uint64_t kept() const { return kept_; }
  uint64_t sampled_out() const { return sampled_out_; }  // traces decided against
  // Ordinary spans never grouped, counted as their limbo slot is reused.
  uint64_t sampled_out_spans() const { return sampled_out_spans_; }
  uint64_t dropped_spans() const { return dropped_spans_; }
  void CountDropped(uint64_t spans) { dropped_spans_ += spans; }

  static TraceSummary Summarize(const std::vector<SpanRecord>& spans);

 private:
  struct Pending {
    std::vector<SpanRecord> spans;
    int64_t last_us = 0;
  };
  bool Chosen(const TraceId& id) const;        // by the sample rate
  bool Notable(const SpanRecord& span) const;  // an error or slow
  void Pend(const SpanRecord& span, int64_t now_us);
  struct Waiting {
    SpanRecord span;
    int64_t at_us = -1;  // -1: empty
  };

  TraceStoreOptions options_;
  struct TraceIdHash {  // the id's bytes are random already
    size_t operator()(const TraceId& id) const {
      size_t h;
      std::memcpy(&h, id.data(), sizeof h);
      return h;
    }
  };
  std::unordered_map<TraceId, Pending, TraceIdHash> pending_;
  size_t pending_spans_ = 0;
  std::vector<Waiting> limbo_;
  size_t limbo_next_ = 0;
  std::deque<std::pair<TraceId, std::vector<SpanRecord>>> kept_traces_;  // oldest first
  uint64_t kept_ = 0, sampled_out_ = 0, sampled_out_spans_ = 0, dropped_spans_ = 0;
};

}  // namespace gantry::telemetry
