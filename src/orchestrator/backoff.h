// When to restart a replica that exited: 100 ms, doubling per consecutive failure, at most 30 s;
// the count starts over once a replica has run healthy for 10 s. Pure: time is passed in.
#pragma once

#include <optional>

#include "config/app_spec.h"
#include "core/clock.h"
#include "core/duration.h"

namespace gantry::orchestrator {

class RestartBackoff {
 public:
  static constexpr Duration kInitial{100};
  static constexpr Duration kMax{30'000};
  static constexpr Duration kResetAfter{10'000};

  // The replica turned healthy (now) or stopped being healthy.
  void OnHealthy(Clock::TimePoint now);
  void OnUnhealthy() { healthy_since_.reset(); }
  // The replica exited at `now`: the delay before starting it again.
  Duration OnExit(Clock::TimePoint now);

 private:
  int failures_ = 0;
  std::optional<Clock::TimePoint> healthy_since_;
};

// Whether a replica that exited with `wait_status` (from waitpid) is started again.
bool ShouldRestart(config::RestartPolicy policy, int wait_status);

}  // namespace gantry::orchestrator
