#include "orchestrator/supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <fmt/format.h>
#include <boost/asio/signal_set.hpp>

#include "core/log.h"
#include "core/size.h"
#include "core/status.h"
#include "net/asio.h"
#include "net/listen.h"
#include "orchestrator/backoff.h"
#include "orchestrator/proc_stats.h"
#include "orchestrator/process.h"
#include "orchestrator/supervisor_replica.h"

namespace gantry::orchestrator {

const char* ReplicaStateName(ReplicaState state) {
  switch (state) {
    case ReplicaState::kStarting:
      return "starting";
    case ReplicaState::kRunning:
      return "running";
    case ReplicaState::kStopping:
      return "stopping";
    case ReplicaState::kExited:
      return "exited";
    case ReplicaState::kWaiting:
      return "waiting";
    case ReplicaState::kFailed:
      return "failed";
  }
  return "?";
}

struct Supervisor::Reaper {
  explicit Reaper(net::asio::io_context& io) : signals(io, SIGCHLD) {}
  net::asio::signal_set signals;
};

Supervisor::Supervisor(net::asio::io_context& io, Clock& clock, const config::AppSpec& spec,
                       SupervisorOptions options, SupervisorEvents events)
    : io_(io),
      clock_(clock),
      spec_(&spec),
      options_(std::move(options)),
      events_(std::move(events)),
      base_env_(CurrentEnvironment()),
      reaper_(std::make_unique<Reaper>(io)) {
  std::filesystem::create_directories(options_.state_dir / "logs");
  for (const auto& service : spec_->services) {
    desired_[service.name] = service.replicas;
    limits_[service.name] = service.resources;
    for (int i = 1; i <= service.replicas; ++i) {
      replicas_.push_back(std::make_unique<Replica>(io_, service, i));
    }
  }
  WaitForChildren();
}

Supervisor::~Supervisor() { KillAll(); }

void Supervisor::WaitForChildren() {
  reaper_->signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    Reap();
    WaitForChildren();
  });
}

void Supervisor::Reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (auto& replica : replicas_) {
      if (replica->view.pid == pid) OnExit(*replica, status);
    }
  }
}

void Supervisor::StartReady(const std::function<bool(const std::string&)>& has_healthy) {
  if (stopping_all_) return;
  for (const auto& service : spec_->services) {
    if (started_services_.count(service.name)) continue;
    std::vector<std::string> unready;
    for (const std::string& dependency : service.depends_on) {
      if (!has_healthy(dependency)) unready.push_back(dependency);
    }
    if (!unready.empty()) {
      std::string reason =
          fmt::format("waiting for {} to be healthy (depends_on)", fmt::join(unready, ", "));
      for (auto& replica : replicas_) {
        if (replica->service->name != service.name || replica->view.pid != 0) continue;
        replica->view.state = ReplicaState::kWaiting;
        replica->view.reason = reason;
      }
      continue;
    }
    started_services_.insert(service.name);
    for (auto& replica : replicas_) {
      // Adopted ones are running already.
      if (replica->service->name == service.name && replica->view.pid == 0) Start(*replica);
    }
  }
}

std::vector<std::string> Supervisor::EnvironmentFor(const Replica& replica) const {
  std::map<std::string, std::string> vars;
  for (const auto& entry : base_env_) {
    size_t eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [key, value] : replica.service->env) vars[key] = value;
  std::string mesh = options_.mesh.ToString();
  std::string proxy = "http://" + mesh;
  std::string no_proxy = "localhost,127.0.0.1,::1";
  vars["PORT"] = std::to_string(replica.view.address.port);
  vars["GANTRY_SERVICE"] = replica.service->name;
  vars["GANTRY_INSTANCE"] = replica.view.id;
  vars["GANTRY_MESH"] = mesh;
  vars["GANTRY_API"] = "http://" + options_.api.ToString();
  vars["HTTP_PROXY"] = vars["http_proxy"] = proxy;  // curl reads only the lower-case one
  vars["NO_PROXY"] = vars["no_proxy"] = no_proxy;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [key, value] : vars) {
    std::string& entry = out.emplace_back(key);
    entry += '=';
    entry += value;
  }
  return out;
}

