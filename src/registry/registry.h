// Where every replica is and whether it is healthy. Plain state, control-plane thread only;
// every change bumps the index and notifies the listeners (who publish proxy snapshots).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "registry/health.h"

namespace gantry::registry {

struct Instance {
  std::string id;
  std::string service;
  HostPort address;
  std::vector<std::string> tags;
  Health health = Health::kUnknown;
  std::string check_output;  // the last probe's result, e.g. "HTTP 200"
  Clock::TimePoint health_changed_at{};
};

class Registry {
 public:
  using Listener = std::function<void()>;

  // A service is listed even while it has no instance (scaled to zero, all crashed).
  void DeclareService(const std::string& service);
  // Registers an instance, or replaces the one with the same id.
  void Upsert(Instance instance);
  void Remove(const std::string& id);
  // Returns true when the health changed (the output alone is recorded without notifying).
  bool SetHealth(const std::string& id, Health health, std::string output, Clock::TimePoint now);

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
