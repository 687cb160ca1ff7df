// Spans as an OTLP/HTTP JSON export request (opentelemetry-proto's ExportTraceServiceRequest in
// its JSON mapping: lowerCamelCase names, ids as hex, 64-bit integers as strings): one
// resourceSpans per service (resource attribute service.name), scope "gantry". A gateway hop is
// a SERVER span, a mesh hop a CLIENT span (the caller's outbound call); 5xx or no response is
// status ERROR. Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "telemetry/trace.h"

namespace gantry::telemetry {

std::string OtlpTracesJson(const std::vector<SpanRecord>& spans, std::string_view version);

}  // namespace gantry::telemetry
