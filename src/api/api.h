// The agent's HTTP API (/api/v1): read-only views of the registry and the supervisor for now.
// Control-plane thread only: handlers read live state directly.
#pragma once

#include <string>

#include "core/address.h"
#include "http/message.h"
#include "orchestrator/supervisor.h"
#include "registry/registry.h"

namespace gantry::api {

struct AgentInfo {
  std::string app;
  int pid = 0;
  HostPort api;
  HostPort gateway;
  HostPort mesh;
};

class Api {
 public:
  Api(AgentInfo info, const registry::Registry& registry,
      const orchestrator::Supervisor& supervisor, Clock& clock);

  http::Response Handle(const http::Request& request) const;

 private:
  http::Response Agent() const;
  http::Response Services() const;
  http::Response Service(const std::string& name) const;
  http::Response Instances(const std::string& name, bool healthy_only) const;
  http::Response Replicas(const std::string& service) const;

  AgentInfo info_;
  const registry::Registry& registry_;
  const orchestrator::Supervisor& supervisor_;
  Clock& clock_;
};

}  // namespace gantry::api
