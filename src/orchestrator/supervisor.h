// Runs the app's replicas: starts each service once its dependencies are healthy, restarts
// exited replicas per policy with backoff, stops them (SIGTERM, SIGKILL after stop_grace).
// Control-plane thread only; it reaps children on SIGCHLD itself.
#pragma once

#include <sys/types.h>

#include <climits>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config/app_spec.h"
#include "core/address.h"
#include "core/clock.h"
#include "core/duration.h"
#include "orchestrator/cgroups.h"
#include "orchestrator/event_log.h"
#include "orchestrator/proc_stats.h"
#include "orchestrator/replica_records.h"

namespace boost::asio {
class io_context;
}

namespace gantry::orchestrator {

// kWaiting: not started yet (its depends_on are not healthy); kFailed: could not be started
// (the command cannot run), retried with backoff; kExited: exited (restarted by its policy).
enum class ReplicaState { kWaiting, kStarting, kRunning, kStopping, kExited, kFailed };
const char* ReplicaStateName(ReplicaState state);

// A replica as `ps` shows it.
struct ReplicaView {
  std::string id;
  std::string service;
  pid_t pid = 0;  // 0 while not running
  HostPort address;
  ReplicaState state = ReplicaState::kStarting;
  int restarts = 0;
  int oom_kills = 0;  // exits the kernel's OOM killer caused (cgroup limits), this agent's run
  Clock::TimePoint started_at{};
  std::string last_exit;  // "exited with code 1", or "" if it never exited
  std::string reason;     // why it is waiting or failed ("" otherwise)
};

struct SupervisorOptions {
  std::filesystem::path state_dir;      // logs go to state_dir/logs/<id>.log
  HostPort mesh;                        // GANTRY_MESH, HTTP_PROXY
  HostPort api;                         // GANTRY_API
  EventLog* events = nullptr;           // where starts, exits, stops and scaling are recorded
  Cgroups* cgroups = nullptr;           // for `resources`; null: limits are refused
  bool replicas_outlive_agent = false;  // detached: replicas survive the agent, to be adopted
};

struct SupervisorEvents {
  std::function<void(const ReplicaView&)> started;  // process is up: register it
  // Deregister, then call `proceed` (SIGTERM follows): callers leave routing before the signal.
  std::function<void(const ReplicaView&, std::function<void()> proceed)> stopping;
  std::function<void(const ReplicaView&, const std::string&)> exited;  // with why; deregister
  std::function<void(const std::string& id, const std::string& error)> failed_to_start;
};

class Supervisor {
 public:
  Supervisor(boost::asio::io_context& io, Clock& clock, const config::AppSpec& spec,
             SupervisorOptions options, SupervisorEvents events);
  ~Supervisor();

