// One data-plane thread: its own event loop, its own SO_REUSEPORT listeners, its own upstream
// pools and load-balancer state. Everything except Start/Stop runs on the worker's thread.
#pragma once

#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "net/asio.h"
#include "proxy/lb/least_request.h"
#include "proxy/lb/round_robin.h"
#include "proxy/snapshot.h"
#include "proxy/upstream.h"

namespace gantry::proxy {

enum class ListenerKind { kGateway, kMesh };

class Worker {
 public:
  Worker(int index, const SnapshotStore& snapshots);
  ~Worker();

  // Before Start(): bind a listener of this kind to an address reserved by the Proxy.
  absl::Status Listen(ListenerKind kind, const HostPort& address, bool reuse_port);
  void Start();
  void Stop();  // closes listeners, ends the loop, joins the thread

  // Worker thread only.
  std::shared_ptr<const Snapshot> CurrentSnapshot();
  // By the cluster's policy; `key_hash` is the request's key for the hashing policies.
  const Endpoint& PickEndpoint(const Snapshot& snapshot, const Cluster& cluster, uint64_t key_hash);
  // Requests in flight per endpoint, for least_request.
  void RequestStarted(const std::string& endpoint_key) { ++active_[endpoint_key]; }
  void RequestEnded(const std::string& endpoint_key);
  UpstreamPool& pool() { return pool_; }

 private:
  int index_;
  const SnapshotStore& snapshots_;
  net::asio::io_context io_{1};
  std::vector<std::pair<std::unique_ptr<net::tcp::acceptor>, ListenerKind>> acceptors_;
  UpstreamPool pool_;
  std::shared_ptr<const Snapshot> snapshot_;
  struct ClusterState {
    RoundRobin round_robin;
    LeastRequest least_request;
  };
  std::vector<ClusterState> clusters_;  // per cluster of snapshot_
  std::unordered_map<std::string, uint32_t> active_;
  FastRandom random_{static_cast<uint64_t>(index_) + 1};
  std::thread thread_;
};

}  // namespace gantry::proxy
