#include "proxy/snapshot_builder.h"

#include <algorithm>

namespace gantry::proxy {

namespace {

// The runtime `previous` gave the same replica at the same address, or a new one.
std::shared_ptr<EndpointRuntime> RuntimeFor(const Snapshot* previous, const std::string& service,
                                            const std::string& id, const std::string& key,
                                            size_t workers) {
  if (previous) {
    if (const Cluster* cluster = previous->FindCluster(service)) {
      for (const Endpoint& endpoint : cluster->endpoints) {
        if (endpoint.instance_id == id && endpoint.key == key) return endpoint.runtime;
      }
    }
  }
  return std::make_shared<EndpointRuntime>(workers);
}

}  // namespace

std::shared_ptr<Snapshot> BuildSnapshot(const config::AppSpec& spec,
                                        const registry::Registry& registry,
                                        const Snapshot* previous, size_t workers) {
  auto snapshot = std::make_shared<Snapshot>();
  for (const auto& service : spec.services) {
    Cluster cluster;
    cluster.service = service.name;
    for (const registry::Instance* instance : registry.InstancesOf(service.name)) {
      if (instance->health != registry::Health::kHealthy) continue;
      auto socket_address = net::ToSocketAddress(instance->address);
      if (!socket_address.ok()) continue;  // registration accepts IP literals only
      Endpoint endpoint;
      endpoint.instance_id = instance->id;
      endpoint.address = instance->address;
      endpoint.key = instance->address.ToString();
      endpoint.socket_address = *socket_address;
      endpoint.runtime = RuntimeFor(previous, service.name, instance->id, endpoint.key, workers);
      cluster.endpoints.push_back(std::move(endpoint));
    }
    cluster.lb = service.lb;
    if (!cluster.endpoints.empty()) {
      std::vector<std::string> keys;
      keys.reserve(cluster.endpoints.size());
      for (const auto& endpoint : cluster.endpoints) keys.push_back(endpoint.key);
      if (service.lb.policy == config::LbSpec::Policy::kRingHash) {
        cluster.ring = std::make_shared<RingHash>(keys);
      } else if (service.lb.policy == config::LbSpec::Policy::kMaglev) {
        cluster.maglev = std::make_shared<Maglev>(keys);
      }
    }
    snapshot->cluster_by_service[service.name] = snapshot->clusters.size();
    snapshot->clusters.push_back(std::move(cluster));
  }
  for (const auto& route_spec : spec.gateway.routes) {
    Route route;
    route.host = route_spec.host;
    route.prefix = route_spec.path;
    route.cluster = snapshot->cluster_by_service.at(route_spec.service);
    route.strip_prefix = route_spec.strip_prefix;
    snapshot->routes.push_back(std::move(route));
  }
  std::stable_sort(
      snapshot->routes.begin(), snapshot->routes.end(),
      [](const Route& a, const Route& b) { return a.prefix.size() > b.prefix.size(); });
  return snapshot;
}

}  // namespace gantry::proxy