  // Takes over replicas an earlier agent on this state folder left running (it was killed):
  // each record whose process is still there with the same start time becomes the replica of
  // that id, with no restart; the others are started as usual. Before the first StartReady.
  // Returns the adopted replicas.
  std::vector<ReplicaView> Adopt(const std::vector<ReplicaRecord>& records);
  // Starts every service not started yet whose dependencies each have a healthy replica.
  void StartReady(const std::function<bool(const std::string& service)>& has_healthy);
  // Health news from the registry: for backoff reset and the starting -> running state.
  void OnHealthy(const std::string& id, bool healthy);
  // Stops every replica gracefully; `done` runs once none is left.
  void StopAll(std::function<void()> done);
  // Second Ctrl-C: SIGKILL every replica now.
  void KillAll();
  // Sets a service's replica count: new replicas start at once (once the service has started),
  // the highest-numbered ones stop gracefully (the stopping event first). An unknown service is
  // NotFound.
  absl::Status Scale(const std::string& service, int replicas, const std::string& reason = "");
  int DesiredReplicas(const std::string& service) const;
  // Changes a service's CPU and memory limits, in place for running replicas (no restart).
  absl::Status SetResources(const std::string& service, const ResourceLimits& limits);
  ResourceLimits LimitsOf(const std::string& service) const;
  // A running replica's CPU time and memory: from its cgroup when it has one (its children
  // included), else from /proc (the process alone); nullopt when it does not run.
  std::optional<ProcStats> Usage(const std::string& id) const;
  // Replaces every replica of `service` without dropping a request: `update.max_surge` extra
  // replicas first, then batches of (max_surge + max_unavailable) stopped hitlessly and started
  // again, each batch healthy before the next; then the extra ones leave. A batch not healthy
  // within update.deadline stops the rollout. `done` gets the outcome.
  void Restart(const std::string& service, std::function<void(absl::Status)> done);
  // Switches to `next` (which must outlive the supervisor): removed services stop, new ones
  // start at the next StartReady, replica counts and limits follow, and the services named in
  // `replace` get their replicas replaced with the new settings (a rollout each; one whose new
  // replicas do not become healthy stops). `done` once every rollout has ended (with the first
  // failure, if any): to roll back, the caller applies the previous app again.
  void Apply(const config::AppSpec& next, const std::set<std::string>& replace,
             std::function<void(absl::Status)> done);
  // Why Apply would refuse now (the app is stopping, or a rollout is running), else OK: the
  // caller asks before it changes anything of its own.
  absl::Status CanApply() const;

  std::vector<ReplicaView> Replicas() const;  // by service order, then index
  bool AllStarted() const { return started_services_.size() == spec_->services.size(); }

 private:
  struct Replica;
  void Start(Replica& replica);
  void Stop(Replica& replica);
  // Starts the replica again after its backoff delay.
  void ScheduleRestart(Replica& replica);
  void Reap();
  void OnExit(Replica& replica, int wait_status);
  void WaitForChildren();
  void MaybeFinishStopping();
  void Remove(Replica& replica);        // scaled away, removed by apply, or a rollout's surge
  void WatchAdopted(Replica& replica);  // exits of a process that is not our child (pidfd)
  // OnExit's status for an adopted replica: not our child, so its exit status is unknown.
  static constexpr int kExitStatusUnknown = INT_MIN;
  void SaveRecords() const;
  void Forget(Replica& replica);  // a removed replica that has exited
  struct Rollout;
  Replica* FindReplica(const config::ServiceSpec& service, int index);
  void RestartReplica(Rollout& rollout, Replica& replica);
  // A rollout that starts replicas with `target` (Restart: the same settings; Apply: new ones).
  void StartRollout(const config::ServiceSpec& target, std::function<void(absl::Status)> done);
  void NextBatch(Rollout& rollout);
  void FinishRollout(const std::string& service, absl::Status status);
  void Record(const char* kind, const Replica& replica, std::string message);
  std::vector<std::string> EnvironmentFor(const Replica& replica) const;
  bool HasCgroups() const;
  void RemoveCgroupOf(const std::string& id, int attempt);
  // After adoption: an earlier agent's groups not of a live replica (what a killed agent's
  // replicas left running) are killed and removed.
  void CleanUpCgroups(const std::vector<ReplicaRecord>& records);
  void RemoveCgroupLeftovers(int attempt);

  boost::asio::io_context& io_;
  Clock& clock_;
  const config::AppSpec* spec_;  // the newest applied; earlier ones stay alive (the caller's)
  SupervisorOptions options_;
  SupervisorEvents events_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::set<std::string> started_services_;
  std::map<std::string, int> desired_;  // replicas per service (the app file's, then scale's)
  std::map<std::string, std::unique_ptr<Rollout>> rollouts_;  // by service
  std::map<std::string, ResourceLimits> limits_;  // by service: the app file's, then scale's
  std::vector<std::string> base_env_;
  struct Reaper;
  std::unique_ptr<Reaper> reaper_;
  bool stopping_all_ = false;
  std::function<void()> stopped_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for timers that outlive it
};

}  // namespace gantry::orchestrator
