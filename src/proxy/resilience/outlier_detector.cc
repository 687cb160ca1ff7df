#include "proxy/resilience/outlier_detector.h"

#include <algorithm>

namespace gantry::proxy {

size_t OutlierDetector::EjectedCount(const std::string& service) const {
  size_t count = 0;
  for (auto it = states_.lower_bound({service, ""});
       it != states_.end() && it->first.first == service; ++it) {
    if (it->second.ejected) ++count;
  }
  return count;
}

uint64_t OutlierDetector::EjectionsTotal(const std::string& service) const {
  auto it = ejections_total_.find(service);
  return it == ejections_total_.end() ? 0 : it->second;
}

bool OutlierDetector::Report(const std::string& service, const std::string& instance,
                             const config::OutlierSpec& spec, size_t endpoints) {
  if (!spec.enabled) return false;
  State& state = states_[{service, instance}];
  if (state.ejected) return false;
  size_t allowed = endpoints * static_cast<size_t>(spec.max_ejection_percent) / 100;
  if (spec.max_ejection_percent > 0) allowed = std::max<size_t>(allowed, 1);
  if (EjectedCount(service) + 1 > allowed) return false;
  Clock::TimePoint now = clock_.Now();
  if (state.ejections > 0 && spec.base_ejection.count() > 0) {  // forgiveness for good time
    auto good = std::chrono::duration_cast<Duration>(now - state.last_change);
    state.ejections =
        std::max<int>(0, state.ejections - static_cast<int>(good / spec.base_ejection));
  }
  ++state.ejections;
  Duration length = spec.base_ejection * (int64_t{1} << std::min(state.ejections - 1, 20));
  length = std::min(length, kMaxEjection);
  state.ejected = true;
  ++ejections_total_[service];
  state.until = now + length;
  state.last_change = now;
  state.base = spec.base_ejection;
  return true;
}

bool OutlierDetector::IsEjected(const std::string& service, const std::string& instance) const {
  auto it = states_.find({service, instance});
  return it != states_.end() && it->second.ejected;
}

bool OutlierDetector::Expire() {
  Clock::TimePoint now = clock_.Now();
  bool changed = false;
  for (auto& [key, state] : states_) {
    if (state.ejected && state.until <= now) {
      state.ejected = false;
      state.last_change = now;
      changed = true;
    }
  }
  return changed;
}

std::optional<Clock::TimePoint> OutlierDetector::NextExpiry() const {
  std::optional<Clock::TimePoint> next;
  for (const auto& [key, state] : states_) {
    if (state.ejected && (!next || state.until < *next)) next = state.until;
  }
  return next;
}

void OutlierDetector::Forget(const std::string& service, const std::string& instance) {
  states_.erase({service, instance});
}

}  // namespace gantry::proxy
