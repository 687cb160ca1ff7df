// /api/v1/traces: the agent's recent traces (telemetry::TraceStore: errors and slow ones kept,
// the rest sampled).
//   GET /api/v1/traces?service=S&limit=N -> [{"trace_id", "root_service", "root_target",
//       "start_unix_us", "duration_us", "spans", "error", "services"}], newest first (limit 20
//       by default, at most 1000)
//   GET /api/v1/traces/{trace id, 32 hex} -> {"trace_id", "spans": [{"span_id", "parent_id"
//       ("" for a root), "kind" (gateway | mesh), "service", "instance", "method", "target",
//       "status", "start_unix_us", "duration_us", "attempts"}]} by start time; 404 if unknown
//   GET /api/v1/topology -> {"edges": [{"from", "to", "calls", "errors"}]}: calls between
//       services since the agent started (telemetry::CallGraph), by caller then callee
// Control-plane thread only.
#pragma once

#include <string_view>

#include "http/message.h"
#include "http/server.h"
#include "telemetry/call_graph.h"
#include "telemetry/trace_store.h"

namespace gantry::api {

void HandleTraces(const telemetry::TraceStore& traces, const http::Request& request,
                  std::string_view rest, const http::Respond& respond);
http::Response Topology(const telemetry::CallGraph& calls);

}  // namespace gantry::api
