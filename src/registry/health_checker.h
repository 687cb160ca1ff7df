// Decides each watched instance's health on the control-plane loop: probes (http, tcp, grpc)
// through a HealthState so one flap does not flip traffic, or heartbeats (ttl) that must come
// within the TTL. Reports each change of health or output through a callback; writing it down
// (to the store) is the caller's business. Until an instance has first passed a probe, it is
// probed every 100 ms (capped by its interval) so that a new replica takes traffic as soon as
// it can.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "config/app_spec.h"
#include "core/address.h"
#include "core/clock.h"
#include "registry/health.h"

namespace boost::asio {
class io_context;
}

namespace gantry::registry {

class HealthChecker {
 public:
  using OnChange =
      std::function<void(const std::string& id, Health health, const std::string& output)>;
  HealthChecker(boost::asio::io_context& io, Clock& clock, OnChange on_change);
  ~HealthChecker();

  // Starts deciding an instance's health. With no check configured it is healthy at once; a
  // ttl check starts unknown and waits for its first heartbeat.
  void Watch(const std::string& id, const HostPort& address, const config::HealthSpec& spec);
  void Unwatch(const std::string& id);

  // A ttl check's heartbeat: the instance passes (or fails) and its TTL starts over.
  // NotFound for an unknown instance, FailedPrecondition when its check is not a ttl check.
  absl::Status Heartbeat(const std::string& id, bool passed, std::string output);

 private:
  struct Check;
  void Schedule(const std::shared_ptr<Check>& check);
  void Probe(const std::shared_ptr<Check>& check);
  void OnResult(const std::shared_ptr<Check>& check, bool passed, const std::string& output);
  void ArmTtl(const std::shared_ptr<Check>& check);
  void Report(Check& check, Health health, const std::string& output);

  boost::asio::io_context& io_;
  Clock& clock_;
  OnChange on_change_;
  std::map<std::string, std::shared_ptr<Check>> checks_;
};

}  // namespace gantry::registry
