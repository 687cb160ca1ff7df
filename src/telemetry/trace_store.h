// The agent's recent traces: spans from every worker, grouped by trace, decided once a trace
// has been quiet for `settle` (tail sampling: a trace with an error (5xx, or no response), a
// span of at least `slow` or a span whose sampled flag was set is kept; the rest are kept at
// `sample_rate`, chosen by trace id so every agent decides alike), then kept in a bounded ring,
// oldest out first. The flag is the caller's choice (OpenTelemetry's default sampler honours a
// parent's); on a trace gantry started it is the same sample-rate decision (TraceSampler).
// Most spans are neither errors nor slow, and most traces are not chosen: such a span is not
// copied at all. It waits in the worker's ring it came from ("limbo", a Limbo: the ring keeps
// drained spans for `settle`), and joins its trace only if an error or a slow span of that
// trace arrives meanwhile. Only the traces that may be kept are grouped.
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

#include "absl/functional/function_ref.h"
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

// The spans added recently and not taken (the ordinary ones of traces not chosen): where the
// store looks for a trace's earlier spans when an error or slow span of it comes.
class Limbo {
 public:
  virtual ~Limbo() = default;
  virtual void ForEach(absl::FunctionRef<void(const SpanRecord&)> visit) const = 0;
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
  explicit TraceStore(TraceStoreOptions options = {});

  // A batch of new spans, read at `now_us` (a monotonic clock): BeginBatch, then Add each.
  // A span not taken (an ordinary span of a trace not chosen, nothing of which is pending)
  // must stay in `limbo` for `settle`. The common case is inline and touches no table.
  void BeginBatch() { limbo_scans_left_ = kLimboScansPerBatch; }
  void Add(const SpanRecord& span, int64_t now_us, const Limbo& limbo) {
    if (!Chosen(span.trace_id) && !Notable(span) && !MaybePending(span.trace_id)) {
      ++sampled_out_spans_;
      return;
    }
    AddNotOrdinary(span, now_us, limbo);
  }
  // Decides the traces quiet since `settle`; returns the spans of those kept when `exported`
  // (for an exporter), nothing otherwise.
  std::vector<SpanRecord> Settle(int64_t now_us, bool exported = true);

  // Kept traces, newest first; only those with a span of `service` when it is not empty.
  std::vector<TraceSummary> List(const std::string& service, size_t limit) const;
  std::optional<std::vector<SpanRecord>> Get(const TraceId& id) const;

  std::chrono::microseconds settle() const { return options_.settle; }
  uint64_t kept() const { return kept_; }
  uint64_t sampled_out() const { return sampled_out_; }  // traces decided against
  // Ordinary spans of traces not chosen, not taken when they came nor later from limbo.
  uint64_t sampled_out_spans() const { return sampled_out_spans_; }
  uint64_t dropped_spans() const { return dropped_spans_; }
  void CountDropped(uint64_t spans) { dropped_spans_ += spans; }

  static TraceSummary Summarize(const std::vector<SpanRecord>& spans);

 private:
  struct Pending {
    std::vector<SpanRecord> spans;
    int64_t last_us = 0;
  };
  bool Chosen(const TraceId& id) const { return sampler_.Chosen(id); }
  bool Notable(const SpanRecord& span) const {  // an error, slow, or asked for by the caller
    return Failed(span) || span.duration_us >= slow_us_ || span.sampled;
  }
  void AddNotOrdinary(const SpanRecord& span, int64_t now_us, const Limbo& limbo);
  void Pend(const SpanRecord& span, int64_t now_us);

  TraceStoreOptions options_;
  struct TraceIdHash {  // the id's bytes are random already
    size_t operator()(const TraceId& id) const {
      size_t h;
      std::memcpy(&h, id.data(), sizeof h);
      return h;
    }
  };
  std::unordered_map<TraceId, Pending, TraceIdHash> pending_;
  // One bit per hash of a pending trace's id (set by Pend, rebuilt by Settle): most spans
  // belong to no pending trace, and a clear bit says so without a look in pending_.
  std::vector<uint64_t> pending_bits_;
  size_t PendingBit(const TraceId& id) const {
    return TraceIdHash{}(id) & (pending_bits_.size() * 64 - 1);
  }
  bool MaybePending(const TraceId& id) const {
    size_t bit = PendingBit(id);
    return pending_bits_[bit / 64] >> (bit % 64) & 1;
  }
  void MarkPending(const TraceId& id) {
    size_t bit = PendingBit(id);
    pending_bits_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  TraceSampler sampler_;
  uint64_t slow_us_ = 0;
  size_t pending_spans_ = 0;
  size_t limbo_scans_left_ = kLimboScansPerBatch;
  std::deque<std::pair<TraceId, std::vector<SpanRecord>>> kept_traces_;  // oldest first
  uint64_t kept_ = 0, sampled_out_ = 0, sampled_out_spans_ = 0, dropped_spans_ = 0;
};

}  // namespace gantry::telemetry
