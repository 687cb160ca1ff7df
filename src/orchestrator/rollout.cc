// Rolling replacement of a service's replicas (Supervisor::Restart): surge, batches, each
// healthy before the next, hitless stops. Part of Supervisor.
#include <fmt/format.h>

#include "core/status.h"
#include "net/asio.h"
#include "orchestrator/supervisor.h"
#include "orchestrator/supervisor_replica.h"

namespace gantry::orchestrator {

void Supervisor::Restart(const std::string& service, std::function<void(absl::Status)> done) {
  const config::ServiceSpec* spec = spec_->FindService(service);
  if (!spec) return done(absl::NotFoundError(fmt::format("no service named \"{}\"", service)));
  StartRollout(*spec, std::move(done));
}

void Supervisor::StartRollout(const config::ServiceSpec& target,
                              std::function<void(absl::Status)> done) {
  const std::string& service = target.name;
  const config::ServiceSpec* spec = &target;
  if (stopping_all_) return done(absl::FailedPreconditionError("the app is stopping"));
  if (rollouts_.count(service)) {
    return done(absl::FailedPreconditionError(
        fmt::format("service \"{}\" is already being restarted", service)));
  }
  if (!started_services_.count(service)) {
    return done(absl::FailedPreconditionError(
        fmt::format("service \"{}\" has not started yet (waiting for its dependencies)", service)));
  }
  auto rollout = std::make_unique<Rollout>(io_);
  rollout->service = service;
  rollout->target = spec;
  rollout->done = std::move(done);
  int wanted = DesiredReplicas(service);
  for (int index = 1; index <= wanted; ++index) rollout->pending.push_back(index);
  Rollout& r = *rollout;
  rollouts_[service] = std::move(rollout);
  if (options_.events) {
    options_.events->Add("rollout", service, "",
                         fmt::format("restarting {} replicas (max_surge {}, max_unavailable {})",
                                     wanted, spec->update.max_surge, spec->update.max_unavailable));
  }
  // Surge replicas first, numbered after the wanted ones; they leave at the end.
  for (int k = 1; k <= spec->update.max_surge && wanted > 0; ++k) {
    int index = wanted + k;
    Replica* replica = FindReplica(*spec, index);
    if (!replica)
      replica = replicas_.emplace_back(std::make_unique<Replica>(io_, *spec, index)).get();
    replica->scaled_away = false;
    replica->service = spec;
    r.surge.push_back(index);
    r.waiting[index] = replica->view.pid;
    if (replica->view.pid == 0) {
      replica->planned_start = true;
      Start(*replica);
    } else {  // scaled away a moment ago (apply lowered the count) and still stopping
      replica->start_after_exit = true;
    }
  }
  if (r.waiting.empty()) return NextBatch(r);
  r.deadline.expires_after(spec->update.deadline);
  r.deadline.async_wait(
      [this, service, limit = spec->update.deadline](const boost::system::error_code& ec) {
        if (ec) return;
        FinishRollout(service, absl::DeadlineExceededError(
                                   fmt::format("a new replica of \"{}\" was not healthy within {}",
                                               service, FormatDuration(limit))));
      });
}

Supervisor::Replica* Supervisor::FindReplica(const config::ServiceSpec& service, int index) {
  for (auto& replica : replicas_) {
    if (replica->index == index && replica->view.service == service.name) return replica.get();
  }
  return nullptr;
}

void Supervisor::RestartReplica(Rollout& rollout, Replica& replica) {
  rollout.waiting[replica.index] = replica.view.pid;
  replica.service = rollout.target;  // it starts again with the rollout's settings
  if (replica.view.pid == 0) {       // not running (in its restart backoff): start it now
    replica.restart_timer.cancel();
    replica.planned_start = true;
    Start(replica);
    return;
  }
  replica.start_after_exit = true;
  Stop(replica);
}

void Supervisor::NextBatch(Rollout& rollout) {
  const config::ServiceSpec& spec = *rollout.target;
  if (rollout.pending.empty()) return FinishRollout(rollout.service, absl::OkStatus());
  size_t batch =
      static_cast<size_t>(std::max(1, spec.update.max_surge + spec.update.max_unavailable));
  for (size_t i = 0; i < batch && !rollout.pending.empty(); ++i) {
    int index = rollout.pending.front();
    rollout.pending.pop_front();
    if (Replica* replica = FindReplica(spec, index)) {
      ++rollout.replaced;
      RestartReplica(rollout, *replica);
    }
  }
  if (rollout.waiting.empty()) return NextBatch(rollout);
  rollout.deadline.expires_after(spec.update.deadline);
  rollout.deadline.async_wait([this, service = rollout.service,
                               limit = spec.update.deadline](const boost::system::error_code& ec) {
    if (ec) return;
    FinishRollout(service, absl::DeadlineExceededError(
                               fmt::format("a new replica of \"{}\" was not healthy within {}",
                                           service, FormatDuration(limit))));
  });
}

void Supervisor::FinishRollout(const std::string& service, absl::Status status) {
  auto it = rollouts_.find(service);
  if (it == rollouts_.end()) return;
  std::unique_ptr<Rollout> rollout = std::move(it->second);
  rollouts_.erase(it);
  rollout->deadline.cancel();
  const config::ServiceSpec& spec = *rollout->target;
  for (int index : rollout->surge) {  // the extra replicas leave, hitlessly
    if (Replica* replica = FindReplica(spec, index)) {
      Remove(*replica);
    }
  }
  if (options_.events) {
    options_.events->Add("rollout", service, "",
                         status.ok() ? fmt::format("done: {} replicas replaced", rollout->replaced)
                                     : fmt::format("stopped: {}", StatusMessage(status)));
  }
  rollout->done(std::move(status));
}

}  // namespace gantry::orchestrator
