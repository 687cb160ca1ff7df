#include "config/app_spec.h"

namespace gantry::config {

const ServiceSpec* AppSpec::FindService(std::string_view service_name) const {
  for (const auto& service : services) {
    if (service.name == service_name) return &service;
  }
  return nullptr;
}

ServiceIndex::ServiceIndex(const AppSpec& spec) {
  by_name_.reserve(spec.services.size());
  for (const auto& service : spec.services) by_name_.emplace(service.name, &service);
}

const char* RestartPolicyName(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::kAlways:
      return "always";
    case RestartPolicy::kOnFailure:
      return "on-failure";
    case RestartPolicy::kNever:
      return "never";
  }
  return "?";
}

}  // namespace gantry::config
