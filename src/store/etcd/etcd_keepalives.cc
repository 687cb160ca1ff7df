#include "store/etcd/etcd_keepalives.h"

#include <fmt/format.h>

#include "store/etcd/etcd_codec.h"

namespace gantry::store::etcd {

KeepAlives::~KeepAlives() {
  if (stream_) stream_->Cancel();
}

void KeepAlives::Renew(LeaseId id, Done<LeaseGrant> done) {
  if (!stream_) {
    stream_ = Stream::Start(
        tracker_,
        [this](::grpc::ClientContext* context,
               ::grpc::ClientBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                         etcdserverpb::LeaseKeepAliveResponse>* reactor) {
          stub_.async()->LeaseKeepAlive(context, reactor);
        },
        {[this](etcdserverpb::LeaseKeepAliveResponse response) { OnMessage(response); },
         [this](::grpc::Status status) { OnEnd(status); }});
    if (!stream_) return done(absl::UnavailableError("etcd: the store is shutting down"));
  }
  waiting_[id].push_back(std::move(done));
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  stream_->Send(std::move(request));
}

void KeepAlives::OnMessage(const etcdserverpb::LeaseKeepAliveResponse& response) {
  auto it = waiting_.find(response.id());
  if (it == waiting_.end() || it->second.empty()) return;
  Done<LeaseGrant> done = std::move(it->second.front());
  it->second.pop_front();
  if (it->second.empty()) waiting_.erase(it);
  if (response.ttl() <= 0) {
    return done(absl::NotFoundError(fmt::format("lease {:x} not found", response.id())));
  }
  done(LeaseGrant{response.id(), std::chrono::seconds(response.ttl())});
}

void KeepAlives::OnEnd(const ::grpc::Status& status) {
  stream_.reset();
  auto waiting = std::move(waiting_);
  waiting_.clear();
  absl::Status failure =
      FromGrpc(status);  // never OK: every code but the known ones is Unavailable
  for (auto& [id, dones] : waiting) {
    for (auto& done : dones) done(failure);
  }
}

}  // namespace gantry::store::etcd
