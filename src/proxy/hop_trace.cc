#include "proxy/hop_trace.h"

#include <algorithm>
#include <cstring>

#include "proxy/worker.h"

namespace gantry::proxy {

namespace {

template <size_t N>
void Randomize(Worker& worker, std::array<uint8_t, N>& id) {
  for (size_t i = 0; i < N; i += 8) {
    uint64_t bits = worker.NextRandom();
    std::memcpy(id.data() + i, &bits, std::min<size_t>(8, N - i));
  }
  if (telemetry::IsZero(id)) id[N - 1] = 1;  // all zero is invalid
}

}  // namespace

void StartHop(Worker& worker, std::string_view traceparent, std::string_view method,
              std::string_view target, HopTrace& trace) {
  trace.on = true;
  trace.parent = {};
  if (auto caller = traceparent.empty() ? std::nullopt : telemetry::ParseTraceParent(traceparent)) {
    trace.context.trace_id = caller->trace_id;
    trace.context.flags = caller->flags;
    trace.parent = caller->span_id;
  } else {
    Randomize(worker, trace.context.trace_id);
    // The head decision, passed on so that replicas' own tracers keep the traces gantry keeps;
    // errors and slow hops are kept whatever it says (tail sampling).
    trace.context.flags = worker.sampler().Chosen(trace.context.trace_id) ? 1 : 0;
  }
  Randomize(worker, trace.context.span_id);
  trace.method.Set(method);
  trace.target.Set(target);
}

std::string_view FormatTraceParentLine(const HopTrace& trace, char (&out)[kTraceParentLineSize]) {
  std::memcpy(out, kTraceParentFieldName.data(), kTraceParentFieldName.size());
  telemetry::FormatTraceParent(
      trace.context,
      *reinterpret_cast<char(*)[telemetry::kTraceParentSize]>(out + kTraceParentFieldName.size()));
  std::memcpy(out + kTraceParentLineSize - 2, "\r\n", 2);
  return {out, kTraceParentLineSize};
}

void RecordHop(Worker& worker, const HopTrace& trace, const HopEnd& end) {
  telemetry::SpanBuffer* spans = worker.spans();
  if (!trace.on || !spans) return;
  telemetry::SpanRecord* span = spans->Claim();  // filled in place
  if (!span) return;
  span->trace_id = trace.context.trace_id;
  span->span_id = trace.context.span_id;
  span->parent_id = trace.parent;
  span->start_unix_us = worker.UnixMicros(end.start_loop_us);
  span->duration_us = static_cast<uint32_t>(
      std::clamp<int64_t>(end.end_loop_us - end.start_loop_us, 0, UINT32_MAX));
  span->status = static_cast<uint16_t>(end.status);
  span->mesh = end.mesh;
  span->sampled = (trace.context.flags & 1) != 0;
  span->attempts = static_cast<uint8_t>(std::min(end.attempts, 255));
  span->method = trace.method;
  span->service_id = end.service_id;
  // Fixed-size copies of texts cut to size when the snapshot was built: no length to test.
  span->service = *end.service;
  if (end.instance) {
    span->instance = *end.instance;
  } else {
    span->instance.size = 0;
  }
  span->target = trace.target;
  spans->Publish();
}

}  // namespace gantry::proxy
