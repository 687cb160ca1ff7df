#include "proxy/worker.h"

#include <boost/asio/executor_work_guard.hpp>

#include "net/listen.h"
#include "proxy/session.h"

namespace gantry::proxy {

Worker::Worker(int index, const SnapshotStore& snapshots) : index_(index), snapshots_(snapshots) {}

Worker::~Worker() { Stop(); }

absl::Status Worker::Listen(ListenerKind kind, const HostPort& address, bool reuse_port) {
  auto acceptor = net::Listen(io_, address, {.reuse_port = reuse_port});
  if (!acceptor.ok()) return acceptor.status();
  acceptors_.emplace_back(std::move(*acceptor), kind);
  return absl::OkStatus();
}

void Worker::Start() {
  for (auto& [acceptor, kind] : acceptors_) {  // acceptors live as long as the worker
    auto serve = [this, kind = kind](net::tcp::socket socket) {
      net::asio::co_spawn(io_, ServeClient(std::move(socket), this, kind), net::asio::detached);
    };
    net::asio::co_spawn(io_, net::AcceptLoop(*acceptor, serve), net::asio::detached);
  }
  thread_ = std::thread([this] {
    auto guard = net::asio::make_work_guard(io_);
    io_.run();
  });
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  net::asio::post(io_, [this] {
    for (auto& [acceptor, kind] : acceptors_) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    }
    pool_.Clear();
    io_.stop();
  });
  thread_.join();
}

std::shared_ptr<const Snapshot> Worker::CurrentSnapshot() {
  if (!snapshot_ || snapshot_->version != snapshots_.version()) {
    snapshot_ = snapshots_.Load();
    pool_.RetainOnly(*snapshot_);
    clusters_.clear();
    for (size_t i = 0; i < snapshot_->clusters.size(); ++i) {
      auto seed = static_cast<uint64_t>(index_);
      clusters_.push_back({RoundRobin(seed), LeastRequest(seed * 7919 + i)});
    }
  }
  return snapshot_;
}

const Endpoint& Worker::PickEndpoint(const Snapshot& snapshot, const Cluster& cluster,
                                     uint64_t key_hash) {
  using Policy = config::LbSpec::Policy;
  const auto& endpoints = cluster.endpoints;
  // The hashing tables travel with the snapshot, so any snapshot can answer.
  if (cluster.ring) return endpoints[cluster.ring->Pick(key_hash)];
  if (cluster.maglev) return endpoints[cluster.maglev->Pick(key_hash)];
  size_t index = static_cast<size_t>(&cluster - snapshot.clusters.data());
  // A request that started on an older snapshot keeps that snapshot's endpoint list.
  if (&snapshot != snapshot_.get() || index >= clusters_.size()) return endpoints.front();
  ClusterState& state = clusters_[index];
  switch (cluster.lb.policy) {
    case Policy::kRandom:
      return endpoints[random_.Below(endpoints.size())];
    case Policy::kLeastRequest:
      return endpoints[state.least_request.Pick(endpoints.size(), [&](size_t i) {
        auto it = active_.find(endpoints[i].key);
        return it == active_.end() ? 0u : it->second;
      })];
    default:
      return endpoints[state.round_robin.Pick(endpoints.size())];
  }
}

void Worker::RequestEnded(const std::string& endpoint_key) {
  auto it = active_.find(endpoint_key);
  if (it == active_.end()) return;
  if (--it->second == 0) active_.erase(it);  // gone replicas leave no entries behind
}

}  // namespace gantry::proxy
