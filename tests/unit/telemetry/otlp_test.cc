#include "telemetry/otlp.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace gantry::telemetry {
namespace {

namespace json = boost::json;

TEST(Otlp, SpansBecomeAnExportRequestPerService) {
  SpanRecord gateway;
  gateway.trace_id.fill(0xab);
  gateway.span_id.fill(0x01);
  gateway.start_unix_us = 1'700'000'000'000'000;
  gateway.duration_us = 1500;
  gateway.status = 502;
  gateway.method.Set("GET");
  gateway.target.Set("/a");
  gateway.service.Set("front");
  gateway.instance.Set("front-1");
  SpanRecord mesh = gateway;
  mesh.span_id.fill(0x02);
  mesh.parent_id = gateway.span_id;
  mesh.mesh = true;
  mesh.status = 200;
  mesh.service.Set("back");
  json::value doc = json::parse(OtlpTracesJson({gateway, mesh}, "0.1.0"));
  const json::array& resources = doc.at("resourceSpans").as_array();
  ASSERT_EQ(resources.size(), 2u);  // back, front
  auto service_of = [](const json::value& r) {
    return r.at("resource").at("attributes").at(0).at("value").at("stringValue").as_string();
  };
  EXPECT_EQ(service_of(resources[0]), "back");
  EXPECT_EQ(service_of(resources[1]), "front");
  const json::object& scope = resources[1].at("scopeSpans").at(0).as_object();
  EXPECT_EQ(scope.at("scope").at("name").as_string(), "gantry");
  const json::object& span = scope.at("spans").at(0).as_object();
  EXPECT_EQ(span.at("traceId").as_string(), "abababababababababababababababab");
  EXPECT_EQ(span.at("spanId").as_string(), "0101010101010101");
  EXPECT_FALSE(span.contains("parentSpanId"));  // a root
  EXPECT_EQ(span.at("name").as_string(), "GET /a");
  EXPECT_EQ(span.at("kind").as_int64(), 2);  // SERVER: the gateway
  EXPECT_EQ(span.at("startTimeUnixNano").as_string(), "1700000000000000000");
  EXPECT_EQ(span.at("endTimeUnixNano").as_string(), "1700000000001500000");
  EXPECT_EQ(span.at("status").at("code").as_int64(), 2);  // ERROR: a 502
  const json::object& child = resources[0].at("scopeSpans").at(0).at("spans").at(0).as_object();
  EXPECT_EQ(child.at("parentSpanId").as_string(), "0101010101010101");
  EXPECT_EQ(child.at("kind").as_int64(), 3);  // CLIENT: the mesh hop
  EXPECT_TRUE(child.at("status").as_object().empty());
  bool has_status_code = false;
  for (const json::value& a : child.at("attributes").as_array()) {
    if (a.at("key").as_string() == "http.response.status_code") {
      has_status_code = a.at("value").at("intValue").as_string() == "200";
    }
  }
  EXPECT_TRUE(has_status_code);
}

}  // namespace
}  // namespace gantry::telemetry
