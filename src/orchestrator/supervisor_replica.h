// The Supervisor's per-replica and per-rollout state, shared by its .cc files. Internal to
// orchestrator/.
#pragma once

#include <deque>
#include <map>

#include <fmt/format.h>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "net/asio.h"
#include "orchestrator/backoff.h"
#include "orchestrator/supervisor.h"

namespace gantry::orchestrator {

struct Supervisor::Replica {
  Replica(net::asio::io_context& io, const config::ServiceSpec& service, int index)
      : service(&service), index(index), restart_timer(io), kill_timer(io) {
    view.id = fmt::format("{}-{}", service.name, index);
    view.service = service.name;
    view.state = ReplicaState::kWaiting;
    view.reason = "not started yet";
  }
  // Its settings: those of the app file it was started from (`apply` replaces replicas one by
  // one, so old and new settings live side by side for a while).
  const config::ServiceSpec* service;
  const int index;  // its number within the service: view.id is "<service>-<index>"
  ReplicaView view;
  RestartBackoff backoff;
  net::asio::steady_timer restart_timer;
  net::asio::steady_timer kill_timer;
  bool ever_started = false;
  bool planned_start = false;  // the next start replaces it on purpose: not a restart
  bool stop_requested = false;
  bool scaled_away = false;       // removed by Scale: forgotten once it has exited
  bool start_after_exit = false;  // scaled back in while still stopping
  uint64_t start_time = 0;        // the process's, for the records the next agent adopts from
  // Adopted from an earlier agent: not our child, so its exit is seen on a pidfd.
  std::unique_ptr<boost::asio::posix::stream_descriptor> pidfd;
};

struct Supervisor::Rollout {
  explicit Rollout(net::asio::io_context& io) : deadline(io) {}
  std::string service;
  std::deque<int> pending;       // replica indexes still to replace
  std::map<int, pid_t> waiting;  // index -> the pid it had when its step began
  std::vector<int> surge;        // extra replicas, removed at the end
  size_t replaced = 0;
  const config::ServiceSpec* target = nullptr;  // settings the replaced replicas start with
  net::asio::steady_timer deadline;             // for the current step
  std::function<void(absl::Status)> done;
};

}  // namespace gantry::orchestrator
