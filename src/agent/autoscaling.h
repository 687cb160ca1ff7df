// Runs the autoscalers of the services that have `autoscale:`: every `interval` it measures
// each one's request rate (the proxy's counters) and CPU use (its replicas' cgroups, else
// /proc) and lets its Autoscaler decide; decisions go to the supervisor as scaling with a
// reason (an event). Control-plane thread only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/app_spec.h"
#include "net/asio.h"
#include "orchestrator/autoscaler.h"
#include "orchestrator/supervisor.h"
#include "proxy/snapshot.h"

namespace gantry::agent {

class Autoscaling {
 public:
  Autoscaling(net::asio::io_context& io, const config::AppSpec& spec,
              orchestrator::Supervisor& supervisor, const proxy::SnapshotStore& snapshots);
  void Start();
  void Stop();

 private:
  struct Service {
    std::unique_ptr<orchestrator::Autoscaler> autoscaler;
    Clock::TimePoint next{};
    const proxy::ClusterRuntime* runtime = nullptr;  // whose counter `requests` came from
    uint64_t requests = 0;
    Clock::TimePoint measured{};
    std::map<std::string, double> cpu_seconds;  // per replica, at `measured`
  };
  void Tick();
  orchestrator::LoadSample Measure(const std::string& name, Service& service, Clock::TimePoint now);

  net::asio::steady_timer timer_;
  orchestrator::Supervisor& supervisor_;
  const proxy::SnapshotStore& snapshots_;
  std::map<std::string, Service> services_;
  bool stopped_ = false;
};

}  // namespace gantry::agent