void Supervisor::Start(Replica& replica) {
  if (stopping_all_) return;
  auto port = net::PickFreePort();
  std::string error;
  if (port.ok()) {
    replica.view.address = {"127.0.0.1", *port};
    ProcessSpec process{replica.service->command,
                        EnvironmentFor(replica),
                        spec_->directory,
                        options_.state_dir / "logs" / (replica.view.id + ".log"),
                        {}};
    absl::Status limited = absl::OkStatus();
    const ResourceLimits& limits = limits_[replica.service->name];
    process.die_with_parent = !options_.replicas_outlive_agent;
    // Groups for every replica where there are cgroups (how all of its processes are found
    // when it ends); without limits, a replica starts without them if they cannot be made.
    if (limits.any() || HasCgroups()) {
      absl::StatusOr<std::vector<std::filesystem::path>> procs =
          HasCgroups() ? options_.cgroups->Prepare(replica.view.id, limits)
                       : absl::FailedPreconditionError("CPU and memory limits need cgroups");
      if (procs.ok()) {
        process.cgroup_procs = std::move(*procs);
      } else if (limits.any()) {
        limited = procs.status();
      }
    }
    absl::StatusOr<pid_t> pid = limited.ok() ? SpawnProcess(process) : limited;
    if (pid.ok()) {
      // A replacement (a rollout's, a replica scaled back in) is not a restart.
      bool restart = replica.ever_started && !replica.planned_start;
      if (restart) ++replica.view.restarts;
      Record(restart ? "restarted" : "started", replica,
             fmt::format("pid {} on {}", *pid, replica.view.address.ToString()));
      replica.ever_started = true;
      replica.planned_start = false;
      replica.view.reason.clear();
      replica.stop_requested = false;
      replica.view.pid = *pid;
      replica.view.state = ReplicaState::kStarting;
      replica.view.started_at = clock_.Now();
      replica.start_time = ProcessStartTime(*pid).value_or(0);
      SaveRecords();
      events_.started(replica.view);
      return;
    }
    error = std::string(StatusMessage(pid.status()));
  } else {
    error = std::string(StatusMessage(port.status()));
  }
  // Could not start: counts as a failed run, retried with backoff like a crash.
  replica.view.last_exit = error;
  replica.view.state = ReplicaState::kFailed;
  replica.view.reason = "cannot start: " + error;
  Record("failed", replica, "cannot start: " + error);
  events_.failed_to_start(replica.view.id, error);
  if (replica.service->restart == config::RestartPolicy::kNever) return;
  ScheduleRestart(replica);
}

void Supervisor::ScheduleRestart(Replica& replica) {
  replica.restart_timer.expires_after(replica.backoff.OnExit(clock_.Now()));
  replica.restart_timer.async_wait([this, &replica](const boost::system::error_code& ec) {
    if (!ec) Start(replica);
  });
}

void Supervisor::OnHealthy(const std::string& id, bool healthy) {
  for (auto& replica : replicas_) {
    if (replica->view.id != id || replica->view.pid == 0) continue;
    if (healthy) {
      if (auto it = rollouts_.find(replica->service->name); it != rollouts_.end()) {
        Rollout& rollout = *it->second;
        auto waiting = rollout.waiting.find(replica->index);
        // Healthy as a new process: not the one the step began with.
        if (waiting != rollout.waiting.end() && waiting->second != replica->view.pid) {
          rollout.waiting.erase(waiting);
          if (rollout.waiting.empty())
            net::asio::post(io_, [this, service = rollout.service] {
              if (auto r = rollouts_.find(service); r != rollouts_.end()) NextBatch(*r->second);
            });
        }
      }
      replica->backoff.OnHealthy(clock_.Now());
      if (replica->view.state == ReplicaState::kStarting)
        replica->view.state = ReplicaState::kRunning;
    } else {
      replica->backoff.OnUnhealthy();
    }
  }
}

