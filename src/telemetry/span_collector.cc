#include "telemetry/span_collector.h"

namespace gantry::telemetry {

std::vector<SpanRecord> SpanCollector::Collect(int64_t now_us, bool exported) {
  traces_.BeginBatch();
  uint64_t lost = 0;
  for (SpanBuffer* ring : rings_) {
    lost += ring->Drain(now_us, [&](const SpanRecord& span) {
      calls_.Add(span, now_us);
      traces_.Add(span, now_us, *this);
    });
  }
  calls_.EndBatch(now_us);
  // Spans that left limbo early (a ring more than half held) could not join a later error.
  uint64_t released_early = 0;
  for (SpanBuffer* ring : rings_) released_early += ring->released_early();
  lost += released_early - released_early_seen_;
  released_early_seen_ = released_early;
  traces_.CountDropped(lost);
  std::vector<SpanRecord> kept = traces_.Settle(now_us, exported);
  // After Settle: a trace decided now had its spans drained `settle` ago or before, so none of
  // its spans stays behind for a later scan to take twice.
  for (SpanBuffer* ring : rings_) ring->ReleaseDrainedUpTo(now_us - traces_.settle().count());
  return kept;
}

void SpanCollector::ForEach(absl::FunctionRef<void(const SpanRecord&)> visit) const {
  for (const SpanBuffer* ring : rings_) ring->ForEachRetained(visit);
}

}  // namespace gantry::telemetry
