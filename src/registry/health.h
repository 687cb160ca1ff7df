// Health of one instance, and the threshold state machine that decides it from probe results
// so that one flapping probe does not flip traffic. Pure: driven by calls, time passed in.
#pragma once

#include "core/clock.h"

namespace gantry::registry {

enum class Health { kUnknown, kHealthy, kUnhealthy };
const char* HealthName(Health health);

class HealthState {
 public:
  // healthy_after / unhealthy_after: consecutive passes / failures needed to change state.
  HealthState(int healthy_after, int unhealthy_after);

  // Records one probe result; returns true when the health changed.
  bool Record(bool passed, Clock::TimePoint now);

  Health health() const { return health_; }
  Clock::TimePoint changed_at() const { return changed_at_; }

 private:
  int healthy_after_;
  int unhealthy_after_;
  int passes_ = 0;
  int failures_ = 0;
  Health health_ = Health::kUnknown;
  Clock::TimePoint changed_at_{};
};

}  // namespace gantry::registry
