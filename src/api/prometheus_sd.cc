#include "api/prometheus_sd.h"

#include <boost/json.hpp>

#include "api/json_http.h"

namespace gantry::api {

namespace json = boost::json;

http::Response PrometheusTargets(const registry::Registry& registry) {
  json::array groups;
  for (const std::string& service : registry.services()) {
    for (const registry::Instance* instance : registry.InstancesOf(service)) {
      if (instance->health != registry::Health::kHealthy) continue;
      std::string tags = ",";  // Prometheus' convention for list meta labels: ",a,b,"
      for (const std::string& tag : instance->tags) tags += tag + ",";
      groups.push_back(
          json::object{{"targets", json::array{json::string(instance->address.ToString())}},
                       {"labels", json::object{{"service", service},
                                               {"instance", instance->id},
                                               {"__meta_gantry_service", service},
                                               {"__meta_gantry_instance", instance->id},
                                               {"__meta_gantry_tags", tags}}}});
    }
  }
  return Json(groups, registry.index());
}

}  // namespace gantry::api
