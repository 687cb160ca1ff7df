// Supervisor::Apply: a running app switches to a changed app file. Part of Supervisor.
#include <fmt/format.h>

#include "core/status.h"
#include "orchestrator/supervisor.h"
#include "orchestrator/supervisor_replica.h"

namespace gantry::orchestrator {

absl::Status Supervisor::CanApply() const {
  if (stopping_all_) return absl::FailedPreconditionError("the app is stopping");
  if (!rollouts_.empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "service \"{}\" is being restarted; apply after that", rollouts_.begin()->first));
  }
  return absl::OkStatus();
}

void Supervisor::Apply(const config::AppSpec& next, const std::set<std::string>& replace,
                       std::function<void(absl::Status)> done) {
  if (auto refused = CanApply(); !refused.ok()) return done(refused);
  const config::AppSpec& before = *spec_;
  spec_ = &next;
  // Services that are gone: their replicas stop (hitlessly) and are forgotten.
  for (const auto& service : before.services) {
    if (next.FindService(service.name)) continue;
    for (auto& replica : replicas_) {
      if (replica->service->name != service.name || replica->scaled_away) continue;
      Remove(*replica);
    }
    desired_.erase(service.name);
    limits_.erase(service.name);
    started_services_.erase(service.name);
    if (options_.events) options_.events->Add("removed", service.name, "", "by apply");
  }
  struct Pending {
    int rollouts = 0;
    absl::Status first_failure;
    std::function<void(absl::Status)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  pending->rollouts = 1;  // held until every rollout below has begun
  auto finish_one = [pending](const absl::Status& status) {
    if (!status.ok() && pending->first_failure.ok()) pending->first_failure = status;
    if (--pending->rollouts == 0) pending->done(pending->first_failure);
  };
  for (const auto& service : next.services) {
    if (!before.FindService(
            service.name)) {  // new: StartReady starts it once its dependencies are healthy
      desired_[service.name] = service.replicas;
      limits_[service.name] = service.resources;
      for (int i = 1; i <= service.replicas; ++i) {
        replicas_.push_back(std::make_unique<Replica>(io_, service, i));
      }
      if (options_.events) options_.events->Add("added", service.name, "", "by apply");
      continue;
    }
    bool rollout = replace.count(service.name) > 0 && started_services_.count(service.name);
    // In-place settings: every replica takes the new ones now; for a rollout, replicas keep
    // the old ones until each is replaced.
    for (auto& replica : replicas_) {
      if (replica->service->name == service.name && !rollout) replica->service = &service;
    }
    const ResourceLimits& limits = service.resources;
    if (limits.cpus != limits_[service.name].cpus ||
        limits.memory != limits_[service.name].memory) {
      if (auto status = SetResources(service.name, limits);
          !status.ok() && pending->first_failure.ok()) {
        pending->first_failure = status;
      }
    }
    if (service.replicas != desired_[service.name]) {
      (void)Scale(service.name, service.replicas, "apply");
    }
    if (rollout) {
      ++pending->rollouts;
      StartRollout(service, finish_one);
    }
  }
  finish_one(absl::OkStatus());
}

}  // namespace gantry::orchestrator
