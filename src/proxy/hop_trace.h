// Tracing of one proxied hop (W3C Trace Context): the caller's traceparent is continued, or a
// trace is started; the hop gets a span id of its own, which the upstream receives as its
// parent; at the end the hop's span goes to the worker's span buffer. Fixed-size data only:
// no allocation per request. Worker thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "telemetry/trace.h"

namespace gantry::proxy {

class Worker;

struct HopTrace {
  bool on = false;
  telemetry::TraceParent context;  // the trace, this hop's span id, the flags
  telemetry::SpanId parent{};      // the caller's span; zero when the trace starts here
  telemetry::ShortText<8> method;
  telemetry::ShortText<120> target;
};

// Continues `traceparent` (a request's field, "" when absent; a malformed one starts anew),
// filling `trace` in place (it lives in the exchange: no copy of its fixed-size fields).
void StartHop(Worker& worker, std::string_view traceparent, std::string_view method,
              std::string_view target, HopTrace& trace);

// "traceparent: 00-<trace>-<this hop's span>-<flags>\r\n": the field line for the upstream,
// written whole so that it is appended in one step.
inline constexpr std::string_view kTraceParentFieldName = "traceparent: ";
inline constexpr size_t kTraceParentLineSize =
    kTraceParentFieldName.size() + telemetry::kTraceParentSize + 2;
std::string_view FormatTraceParentLine(const HopTrace& trace, char (&out)[kTraceParentLineSize]);

struct HopEnd {
  bool mesh = false;
  uint32_t service_id = 0;                             // ClusterRuntime::service_id
  const telemetry::ShortText<64>* service = nullptr;   // Cluster::service_text
  const telemetry::ShortText<64>* instance = nullptr;  // of the last try; null: none reached
  int status = 0;                                      // 0: no response was sent
  int64_t start_loop_us = 0;
  int64_t end_loop_us = 0;
  int attempts = 0;
};

void RecordHop(Worker& worker, const HopTrace& trace, const HopEnd& end);

}  // namespace gantry::proxy
