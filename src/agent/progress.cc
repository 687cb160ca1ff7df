#include "agent/progress.h"

#include <cstdio>

#include <fmt/format.h>

#include "ui/dashboard.h"

namespace gantry::agent {

void Progress::Line(const std::string& text) {
  std::fputs((text + "\n").c_str(), stdout);
  std::fflush(stdout);
}

void Progress::Started(const orchestrator::ReplicaView& replica) {
  last_health_.erase(replica.id);  // a new process: its health is not known yet
  Line(fmt::format("  {:<16} started    pid {} on {}", replica.id, replica.pid,
                   replica.address.ToString()));
}

void Progress::Exited(const orchestrator::ReplicaView& replica, const std::string& why,
                      bool stopping) {
  // The next process of this replica starts unknown, even when the registry sees it healthy
  // before the next call to HealthChanges (old one healthy, new one healthy): that is a
  // transition the supervisor waits for.
  last_health_.erase(replica.id);
  Line(fmt::format("  {:<16} {}    {}", replica.id, stopping ? "stopped" : "exited ", why));
}

void Progress::FailedToStart(const std::string& id, const std::string& error) {
  Line(fmt::format("  {:<16} failed     {}", id, error));
}

std::map<std::string, registry::Health> Progress::HealthChanges(
    const registry::Registry& registry) {
  std::map<std::string, registry::Health> changed;
  std::map<std::string, registry::Health> now;
  for (const auto& service : registry.services()) {
    for (const auto* instance : registry.InstancesOf(service)) {
      now[instance->id] = instance->health;
      auto it = last_health_.find(instance->id);
      registry::Health before = it == last_health_.end() ? registry::Health::kUnknown : it->second;
      if (instance->health != before) {
        changed[instance->id] = instance->health;
        Line(fmt::format("  {:<16} {:<10} {}", instance->id, registry::HealthName(instance->health),
                         instance->check_output));
      }
    }
  }
  last_health_ = std::move(now);
  return changed;
}

void Progress::MaybeReady(const registry::Registry& registry, const HostPort& gateway,
                          const HostPort& mesh, const HostPort& api) {
  if (ready_printed_) return;
  for (const auto& service : spec_.services) {
    auto instances = registry.InstancesOf(service.name);
    int healthy = 0;
    for (const auto* instance : instances)
      healthy += instance->health == registry::Health::kHealthy;
    if (healthy < service.replicas) return;
  }
  ready_printed_ = true;
  Line(fmt::format("ready: app \"{}\"", spec_.name));
  Line(fmt::format("  gateway   {}://{}/", spec_.gateway.tls.empty() ? "http" : "https",
                   gateway.ToString()));
  for (const auto& route : spec_.gateway.routes) {
    Line(fmt::format("            {}{} -> {}", route.host.empty() ? "" : route.host, route.path,
                     route.service));
  }
  Line(fmt::format("  mesh      http://{}/  (HTTP_PROXY for replicas)", mesh.ToString()));
  Line(fmt::format("  api       http://{}/api/v1/services", api.ToString()));
  if (ui::DashboardBuilt()) Line(fmt::format("  dashboard http://{}/ui/", api.ToString()));
  Line(detached_ ? std::string(kDetachedReadyLine) : "press Ctrl-C to stop");
}

}  // namespace gantry::agent
