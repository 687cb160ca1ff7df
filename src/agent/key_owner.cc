#include "agent/key_owner.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/json_http.h"
#include "proxy/owner.h"

namespace gantry::agent {

http::Response KeyOwnerAnswer(const proxy::Snapshot& snapshot, const std::string& service,
                              const std::string& key) {
  const proxy::Cluster* cluster = snapshot.FindCluster(service);
  if (!cluster) {
    return http::JsonError(404, "unknown_service", fmt::format("no service named \"{}\"", service));
  }
  proxy::KeyOwner owner = proxy::OwnerOf(*cluster, key);
  if (!owner.endpoint) {
    return http::JsonError(503, "no_healthy_upstream",
                           fmt::format("no healthy replica of service \"{}\"", service));
  }
  namespace json = boost::json;
  return api::Json(json::object{{"service", service},
                                {"key", key},
                                {"instance", owner.endpoint->instance_id},
                                {"address", owner.endpoint->key},
                                {"algorithm", std::string(owner.algorithm)}});
}

}  // namespace gantry::agent
