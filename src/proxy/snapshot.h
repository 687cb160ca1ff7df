// What the data plane needs to route a request, as one immutable value: routes and, per
// service, its healthy endpoints. Built on the control plane, read by every worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/app_spec.h"
#include "coord/maglev.h"
#include "coord/ring_hash.h"
#include "core/address.h"
#include "net/socket.h"
#include "proxy/cluster_runtime.h"
#include "proxy/endpoint_state.h"
#include "telemetry/trace.h"

namespace gantry::proxy {

struct Endpoint {
  std::string instance_id;
  telemetry::ShortText<64> instance_text;    // instance_id as a span holds it (set together)
  std::string key;                           // address as text, for messages and hashing
  net::SocketAddress socket_address;         // resolved once, when the snapshot is built
  uint32_t weight = 1;                       // relative share (weighted round robin, slow start)
  int64_t healthy_since_unix_ms = 0;         // for slow start
  std::shared_ptr<EndpointRuntime> runtime;  // shared with earlier snapshots listing it
};

struct Cluster {
  std::string service;
  telemetry::ShortText<64> service_text;  // service as a span holds it (set together)
  // Healthy, not ejected replicas, ordered by instance id; in panic (under the panic
  // threshold's share healthy) every replica that has passed a check or been ejected.
  std::vector<Endpoint> endpoints;
  bool panic = false;
  bool weighted = false;                 // the endpoints' weights differ
  int64_t slow_start_until_unix_ms = 0;  // some endpoint is still ramping up until then
  bool grpc = false;                     // `protocol: grpc`: the replicas speak HTTP/2
  config::PolicySpec policy;
  std::shared_ptr<ClusterRuntime> runtime;  // never null in a built snapshot
  // Built with the snapshot for the hashing policies (immutable: every worker reads them).
  std::shared_ptr<const coord::RingHash> ring;
  std::shared_ptr<const coord::Maglev> maglev;

  static Cluster Named(std::string service) {
    Cluster cluster;
    cluster.service = std::move(service);
    cluster.service_text.Set(cluster.service);
    return cluster;
  }
};

struct Route {
  std::string host;    // empty: any host
  std::string prefix;  // matched on whole path segments
  size_t cluster = 0;  // index into Snapshot::clusters
  bool strip_prefix = false;
  std::vector<std::string> methods;       // empty: any
  std::shared_ptr<RouteRuntime> runtime;  // never null in a built snapshot
};

struct Snapshot {
  uint64_t version = 0;
  std::vector<Route> routes;  // host routes first, then longest prefix first
  std::vector<Cluster> clusters;
  std::unordered_map<std::string, size_t> cluster_by_service;

  const Cluster* FindCluster(std::string_view service) const;
};

// The hand-over point between the planes: the control plane publishes, workers load.
// Thread-safe. Workers compare version() (one relaxed load) before loading the pointer.
class SnapshotStore {
 public:
  SnapshotStore();
  void Publish(std::shared_ptr<Snapshot> snapshot);  // assigns the version
  std::shared_ptr<const Snapshot> Load() const { return current_.load(std::memory_order_acquire); }
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace gantry::proxy
