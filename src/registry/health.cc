#include "registry/health.h"

#include <algorithm>

namespace gantry::registry {

const char* HealthName(Health health) {
  switch (health) {
    case Health::kUnknown:
      return "unknown";
    case Health::kHealthy:
      return "healthy";
    case Health::kUnhealthy:
      return "unhealthy";
  }
  return "?";
}

HealthState::HealthState(int healthy_after, int unhealthy_after)
    : healthy_after_(std::max(1, healthy_after)), unhealthy_after_(std::max(1, unhealthy_after)) {}

bool HealthState::Record(bool passed, Clock::TimePoint now) {
  Health next = health_;
  if (passed) {
    failures_ = 0;
    if (++passes_ >= healthy_after_) next = Health::kHealthy;
  } else {
    passes_ = 0;
    if (++failures_ >= unhealthy_after_) next = Health::kUnhealthy;
  }
  if (next == health_) return false;
  health_ = next;
  changed_at_ = now;
  return true;
}

}  // namespace gantry::registry
