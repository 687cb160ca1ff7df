// W3C traceparent (telemetry/trace.h): what parses formats back to a version-00 header that
// parses to the same context.
#include "fuzz.h"
#include "telemetry/trace.h"

namespace telemetry = gantry::telemetry;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = telemetry::ParseTraceParent(AsText(data, size));
  if (!parsed) return 0;
  FUZZ_CHECK(!telemetry::IsZero(parsed->trace_id) && !telemetry::IsZero(parsed->span_id));
  char text[telemetry::kTraceParentSize];
  telemetry::FormatTraceParent(*parsed, text);
  auto again = telemetry::ParseTraceParent({text, sizeof text});
  FUZZ_CHECK(again && again->trace_id == parsed->trace_id && again->span_id == parsed->span_id &&
             again->flags == parsed->flags);
  return 0;
}
