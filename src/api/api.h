// The agent's HTTP API (/api/v1): views of the registry and the supervisor (blocking on the
// registry's index), and the store's keys and leases (KvApi). Control-plane thread only.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "api/blocking.h"
#include "api/instances_api.h"
#include "api/kv_api.h"
#include "api/locks_api.h"
#include "api/logs_api.h"
#include "api/topics_api.h"
#include "core/address.h"
#include "http/server.h"
#include "orchestrator/event_log.h"
#include "orchestrator/supervisor.h"
#include "registry/registry.h"
#include "telemetry/call_graph.h"
#include "telemetry/trace_store.h"

namespace gantry::api {

struct AgentInfo {
  std::string app;
  int pid = 0;
  HostPort api;
  HostPort gateway;
  HostPort mesh;
  std::filesystem::path logs_dir;  // replicas' output, <id>.log
};

// What the handlers read and write, all owned by the agent.
struct ApiDeps {
  const registry::Registry& registry;
  registry::RegistryStore& registry_store;
  registry::HealthChecker& checker;
  orchestrator::Supervisor& supervisor;
  store::Store& store;
  orchestrator::EventLog& events;
  std::function<std::string()> proxy_stats;  // the data plane's stats as JSON
  std::function<void()> stop_agent;          // drain and stop the app, then the agent
  // POST /api/v1/apply: a changed app file's text; answers when applied (or at once, dry run).
  std::function<void(const std::string& text, bool dry_run, const http::Respond& respond)> apply;
  // GET /api/v1/services/{name}/owner?key=K: which replica the proxy's hashing sends K to.
  std::function<http::Response(const std::string& service, const std::string& key)> key_owner;
  broker::Broker* broker = nullptr;  // /api/v1/topics; null: not served
  std::function<std::vector<broker::SubscriptionInfo>()> subscriptions;  // their progress
  std::function<std::string()> metrics;           // GET /metrics: Prometheus' text format
  const telemetry::TraceStore* traces = nullptr;  // /api/v1/traces; null: not served
  const telemetry::CallGraph* calls = nullptr;    // /api/v1/topology; null: not served
};

class Api {
 public:
  Api(boost::asio::io_context& io, AgentInfo info, ApiDeps deps, Clock& clock);

  void Handle(const http::Request& request, http::Respond respond);
  // Wakes blocking reads of services and instances; the agent calls it after registry changes.
  void RegistryChanged() { registry_waiters_.Wake(); }
  // Wakes blocking reads of events; the agent calls it after each new event.
  void EventsChanged() { events_waiters_.Wake(); }

 private:
  http::Response RegistryRead(const std::vector<std::string>& seg, std::string_view query) const;
  http::Response Agent() const;
  http::Response Services() const;
  http::Response Service(const std::string& name) const;
  http::Response Instances(const std::string& name, bool healthy_only) const;
  http::Response Replicas(const std::string& service) const;
  http::Response Scale(const std::string& service, const http::Request& request);
  http::Response Events(uint64_t after) const;
  void HandleEvents(const http::Request& request, http::Respond respond);

  AgentInfo info_;
  const registry::Registry& registry_;
  orchestrator::Supervisor& supervisor_;
  orchestrator::EventLog& events_;
  ParkedRequests events_waiters_;
  Clock& clock_;
  KvApi kv_;
  coord::LockService lock_service_;
  LocksApi locks_;
  coord::LockService election_service_;  // leaders hold a lock of their own keyspace
  LocksApi elections_;
  std::unique_ptr<TopicsApi> topics_;  // when there is a broker
  InstancesApi instances_;
  LogsApi logs_;
  ParkedRequests registry_waiters_;
  std::function<std::string()> proxy_stats_;
  std::function<std::string()> metrics_;
  const telemetry::TraceStore* traces_;
  const telemetry::CallGraph* calls_;
  std::function<http::Response(const std::string& service, const std::string& key)> key_owner_;
  std::function<void()> stop_agent_;
  std::function<void(const std::string&, bool, const http::Respond&)> apply_;
};

}  // namespace gantry::api
