// /api/v1/instances: replicas gantry did not start, registered by clients (as Consul's agent
// service registration).
//
//   POST   /instances {"service", "address", "id"?, "tags"?, "check"?, "deregister_after"?}
//          check: {"ttl": "10s"} | {"http": "/healthz", "interval"?, "timeout"?, ...} | {"tcp":
//          true}
//   PUT    /instances/{id}/ttl  {"status": "pass"|"fail", "output"?} (an empty body passes)
//   DELETE /instances/{id}
//
// An instance with a ttl check is held by its own lease of `deregister_after` (default: the
// larger of 1m and 3 TTLs), renewed by each heartbeat: one whose heartbeats stop is unhealthy
// after its TTL and gone after deregister_after. Others stay until deleted.
#pragma once

#include <string_view>

#include "http/server.h"
#include "registry/health_checker.h"
#include "registry/registry_store.h"
#include "store/store.h"

namespace gantry::api {

class InstancesApi {
 public:
  InstancesApi(const registry::Registry& view, registry::RegistryStore& registry,
               registry::HealthChecker& checker, store::Store& store);

  // `rest` is the path after /api/v1/instances.
  void Handle(const http::Request& request, std::string_view rest, const http::Respond& respond);

 private:
  void Register(const http::Request& request, const http::Respond& respond);
  void Heartbeat(const http::Request& request, const std::string& id, const http::Respond& respond);
  void Deregister(const std::string& id, const http::Respond& respond);

  const registry::Registry& view_;
  registry::RegistryStore& registry_;
  registry::HealthChecker& checker_;
  store::Store& store_;
};

}  // namespace gantry::api
