#include "orchestrator/autoscaler.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace gantry::orchestrator {

std::optional<ScalingDecision> Autoscaler::Observe(Clock::TimePoint now, const LoadSample& sample) {
  // What the load asks for now, and why.
  int wanted = spec_.min;
  std::string reason = fmt::format("{:.0f} req/s", sample.requests_per_second);
  if (spec_.target_rps > 0) {
    wanted = std::max(
        wanted, static_cast<int>(std::ceil(sample.requests_per_second / spec_.target_rps - 1e-9)));
    reason = fmt::format("{:.0f} req/s against a target of {:g} per replica",
                         sample.requests_per_second, spec_.target_rps);
  }
  if (spec_.target_cpu > 0 && sample.cpu_utilization >= 0 && sample.replicas > 0) {
    int by_cpu = static_cast<int>(
        std::ceil(sample.replicas * sample.cpu_utilization / spec_.target_cpu - 1e-9));
    if (by_cpu > wanted || spec_.target_rps <= 0) {
      wanted = std::max(wanted, by_cpu);
      reason = fmt::format("CPU at {:.0f}% against a target of {:.0f}% per replica",
                           sample.cpu_utilization * 100, spec_.target_cpu * 100);
    }
  }
  wanted = std::clamp(wanted, spec_.min, spec_.max);
  if (history_.empty() && first_observation_ == Clock::TimePoint{}) first_observation_ = now;
  history_.push_back({now, wanted, reason});
  Duration keep = std::max(spec_.up_window, spec_.down_window);
  while (!history_.empty() && now - history_.front().at > keep) history_.pop_front();

  int current = sample.replicas;
  if (current < spec_.min || current > spec_.max) {  // out of bounds: back in at once
    int target = std::clamp(current, spec_.min, spec_.max);
    last_change_ = now;
    return ScalingDecision{target, fmt::format("bounds [{}, {}]", spec_.min, spec_.max)};
  }
  if (last_change_ && now - *last_change_ < spec_.cooldown) return std::nullopt;

  // Up: the lowest recommendation of the up window (all of them want more). Down: the highest
  // of the down window (all of them agree on fewer).
  const Recommendation* up = nullptr;
  const Recommendation* down = nullptr;
  for (const Recommendation& r : history_) {
    if (now - r.at <= spec_.up_window && (!up || r.replicas < up->replicas)) up = &r;
    if (now - r.at <= spec_.down_window && (!down || r.replicas > down->replicas)) down = &r;
  }
  if (up && up->replicas > current) {
    last_change_ = now;
    return ScalingDecision{up->replicas, up->reason};
  }
  // Down only once a whole window has been watched (a fresh agent knows no history).
  bool watched = now - first_observation_ >= spec_.down_window;
  if (down && down->replicas < current && watched) {
    last_change_ = now;
    return ScalingDecision{down->replicas, fmt::format("{} for the last {}", down->reason,
                                                       FormatDuration(spec_.down_window))};
  }
  return std::nullopt;
}

}  // namespace gantry::orchestrator
