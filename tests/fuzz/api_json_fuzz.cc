// The agent API's request bodies and queries: every JSON body goes through ParseObject with its
// endpoint's fields, then the field readers (durations, strings); queries through the blocking
// and integer parameter readers; the registry's instance records (read back from the store)
// through InstanceFromJson, which must read back what InstanceToJson writes.
#include <string>

#include <boost/json.hpp>

#include "api/blocking.h"
#include "api/json_http.h"
#include "fuzz.h"
#include "registry/instance_json.h"

namespace api = gantry::api;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(AsText(data, size));
  // The endpoints' field lists: locks, leases, scale, instances, TTL checks.
  for (auto allowed : {std::initializer_list<std::string_view>{"ttl", "wait", "value"},
                       {"replicas", "cpus", "memory"},
                       {"service", "address", "id", "tags", "check", "deregister_after", "weight"},
                       {"status", "output"}}) {
    auto parsed = api::ParseObject(body, allowed);
    if (auto* object = std::get_if<boost::json::object>(&parsed)) {
      (void)api::DurationField(*object, "ttl", std::chrono::seconds(10));
      (void)api::DurationField(*object, "wait", gantry::Duration(0));
      (void)api::StringField(*object, "value");
      (void)api::StringField(*object, "service");
    } else {
      FUZZ_CHECK(std::get<gantry::http::Response>(parsed).status / 100 == 4);
    }
  }
  (void)api::ParseBlocking(body);
  (void)api::ParseIntParam(body, "token");
  (void)api::QueryParam(body, "prefix");
  (void)api::PercentDecode(body);
  (void)api::Segments(body);
  auto instance = gantry::registry::InstanceFromJson(body);
  if (instance.ok()) {
    auto again = gantry::registry::InstanceFromJson(gantry::registry::InstanceToJson(*instance));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->id == instance->id && again->address == instance->address);
  }
  return 0;
}