void Supervisor::OnExit(Replica& replica, int wait_status) {
  replica.kill_timer.cancel();
  // A replica is its main process: as a container's processes die with its PID 1, whatever is
  // left of the process group (the leader's pid is the group id) is killed now.
  SignalProcessGroup(replica.view.pid, SIGKILL);
  bool unknown = wait_status == kExitStatusUnknown;
  std::string why = unknown ? "exited (adopted from an earlier agent: its exit status is unknown)"
                            : DescribeWaitStatus(wait_status);
  bool oom = false;
  if (HasCgroups()) {
    // Those that left the process group too (setsid), as a container's processes die with it.
    options_.cgroups->KillAll(replica.view.id);
    // The kernel's OOM killer sends SIGKILL; the group's counter says whether it did.
    auto usage = options_.cgroups->Usage(replica.view.id);
    oom = usage && usage->oom_kills > 0 && !unknown && WIFSIGNALED(wait_status);
    if (oom) {
      why = fmt::format("killed by the kernel: out of memory (limit {})",
                        FormatSize(limits_[replica.service->name].memory));
      Record("oom", replica, why);
      ++replica.view.oom_kills;
    }
    RemoveCgroupOf(replica.view.id, 0);  // a restart starts with fresh counters
  }
  replica.view.pid = 0;
  replica.view.state = ReplicaState::kExited;
  replica.pidfd.reset();
  SaveRecords();
  replica.view.last_exit = why;
  Record("exited", replica, why);
  events_.exited(replica.view, why);
  // An unknown status counts as a failure (restarted by `always` and `on-failure`).
  bool restart = !stopping_all_ && !replica.stop_requested &&
                 (unknown ? replica.service->restart != config::RestartPolicy::kNever
                          : ShouldRestart(replica.service->restart, wait_status));
  if (restart) ScheduleRestart(replica);
  if (replica.scaled_away) Forget(replica);
  if (replica.start_after_exit && !stopping_all_) {
    replica.start_after_exit = false;
    replica.planned_start = true;
    Start(replica);
  }
  MaybeFinishStopping();
}

bool Supervisor::HasCgroups() const {
  return options_.cgroups && options_.cgroups->version() != CgroupVersion::kNone;
}

// Killed processes leave their group a moment later: the removal is tried again for a while,
// unless the replica runs again (in the same group) by then.
void Supervisor::RemoveCgroupOf(const std::string& id, int attempt) {
  for (const auto& replica : replicas_) {
    if (replica->view.id == id && replica->view.pid != 0) return;
  }
  if (options_.cgroups->Remove(id) || attempt >= 50) return;
  auto timer = std::make_shared<net::asio::steady_timer>(io_, std::chrono::milliseconds(20));
  timer->async_wait([this, timer, id, attempt,
                     alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (!ec && !alive.expired()) RemoveCgroupOf(id, attempt + 1);
  });
}

void Supervisor::Record(const char* kind, const Replica& replica, std::string message) {
  if (options_.events) {
    options_.events->Add(kind, replica.service->name, replica.view.id, std::move(message));
  }
}

void Supervisor::Remove(Replica& replica) {
  replica.scaled_away = true;
  replica.start_after_exit = false;
  if (replica.view.pid == 0) {
    Forget(replica);
  } else {
    Stop(replica);  // hitlessly; forgotten once it has exited
  }
}

void Supervisor::Forget(Replica& replica) {
  // Not now: the caller (and pending timers' handlers) may still hold it. Its timers are
  // cancelled; the erase runs once they have run.
  replica.restart_timer.cancel();
  replica.kill_timer.cancel();
  net::asio::post(io_, [this, target = &replica] {
    std::erase_if(replicas_, [&](const auto& r) {
      return r.get() == target && r->scaled_away && r->view.pid == 0;
    });
  });
}

absl::Status Supervisor::SetResources(const std::string& service, const ResourceLimits& limits) {
  if (!spec_->FindService(service)) {
    return absl::NotFoundError(fmt::format("no service named \"{}\"", service));
  }
  if (limits.any() && (!options_.cgroups || options_.cgroups->version() == CgroupVersion::kNone)) {
    return absl::FailedPreconditionError("CPU and memory limits need cgroups, and none were found");
  }
  ResourceLimits& current = limits_[service];
  bool had_limits = current.any();
  current = limits;
  for (auto& replica : replicas_) {
    if (replica->service->name != service || replica->view.pid == 0) continue;
    absl::Status status;
    if (had_limits) {
      status = options_.cgroups->SetLimits(replica->view.id, limits);
    } else if (limits.any()) {  // started without a group: make one and move it in
      auto procs = options_.cgroups->Prepare(replica->view.id, limits);
      status = procs.ok() ? options_.cgroups->MoveProcessGroup(replica->view.id, replica->view.pid)
                          : procs.status();
    }
    if (!status.ok()) return status;
  }
  if (options_.events) {
    options_.events->Add(
        "resources", service, "",
        fmt::format("cpus {}, memory {}",
                    limits.cpus > 0 ? fmt::format("{:g}", limits.cpus) : "unlimited",
                    limits.memory > 0 ? FormatSize(limits.memory) : "unlimited"));
  }
  return absl::OkStatus();
}

ResourceLimits Supervisor::LimitsOf(const std::string& service) const {
  auto it = limits_.find(service);
  return it == limits_.end() ? ResourceLimits{} : it->second;
}

