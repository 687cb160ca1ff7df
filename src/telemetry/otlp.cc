#include "telemetry/otlp.h"

#include <map>

#include <boost/json.hpp>

namespace gantry::telemetry {

namespace json = boost::json;

namespace {

constexpr int kKindServer = 2;
constexpr int kKindClient = 3;
constexpr int kStatusError = 2;

json::object Attribute(std::string_view key, std::string_view value) {
  return json::object{{"key", key}, {"value", json::object{{"stringValue", value}}}};
}

json::object IntAttribute(std::string_view key, int64_t value) {
  return json::object{{"key", key}, {"value", json::object{{"intValue", std::to_string(value)}}}};
}

json::object SpanJson(const SpanRecord& s) {
  json::array attributes{Attribute("http.request.method", s.method.view()),
                         Attribute("url.path", s.target.view()),
                         Attribute("gantry.hop", s.mesh ? "mesh" : "gateway"),
                         IntAttribute("gantry.attempts", s.attempts)};
  if (s.status != 0) attributes.push_back(IntAttribute("http.response.status_code", s.status));
  if (s.instance.size > 0) attributes.push_back(Attribute("gantry.instance", s.instance.view()));
  int64_t start_ns = s.start_unix_us * 1000;
  json::object span{{"traceId", Hex(s.trace_id)},
                    {"spanId", Hex(s.span_id)},
                    {"name", std::string(s.method.view()) + " " + std::string(s.target.view())},
                    {"kind", s.mesh ? kKindClient : kKindServer},
                    {"startTimeUnixNano", std::to_string(start_ns)},
                    {"endTimeUnixNano", std::to_string(start_ns + int64_t{s.duration_us} * 1000)},
                    {"attributes", std::move(attributes)},
                    {"status", Failed(s) ? json::object{{"code", kStatusError}} : json::object{}}};
  if (!IsZero(s.parent_id)) span["parentSpanId"] = Hex(s.parent_id);
  return span;
}

}  // namespace

std::string OtlpTracesJson(const std::vector<SpanRecord>& spans, std::string_view version) {
  std::map<std::string, json::array> by_service;
  for (const SpanRecord& span : spans) {
    by_service[std::string(span.service.view())].push_back(SpanJson(span));
  }
  json::array resources;
  for (auto& [service, service_spans] : by_service) {
    resources.push_back(json::object{
        {"resource", json::object{{"attributes", json::array{Attribute("service.name", service)}}}},
        {"scopeSpans",
         json::array{json::object{{"scope", json::object{{"name", "gantry"}, {"version", version}}},
                                  {"spans", std::move(service_spans)}}}}});
  }
  return json::serialize(json::object{{"resourceSpans", std::move(resources)}});
}

}  // namespace gantry::telemetry
