// What the data plane needs to route a request, as one immutable value: routes and, per
// service, its healthy endpoints. Built on the control plane, read by every worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/address.h"

namespace gantry::proxy {

struct Endpoint {
  std::string instance_id;
  HostPort address;
  std::string key;  // address as text: the upstream pool's key
};

struct Cluster {
  std::string service;
  std::vector<Endpoint> endpoints;  // healthy replicas only, ordered by instance id
};

struct Route {
  std::string host;    // empty: any host
  std::string prefix;  // matched on whole path segments
  size_t cluster = 0;  // index into Snapshot::clusters
  bool strip_prefix = false;
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
