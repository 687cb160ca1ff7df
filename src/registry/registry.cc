#include "registry/registry.h"

namespace gantry::registry {

void Registry::DeclareService(const std::string& service) {
  if (services_.insert(service).second) Changed();
}

void Registry::Upsert(Instance instance) {
  services_.insert(instance.service);
  auto [it, added] = instances_.try_emplace(instance.id);
  if (!added && it->second == instance) return;
  it->second = std::move(instance);
  Changed();
}

void Registry::Remove(const std::string& id) {
  if (instances_.erase(id)) Changed();
}

const Instance* Registry::Find(const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}

std::vector<const Instance*> Registry::InstancesOf(const std::string& service) const {
  std::vector<const Instance*> out;
  for (const auto& [id, instance] : instances_) {
    if (instance.service == service) out.push_back(&instance);
  }
  return out;
}

bool Registry::HasHealthy(const std::string& service) const {
  for (const auto* instance : InstancesOf(service)) {
    if (instance->health == Health::kHealthy) return true;
  }
  return false;
}

void Registry::Changed() {
  ++index_;
  for (const auto& listener : listeners_) listener();
}

}  // namespace gantry::registry
