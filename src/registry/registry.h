// Where every replica is and whether it is healthy: the in-memory view every reader uses (the
// proxy's snapshots, the API), fed from the store by RegistryStore. Plain state, control-plane
// thread only; every change bumps the index and notifies the listeners.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/app_spec.h"
#include "core/address.h"
#include "registry/health.h"

namespace gantry::registry {

struct Instance {
  std::string id;
  std::string service;
  HostPort address;
  std::vector<std::string> tags;
  Health health = Health::kUnknown;
  std::string check_output;  // the last probe's result, e.g. "HTTP 200"
  std::chrono::system_clock::time_point health_changed_at{};  // wall clock: stored and shown
  // Passed its check at least once: until then it takes no traffic, even in panic routing
  // (a replica still starting would only fail the requests sent to it).
  bool ever_healthy = false;
  std::string source = "gantry";  // "gantry": a replica gantry runs; "api": registered by a client
  uint32_t weight = 1;            // relative share of traffic (1..1000)
  config::HealthSpec check;       // how its health is decided

  friend bool operator==(const Instance&, const Instance&) = default;
};

class Registry {
 public:
  using Listener = std::function<void()>;

  // A service is listed even while it has no instance (scaled to zero, all crashed).
  void DeclareService(const std::string& service);
  // Registers an instance, or replaces the one with the same id.
  void Upsert(Instance instance);
  void Remove(const std::string& id);

  const Instance* Find(const std::string& id) const;
  std::vector<const Instance*> InstancesOf(const std::string& service) const;  // by id
  const std::set<std::string>& services() const { return services_; }
  bool HasHealthy(const std::string& service) const;
  uint64_t index() const { return index_; }

  void OnChange(Listener listener) { listeners_.push_back(std::move(listener)); }

 private:
  void Changed();

  std::map<std::string, Instance> instances_;
  std::set<std::string> services_;
  uint64_t index_ = 1;
  std::vector<Listener> listeners_;
};

}  // namespace gantry::registry
