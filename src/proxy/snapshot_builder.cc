#include "proxy/snapshot_builder.h"

#include <algorithm>
#include <chrono>

namespace gantry::proxy {
namespace {

// The runtime `previous` gave the same replica at the same address, or a new one.
std::shared_ptr<EndpointRuntime> EndpointRuntimeFor(const Cluster* previous, const std::string& id,
                                                    const std::string& key, size_t workers) {
  if (previous) {
    for (const Endpoint& endpoint : previous->endpoints) {
      if (endpoint.instance_id == id && endpoint.key == key) return endpoint.runtime;
    }
  }
  return std::make_shared<EndpointRuntime>(workers);
}

std::shared_ptr<ClusterRuntime> ClusterRuntimeFor(const Cluster* previous,
                                                  const config::PolicySpec& policy,
                                                  size_t workers) {
  if (previous && previous->runtime && previous->runtime->policy == policy) {
    return previous->runtime;
  }
  return std::make_shared<ClusterRuntime>(policy, workers);
}

std::shared_ptr<RouteRuntime> RouteRuntimeFor(const Snapshot* previous,
                                              const config::RouteSpec& spec, size_t workers) {
  if (previous) {
    for (const Route& route : previous->routes) {
      const config::RouteSpec& old = route.runtime->spec;
      if (old.path == spec.path && old.host == spec.host && old.service == spec.service &&
          old.rate_limit == spec.rate_limit) {
        return route.runtime;
      }
    }
  }
  return std::make_shared<RouteRuntime>(spec, workers);
}

int64_t UnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void AddEndpoint(Cluster& cluster, const registry::Instance& instance, const Cluster* previous,
                 size_t workers) {
  auto socket_address = net::ToSocketAddress(instance.address);
  if (!socket_address.ok()) return;  // registrations are checked to be IP literals
  Endpoint endpoint;
  endpoint.instance_id = instance.id;
  endpoint.instance_text.Set(endpoint.instance_id);
  endpoint.key = instance.address.ToString();
  endpoint.socket_address = *socket_address;
  endpoint.weight = std::max<uint32_t>(1, instance.weight);
  endpoint.healthy_since_unix_ms = UnixMs(instance.health_changed_at);
  endpoint.runtime = EndpointRuntimeFor(previous, instance.id, endpoint.key, workers);
  cluster.endpoints.push_back(std::move(endpoint));
}

void BuildBalancers(Cluster& cluster) {
  if (cluster.endpoints.empty()) return;
  std::vector<std::string> keys;
  std::vector<uint32_t> weights;
  for (const auto& endpoint : cluster.endpoints) {
    keys.push_back(endpoint.key);
    weights.push_back(endpoint.weight);
    if (endpoint.weight != cluster.endpoints.front().weight) cluster.weighted = true;
  }
  if (cluster.policy.lb.policy == config::LbSpec::Policy::kRingHash) {
    cluster.ring = std::make_shared<coord::RingHash>(keys, 160, weights);
  } else if (cluster.policy.lb.policy == config::LbSpec::Policy::kMaglev) {
    cluster.maglev = std::make_shared<coord::Maglev>(keys);
  }
}

}  // namespace

std::shared_ptr<Snapshot> BuildSnapshot(const config::AppSpec& spec,
                                        const registry::Registry& registry,
                                        const Snapshot* previous, size_t workers,
                                        const OutlierDetector* outliers) {
  auto snapshot = std::make_shared<Snapshot>();
  for (const auto& service : spec.services) {
    const Cluster* before = previous ? previous->FindCluster(service.name) : nullptr;
    Cluster cluster;
    cluster.service = service.name;
    cluster.service_text.Set(cluster.service);
    cluster.policy = service.policy;
    cluster.grpc = service.protocol == config::ServiceSpec::Protocol::kGrpc;
    cluster.runtime = ClusterRuntimeFor(before, service.policy, workers);
    // Healthy and not ejected take traffic. "Failing" ones (unhealthy or ejected, after having
    // been healthy once) count for the panic threshold and take traffic in panic; replicas that
    // never passed their check (still starting) do neither.
    std::vector<const registry::Instance*> healthy;
    std::vector<const registry::Instance*> failing;
    for (const registry::Instance* instance : registry.InstancesOf(service.name)) {
      bool ejected = outliers && outliers->IsEjected(service.name, instance->id);
      if (instance->health == registry::Health::kHealthy && !ejected) {
        healthy.push_back(instance);
      } else if (instance->ever_healthy &&
                 (instance->health == registry::Health::kUnhealthy || ejected)) {
        failing.push_back(instance);
      }
    }
    size_t total = healthy.size() + failing.size();
    cluster.panic = total > 0 && healthy.size() * 100 <
                                     static_cast<size_t>(service.policy.panic_threshold) * total;
    std::vector<const registry::Instance*> chosen = healthy;
    if (cluster.panic) {
      chosen.insert(chosen.end(), failing.begin(), failing.end());
      std::sort(chosen.begin(), chosen.end(),
                [](const auto* a, const auto* b) { return a->id < b->id; });
    }
    for (const registry::Instance* instance : chosen) {
      AddEndpoint(cluster, *instance, before, workers);
    }
    if (service.policy.slow_start.count() > 0) {
      for (const Endpoint& endpoint : cluster.endpoints) {
        cluster.slow_start_until_unix_ms =
            std::max(cluster.slow_start_until_unix_ms,
                     endpoint.healthy_since_unix_ms + service.policy.slow_start.count());
      }
    }
    BuildBalancers(cluster);
    snapshot->cluster_by_service[service.name] = snapshot->clusters.size();
    snapshot->clusters.push_back(std::move(cluster));
  }
  for (const auto& route_spec : spec.gateway.routes) {
    Route route;
    route.host = route_spec.host;
    route.prefix = route_spec.path;
    route.cluster = snapshot->cluster_by_service.at(route_spec.service);
    route.strip_prefix = route_spec.strip_prefix;
    route.methods = route_spec.methods;
    route.runtime = RouteRuntimeFor(previous, route_spec, workers);
    snapshot->routes.push_back(std::move(route));
  }
  std::stable_sort(
      snapshot->routes.begin(), snapshot->routes.end(),
      [](const Route& a, const Route& b) { return a.prefix.size() > b.prefix.size(); });
  return snapshot;
}

}  // namespace gantry::proxy
