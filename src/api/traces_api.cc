#include "api/traces_api.h"

#include <algorithm>

#include <boost/json.hpp>

#include "api/json_http.h"

namespace gantry::api {

namespace json = boost::json;

namespace {

constexpr int64_t kDefaultLimit = 20;
constexpr int64_t kMaxLimit = 1000;

json::object SpanJson(const telemetry::SpanRecord& span) {
  bool root = telemetry::IsZero(span.parent_id);
  return json::object{{"span_id", telemetry::Hex(span.span_id)},
                      {"parent_id", root ? std::string() : telemetry::Hex(span.parent_id)},
                      {"kind", span.mesh ? "mesh" : "gateway"},
                      {"service", span.service.view()},
                      {"instance", span.instance.view()},
                      {"method", span.method.view()},
                      {"target", span.target.view()},
                      {"status", span.status},
                      {"start_unix_us", span.start_unix_us},
                      {"duration_us", span.duration_us},
                      {"attempts", span.attempts}};
}

}  // namespace

void HandleTraces(const telemetry::TraceStore& traces, const http::Request& request,
                  std::string_view rest, const http::Respond& respond) {
  if (request.method != "GET" && request.method != "HEAD") {
    return respond(MethodNotAllowed(request, "GET"));
  }
  if (rest.empty() || rest == "/") {
    IntParam limit = ParseIntParam(request.Query(), "limit");
    if (limit.error) return respond(std::move(*limit.error));
    std::string service = QueryParam(request.Query(), "service").value_or("");
    json::array out;
    for (const telemetry::TraceSummary& t :
         traces.List(service, static_cast<size_t>(std::clamp<int64_t>(
                                  limit.value.value_or(kDefaultLimit), 1, kMaxLimit)))) {
      json::array services;
      for (const std::string& s : t.services) services.push_back(json::string(s));
      out.push_back(json::object{{"trace_id", telemetry::Hex(t.trace_id)},
                                 {"root_service", t.root_service},
                                 {"root_target", t.root_target},
                                 {"start_unix_us", t.start_unix_us},
                                 {"duration_us", t.duration_us},
                                 {"spans", t.spans},
                                 {"error", t.error},
                                 {"services", services}});
    }
    return respond(Json(out));
  }
  std::string_view hex = rest.substr(1);
  auto id = telemetry::ParseTraceId(hex);
  if (rest[0] != '/' || !id) {
    return respond(http::JsonError(400, "invalid_argument",
                                   "a trace id is 32 lowercase hex digits: /api/v1/traces/{id}"));
  }
  auto spans = traces.Get(*id);
  if (!spans) {
    return respond(
        http::JsonError(404, "not_found", "no such trace here (not seen, sampled out, or gone)"));
  }
  std::sort(spans->begin(), spans->end(),
            [](const auto& a, const auto& b) { return a.start_unix_us < b.start_unix_us; });
  json::array out;
  for (const telemetry::SpanRecord& span : *spans) out.push_back(SpanJson(span));
  respond(Json(json::object{{"trace_id", std::string(hex)}, {"spans", out}}));
}

http::Response Topology(const telemetry::CallGraph& calls) {
  json::array edges;
  for (const auto& edge : calls.Edges()) {
    edges.push_back(json::object{
        {"from", edge.from}, {"to", edge.to}, {"calls", edge.calls}, {"errors", edge.errors}});
  }
  return Json(json::object{{"edges", std::move(edges)}});
}

}  // namespace gantry::api
