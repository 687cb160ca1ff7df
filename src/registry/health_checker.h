// Runs each watched instance's health probe on the control-plane loop and feeds the results
// through a HealthState into the Registry. Until an instance has first passed, it is probed
// every 100 ms (capped by its interval) so that a new replica takes traffic as soon as it can.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/app_spec.h"
#include "registry/registry.h"

namespace boost::asio {
class io_context;
}

namespace gantry::registry {

class HealthChecker {
 public:
  HealthChecker(boost::asio::io_context& io, Clock& clock, Registry& registry);
  ~HealthChecker();

  // Starts probing a registered instance. With no check configured it is healthy at once.
  void Watch(const std::string& instance_id, const config::HealthSpec& spec);
  void Unwatch(const std::string& instance_id);

 private:
  struct Check;
  void Schedule(const std::shared_ptr<Check>& check);
  void Probe(const std::shared_ptr<Check>& check);
  void OnResult(const std::shared_ptr<Check>& check, bool passed, std::string output);

  boost::asio::io_context& io_;
  Clock& clock_;
  Registry& registry_;
  std::map<std::string, std::shared_ptr<Check>> checks_;
};

}  // namespace gantry::registry