std::optional<ProcStats> Supervisor::Usage(const std::string& id) const {
  for (const auto& replica : replicas_) {
    if (replica->view.id != id) continue;
    if (replica->view.pid == 0) return std::nullopt;
    if (options_.cgroups && LimitsOf(replica->service->name).any()) {
      if (auto usage = options_.cgroups->Usage(id)) {
        return ProcStats{usage->cpu_seconds, usage->memory_bytes};
      }
    }
    return ReadProcStats(replica->view.pid);
  }
  return std::nullopt;
}

int Supervisor::DesiredReplicas(const std::string& service) const {
  auto it = desired_.find(service);
  return it == desired_.end() ? 0 : it->second;
}

absl::Status Supervisor::Scale(const std::string& service, int count, const std::string& reason) {
  const config::ServiceSpec* spec = spec_->FindService(service);
  if (!spec) return absl::NotFoundError(fmt::format("no service named \"{}\"", service));
  if (count < 0) return absl::InvalidArgumentError("replicas must not be negative");
  if (stopping_all_) return absl::FailedPreconditionError("the app is stopping");
  if (rollouts_.count(service)) {
    return absl::FailedPreconditionError(
        fmt::format("service \"{}\" is being restarted; scale it after that", service));
  }
  if (options_.events && count != desired_[service]) {
    options_.events->Add(
        "scaled", service, "",
        reason.empty() ? fmt::format("{} -> {} replicas", desired_[service], count)
                       : fmt::format("{} -> {} replicas: {}", desired_[service], count, reason));
  }
  desired_[service] = count;
  // The replicas that stay are numbered 1..count, as `replicas: N` in the app file would give.
  std::map<int, Replica*> by_index;
  for (auto& replica : replicas_) {
    if (replica->service->name != spec->name) continue;
    by_index[replica->index] = replica.get();
    if (replica->index <= count || replica->scaled_away) continue;
    Remove(*replica);
  }
  bool started = started_services_.count(service) > 0;
  for (int index = 1; index <= count; ++index) {
    auto found = by_index.find(index);
    if (found == by_index.end()) {
      auto& replica = replicas_.emplace_back(std::make_unique<Replica>(io_, *spec, index));
      if (started) Start(*replica);
      continue;
    }
    Replica& replica = *found->second;
    if (!replica.scaled_away) continue;
    // Scaled away a moment ago: the same id comes back, after the old process has exited
    // (ids are unique among live replicas).
    replica.scaled_away = false;
    if (replica.view.pid != 0) {
      replica.start_after_exit = true;
    } else if (started) {
      replica.planned_start = true;
      Start(replica);
    }
  }
  return absl::OkStatus();
}

void Supervisor::Stop(Replica& replica) {
  replica.stop_requested = true;
  replica.restart_timer.cancel();
  if (replica.view.pid == 0) return;
  replica.view.state = ReplicaState::kStopping;
  Record("stopping", replica, "leaving routing; SIGTERM once its requests are done");
  events_.stopping(replica.view, [&replica, pid = replica.view.pid] {
    if (replica.view.pid != pid) return;  // it exited meanwhile
    SignalProcessGroup(pid, SIGTERM);
    replica.kill_timer.expires_after(replica.service->stop_grace);
    replica.kill_timer.async_wait([&replica](const boost::system::error_code& ec) {
      if (!ec && replica.view.pid != 0) SignalProcessGroup(replica.view.pid, SIGKILL);
    });
  });
}

void Supervisor::StopAll(std::function<void()> done) {
  stopping_all_ = true;
  while (!rollouts_.empty()) {
    FinishRollout(rollouts_.begin()->first, absl::AbortedError("the app is stopping"));
  }
  stopped_ = std::move(done);
  for (auto& replica : replicas_) Stop(*replica);
  MaybeFinishStopping();
}

void Supervisor::MaybeFinishStopping() {
  if (!stopping_all_ || !stopped_) return;
  for (const auto& replica : replicas_) {
    if (replica->view.pid != 0) return;
  }
  auto done = std::move(stopped_);
  stopped_ = nullptr;
  done();
}

void Supervisor::KillAll() {
  stopping_all_ = true;
  for (auto& replica : replicas_) {
    replica->restart_timer.cancel();
    if (replica->view.pid != 0) SignalProcessGroup(replica->view.pid, SIGKILL);
    if (HasCgroups()) options_.cgroups->KillAll(replica->view.id);
  }
}

std::vector<ReplicaView> Supervisor::Replicas() const {
  std::vector<ReplicaView> out;
  for (const auto& replica : replicas_) out.push_back(replica->view);
  return out;
}

}  // namespace gantry::orchestrator
