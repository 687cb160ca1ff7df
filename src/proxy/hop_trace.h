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

// Continues `traceparent` (a request's field, "" when absent; a malformed one starts anew).
HopTrace StartHop(Worker& worker, std::string_view traceparent, std::string_view method,
                  std::string_view target);

struct HopEnd {
  bool mesh = false;
  std::string_view service;
  std::string_view instance;  // the replica of the last try, "" when none was reached
  int status = 0;             // 0: no response was sent
  int64_t start_loop_us = 0;
  int64_t end_loop_us = 0;
  int attempts = 0;
};

void RecordHop(Worker& worker, const HopTrace& trace, const HopEnd& end);

}  // namespace gantry::proxy
