// The live lines `gantry up` prints: one per replica event, then the URLs once ready.
// Control-plane thread only; writes to stdout and flushes each line.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "config/app_spec.h"
#include "core/address.h"
#include "orchestrator/supervisor.h"
#include "registry/registry.h"

namespace gantry::agent {

// The last line of the ready banner of a detached agent: `up -d` follows the agent's log until
// it comes.
inline constexpr std::string_view kDetachedReadyLine =
    "runs in the background: gantry down stops it";

class Progress {
 public:
  // `detached`: the agent runs in the background (up -d), its lines going to agent.log.
  Progress(const config::AppSpec& spec, bool detached) : spec_(spec), detached_(detached) {}

  void Line(const std::string& text);
  void Started(const orchestrator::ReplicaView& replica);
  void Exited(const orchestrator::ReplicaView& replica, const std::string& why, bool stopping);
  void FailedToStart(const std::string& id, const std::string& error);
  // Prints health transitions since the last call; returns the ids that changed. A replica
  // that exited or started since then changed from unknown.
  std::map<std::string, registry::Health> HealthChanges(const registry::Registry& registry);
  // The URLs, once, when every replica is healthy for the first time.
  void MaybeReady(const registry::Registry& registry, const HostPort& gateway, const HostPort& mesh,
                  const HostPort& api);

 private:
  const config::AppSpec& spec_;
  bool detached_;
  std::map<std::string, registry::Health> last_health_;
  bool ready_printed_ = false;
};

}  // namespace gantry::agent
