// Adoption: replicas an earlier (killed) agent left running become this agent's, without a
// restart. Part of Supervisor.
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "core/log.h"
#include "core/status.h"
#include "net/asio.h"
#include "orchestrator/proc_stats.h"
#include "orchestrator/process.h"
#include "orchestrator/supervisor.h"
#include "orchestrator/supervisor_replica.h"

namespace gantry::orchestrator {

std::vector<ReplicaView> Supervisor::Adopt(const std::vector<ReplicaRecord>& records) {
  std::vector<ReplicaView> adopted;
  std::set<std::string> services;
  for (const ReplicaRecord& record : records) {
    // The same process, not another that got its pid since: same start time.
    std::optional<uint64_t> started = ProcessStartTime(record.pid);
    if (record.start_time == 0 || !started || *started != record.start_time) continue;
    Replica* replica = nullptr;
    for (auto& candidate : replicas_) {
      if (candidate->view.id == record.id && candidate->view.pid == 0) replica = candidate.get();
    }
    if (!replica) {  // the app file no longer wants it
      GANTRY_LOG(kInfo, "{} (pid {}) is not wanted any more: stopping it", record.id, record.pid);
      SignalProcessGroup(record.pid, SIGTERM);
      continue;
    }
    replica->view.pid = record.pid;
    replica->view.address = {"127.0.0.1", record.port};
    replica->view.state = ReplicaState::kRunning;
    replica->view.restarts = record.restarts;
    replica->view.started_at = clock_.Now();
    replica->ever_started = true;
    replica->start_time = record.start_time;
    WatchAdopted(*replica);
    Record("adopted", *replica,
           fmt::format("pid {} on {}, left running by an earlier agent", record.pid,
                       replica->view.address.ToString()));
    services.insert(replica->service->name);
    adopted.push_back(replica->view);
  }
  // Their services run already: the replicas that were not left running start now.
  for (const std::string& service : services) {
    started_services_.insert(service);
    for (auto& replica : replicas_) {
      if (replica->service->name == service && replica->view.pid == 0) Start(*replica);
    }
  }
  SaveRecords();
  if (HasCgroups()) CleanUpCgroups(records);
  return adopted;
}

void Supervisor::CleanUpCgroups(const std::vector<ReplicaRecord>& records) {
  std::set<std::string> keep;  // the groups of replicas that still run (adopted or stopping)
  for (const ReplicaRecord& record : records) {
    std::optional<uint64_t> started = ProcessStartTime(record.pid);
    if (record.start_time != 0 && started && *started == record.start_time) keep.insert(record.id);
  }
  for (const std::string& name : options_.cgroups->CleanUp(keep)) {
    GANTRY_LOG(kInfo, "cgroup {} was left by an earlier agent: its processes killed", name);
  }
  RemoveCgroupLeftovers(0);
}

void Supervisor::RemoveCgroupLeftovers(int attempt) {
  if (options_.cgroups->RemoveLeftovers() || attempt >= 50) return;
  auto timer = std::make_shared<net::asio::steady_timer>(io_, std::chrono::milliseconds(20));
  timer->async_wait([this, timer, attempt,
                     alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (!ec && !alive.expired()) RemoveCgroupLeftovers(attempt + 1);
  });
}

void Supervisor::WatchAdopted(Replica& replica) {
  pid_t pid = replica.view.pid;
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    GANTRY_LOG(kWarn, "cannot watch adopted {} (pid {}): {}", replica.view.id, pid,
               std::strerror(errno));
    return;
  }
  replica.pidfd = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  replica.pidfd->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [this, &replica, pid](const boost::system::error_code& ec) {
                              if (ec || replica.view.pid != pid) return;
                              OnExit(replica, kExitStatusUnknown);
                            });
}

void Supervisor::SaveRecords() const {
  std::vector<ReplicaRecord> records;
  for (const auto& replica : replicas_) {
    if (replica->view.pid == 0) continue;
    records.push_back({replica->view.id, replica->service->name, replica->view.pid,
                       replica->start_time, replica->view.address.port, replica->view.restarts});
  }
  if (auto status = SaveReplicaRecords(options_.state_dir / "replicas.json", records);
      !status.ok()) {
    GANTRY_LOG(kWarn, "{}", StatusMessage(status));
  }
}

}  // namespace gantry::orchestrator
