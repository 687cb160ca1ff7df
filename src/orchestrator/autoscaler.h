// Replica counts that follow load (`autoscale:`), decided from what gantry already measures:
// the proxy's request rate for the service and the CPU its replicas use (from their cgroups,
// or /proc). Each observation gives a recommendation,
//   max(ceil(rps / target_rps), ceil(replicas * cpu_utilization / target_cpu)), within
//   [min, max];
// scaling up follows the lowest recommendation of the last `up_window` (fast: 0 s by
// default), scaling down the highest of the last `down_window` (slow: 60 s), as Kubernetes'
// HPA stabilizes; after a change nothing changes for `cooldown`. Every decision says why.
// Control-plane thread only; time is passed in (tests drive it).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include "config/app_spec.h"
#include "core/clock.h"

namespace gantry::orchestrator {

struct LoadSample {
  int replicas = 0;  // running now
  double requests_per_second = 0;
  double cpu_utilization =
      -1;  // mean over replicas, 0..1 of their CPU (limit or one core); <0: unknown
};

struct ScalingDecision {
  int replicas = 0;
  std::string reason;  // "650 req/s over a target of 300 per replica"
};

class Autoscaler {
 public:
  explicit Autoscaler(const config::AutoscaleSpec& spec) : spec_(spec) {}

  // One observation; a decision when the replica count should change now.
  std::optional<ScalingDecision> Observe(Clock::TimePoint now, const LoadSample& sample);

  const config::AutoscaleSpec& spec() const { return spec_; }

 private:
  struct Recommendation {
    Clock::TimePoint at;
    int replicas;
    std::string reason;
  };

  config::AutoscaleSpec spec_;
  std::deque<Recommendation> history_;
  std::optional<Clock::TimePoint> last_change_;
  Clock::TimePoint first_observation_{};
};

}  // namespace gantry::orchestrator
