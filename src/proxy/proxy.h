// The data plane: N workers serving the gateway and mesh listeners from the snapshots the
// control plane publishes. Create, Start, Stop, Publish and WhenAcknowledged are called from
// the control-plane thread; `post_to_control` is how workers' news gets back to it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/address.h"
#include "net/tls.h"
#include "proxy/snapshot.h"
#include "telemetry/trace.h"

namespace gantry::telemetry {
class SpanBuffer;
}

namespace gantry::proxy {

class Worker;

struct ProxyOptions {
  int workers = 1;   // threads, each with its own listeners (SO_REUSEPORT)
  HostPort gateway;  // port 0 picks a free port
  HostPort mesh;
  size_t max_connections = 100000;         // client connections, split evenly over the workers
  size_t max_gateway_connections = 75000;  // of which from the gateway (ConnectionBudget)
  std::string access_log;                  // a file for JSON lines, one per request; "": none
  std::shared_ptr<const net::TlsServerContext> gateway_tls;  // null: plain HTTP
  bool tracing = true;             // a span per proxied hop and traceparent carried on (DrainSpans)
  double trace_sample_rate = 0.1;  // the sampled flag of the traces the proxy starts
  // Runs a task on the control-plane thread (from any thread).
  std::function<void(std::function<void()>)> post_to_control;
  // Control-plane thread: a worker saw `instance` of `service` reach an outlier threshold.
  std::function<void(const std::string& service, const std::string& instance)> on_outlier;
};

class Proxy {
 public:
  static absl::StatusOr<std::unique_ptr<Proxy>> Create(const ProxyOptions& options,
                                                       SnapshotStore& snapshots);
  ~Proxy();

  const HostPort& gateway_address() const { return gateway_; }
  const HostPort& mesh_address() const { return mesh_; }
  void Start();
  void Stop();

  // Publishes `snapshot` and has every worker switch to it now (not at its next request).
  // Returns its version.
  uint64_t Publish(std::shared_ptr<Snapshot> snapshot);
  // Runs `done` once every worker has acknowledged `version` (or a later one): from then on,
  // no request starts with an endpoint that snapshot left out. Control-plane thread.
  void WhenAcknowledged(uint64_t version, std::function<void()> done);
  uint64_t acknowledged_version() const;  // the oldest version a worker still routes by
  const std::vector<uint64_t>& acknowledged_versions() const { return acked_; }  // per worker
  // The workers' span rings (empty while tracing is off), for one reader thread.
  std::vector<telemetry::SpanBuffer*> SpanBuffers() const;

 private:
  Proxy() = default;
  void Acknowledged(int worker, uint64_t version);  // control-plane thread

  SnapshotStore* snapshots_ = nullptr;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<uint64_t> acked_;  // per worker
  std::multimap<uint64_t, std::function<void()>> waiting_;
  HostPort gateway_;
  HostPort mesh_;
  bool started_ = false;
};

}  // namespace gantry::proxy
