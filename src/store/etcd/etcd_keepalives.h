// Lease renewals of an EtcdStore on one LeaseKeepAlive stream, opened when first needed. etcd
// answers renewals of a lease in the order they were sent, with a TTL of 0 for a lease it no
// longer has. When the stream ends, the renewals it carried fail Unavailable and the next one
// opens a new stream. On the store's loop.
#pragma once

#include <deque>
#include <map>
#include <memory>

#include "store/etcd/bidi_stream.h"
#include "store/etcd/etcd_rpc.grpc.pb.h"
#include "store/store.h"

namespace gantry::store::etcd {

class KeepAlives {
 public:
  KeepAlives(CallTracker& tracker, etcdserverpb::Lease::Stub& stub)
      : tracker_(tracker), stub_(stub) {}
  ~KeepAlives();

  void Renew(LeaseId id, Done<LeaseGrant> done);

 private:
  using Stream =
      BidiStream<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>;

  void OnMessage(const etcdserverpb::LeaseKeepAliveResponse& response);
  void OnEnd(const ::grpc::Status& status);

  CallTracker& tracker_;
  etcdserverpb::Lease::Stub& stub_;
  std::shared_ptr<Stream> stream_;
  std::map<LeaseId, std::deque<Done<LeaseGrant>>> waiting_;  // per lease, in the order sent
};

}  // namespace gantry::store::etcd
