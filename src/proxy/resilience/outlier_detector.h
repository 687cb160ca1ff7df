// Outlier detection (policy.outlier), decided on the control plane: workers count consecutive
// 5xx and gateway errors per endpoint and report one that reaches its service's threshold; the
// detector ejects it for base_ejection * 2^(n-1) (n: its ejections, forgiven one per
// base_ejection of good behaviour, at most 300 s), never ejecting more than
// max_ejection_percent of the service's endpoints (at least one when the percentage is above
// 0). Ejected endpoints are left out of the snapshots until their time is up.
// Control-plane thread only; time comes from the injected Clock.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "config/app_spec.h"
#include "core/clock.h"

namespace gantry::proxy {

class OutlierDetector {
 public:
  static constexpr Duration kMaxEjection{std::chrono::seconds(300)};

  explicit OutlierDetector(const Clock& clock) : clock_(clock) {}

  // `instance` of `service` reached a threshold; `endpoints` is how many the service has
  // (ejected ones included). True when it is now ejected (rebuild the snapshot).
  bool Report(const std::string& service, const std::string& instance,
              const config::OutlierSpec& spec, size_t endpoints);

  bool IsEjected(const std::string& service, const std::string& instance) const;
  size_t EjectedCount(const std::string& service) const;
  // Ejections of `service`'s endpoints since the agent started (for /metrics).
  uint64_t EjectionsTotal(const std::string& service) const;

  // Ends the ejections whose time is up. True when any ended (rebuild the snapshot).
  bool Expire();
  // When the next ejection ends, if any is running.
  std::optional<Clock::TimePoint> NextExpiry() const;

  // Forgets endpoints that are gone from the registry.
  void Forget(const std::string& service, const std::string& instance);

 private:
  std::map<std::string, uint64_t> ejections_total_;
  struct State {
    int ejections = 0;  // how many times, after forgiveness
    bool ejected = false;
    Clock::TimePoint until{};
    Clock::TimePoint last_change{};  // ejected or returned
    Duration base{0};
  };
  using Key = std::pair<std::string, std::string>;

  const Clock& clock_;
  std::map<Key, State> states_;
};

}  // namespace gantry::proxy
