// The control plane's side of tracing: every few hundred milliseconds the workers' span rings
// are drained in place into the call graph (every span) and the trace store (only what may be
// kept is copied); the other spans stay in their ring as the store's limbo for `settle`, then
// their slots go back to the workers.
// Control-plane thread only (the rings' reader).
#pragma once

#include <cstdint>
#include <vector>

#include "telemetry/call_graph.h"
#include "telemetry/span_buffer.h"
#include "telemetry/trace_store.h"

namespace gantry::telemetry {

class SpanCollector final : public Limbo {
 public:
  SpanCollector(std::vector<SpanBuffer*> rings, CallGraph& calls, TraceStore& traces)
      : rings_(std::move(rings)), calls_(calls), traces_(traces) {}

  // Drains every ring at `now_us` (a monotonic clock); returns the spans of the traces kept
  // now when `exported` (for an exporter).
  std::vector<SpanRecord> Collect(int64_t now_us, bool exported = true);

  void ForEach(absl::FunctionRef<void(const SpanRecord&)> visit) const override;

 private:
  std::vector<SpanBuffer*> rings_;
  CallGraph& calls_;
  TraceStore& traces_;
  uint64_t released_early_seen_ = 0;
};

}  // namespace gantry::telemetry
