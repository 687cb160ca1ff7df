#include "agent/autoscaling.h"

namespace gantry::agent {

Autoscaling::Autoscaling(net::asio::io_context& io, const config::AppSpec& spec,
                         orchestrator::Supervisor& supervisor,
                         const proxy::SnapshotStore& snapshots)
    : timer_(io), supervisor_(supervisor), snapshots_(snapshots) {
  for (const auto& service : spec.services) {
    if (!service.autoscale.enabled) continue;
    services_[service.name].autoscaler =
        std::make_unique<orchestrator::Autoscaler>(service.autoscale);
  }
}

void Autoscaling::Start() {
  if (services_.empty()) return;
  Tick();
}

void Autoscaling::Stop() {
  stopped_ = true;
  timer_.cancel();
}

void Autoscaling::Tick() {
  if (stopped_) return;
  Clock::TimePoint now = Clock::Real().Now();
  for (auto& [name, service] : services_) {
    if (now < service.next) continue;
    service.next = now + service.autoscaler->spec().interval;
    orchestrator::LoadSample sample = Measure(name, service, now);
    if (sample.replicas < 0) continue;  // the first look: nothing to compare with yet
    if (auto decision = service.autoscaler->Observe(now, sample)) {
      // Refused while the service is being restarted; the next look tries again.
      (void)supervisor_.Scale(name, decision->replicas, decision->reason);
    }
  }
  timer_.expires_after(std::chrono::milliseconds(100));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

orchestrator::LoadSample Autoscaling::Measure(const std::string& name, Service& service,
                                              Clock::TimePoint now) {
  orchestrator::LoadSample sample;
  double elapsed = std::chrono::duration<double>(now - service.measured).count();
  bool first = service.measured == Clock::TimePoint{};
  service.measured = now;
  // Requests: the proxy's per-service counter, merged over its workers.
  std::shared_ptr<const proxy::Snapshot> snapshot = snapshots_.Load();
  const proxy::Cluster* cluster = snapshot->FindCluster(name);
  uint64_t requests = cluster ? cluster->runtime->stats.Merge().requests : 0;
  bool same_counter = cluster && cluster->runtime.get() == service.runtime;
  if (cluster) service.runtime = cluster->runtime.get();
  if (!first && same_counter && elapsed > 0) {
    sample.requests_per_second = static_cast<double>(requests - service.requests) / elapsed;
  }
  service.requests = requests;
  // CPU: each running replica's use since the last look, as a share of its limit (or a core).
  double limit = supervisor_.LimitsOf(name).cpus;
  if (limit <= 0) limit = 1;
  std::map<std::string, double> cpu_now;
  double utilization = 0;
  int measured = 0;
  sample.replicas = 0;
  for (const auto& replica : supervisor_.Replicas()) {
    if (replica.service != name || replica.pid == 0 ||
        replica.state == orchestrator::ReplicaState::kStopping) {
      continue;
    }
    ++sample.replicas;
    auto usage = supervisor_.Usage(replica.id);
    if (!usage) continue;
    double cpu = usage->cpu_seconds;
    cpu_now[replica.id] = cpu;
    auto before = service.cpu_seconds.find(replica.id);
    if (before != service.cpu_seconds.end() && elapsed > 0 && cpu >= before->second) {
      utilization += (cpu - before->second) / elapsed / limit;
      ++measured;
    }
  }
  service.cpu_seconds = std::move(cpu_now);
  sample.cpu_utilization = measured > 0 ? utilization / measured : -1;
  if (first) sample.replicas = -1;
  return sample;
}

}  // namespace gantry::agent
