// One machine's agent: owns the control-plane loop and wires store-less registry, health
// checks, supervisor, proxy and API together for one app. Runs in the calling thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "agent/state_dir.h"
#include "broker/broker_url.h"
#include "config/app_spec.h"
#include "core/address.h"
#include "store/store_url.h"

namespace gantry::agent {

struct AgentOptions {
  std::optional<HostPort> api;      // default kDefaultApi
  std::optional<HostPort> gateway;  // default: the app file's gateway.listen
  std::optional<HostPort> mesh;     // default: the app file's mesh.listen
  std::filesystem::path state_dir;  // logs and agent.json
  int workers = 1;                  // proxy worker threads
  size_t max_connections = 0;       // client connections the proxy holds at most; 0: by the limit
  std::string access_log;           // a file for the proxy's JSON access log; "": none
  bool detached = false;  // `up -d`: replicas outlive a killed agent; the next one adopts them
  bool tracing = true;    // a span per proxied hop, traceparent carried on
  double trace_sample_rate = 0.1;  // of the traces without an error or a slow span
  std::string otlp_endpoint;       // http://host:port[/path]: kept spans go there; "": nowhere
  store::StoreUrl store;           // embedded (in state_dir/store) or etcd
  broker::BrokerUrl broker;        // embedded (in state_dir/broker) or NATS JetStream
};

// Runs until SIGINT/SIGTERM, then stops every replica. Returns the process exit code.
int RunAgent(const config::AppSpec& spec, const AgentOptions& options);

}  // namespace gantry::agent
