// Every watch of an EtcdStore, multiplexed on one Watch stream with ids gantry picks. When the
// stream ends it is opened again after a backoff, and each watch is created anew from the
// revision after the last one it delivered: no gap and no repeat, or OutOfRange when that
// revision was compacted meanwhile. On the store's loop.
#pragma once

#include <map>
#include <memory>

#include <boost/asio/steady_timer.hpp>

#include "store/etcd/bidi_stream.h"
#include "store/etcd/etcd_codec.h"
#include "store/etcd/etcd_rpc.grpc.pb.h"
#include "store/store.h"

namespace gantry::store::etcd {

class Watches {
 public:
  Watches(boost::asio::io_context& io, CallTracker& tracker, etcdserverpb::Watch::Stub& stub,
          const Codec& codec);
  ~Watches();

  WatchId Add(KeyRange range, Revision from, WatchCallback callback);
  void Cancel(WatchId id);

 private:
  using Stream = BidiStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;
  struct Entry {
    KeyRange range;
    Revision next = 0;  // the first revision not delivered yet; 0: from the next write
    WatchCallback callback;
  };

  void EnsureStream();
  void Create(WatchId id, const Entry& entry);
  void OnMessage(const etcdserverpb::WatchResponse& response);
  void OnEnd(const ::grpc::Status& status);
  void End(WatchId id, absl::Status status);

  CallTracker& tracker_;
  etcdserverpb::Watch::Stub& stub_;
  const Codec& codec_;
  std::map<WatchId, Entry> entries_;
  WatchId next_id_ = 1;  // etcd takes 0 as "pick one for me"
  std::shared_ptr<Stream> stream_;
  boost::asio::steady_timer retry_timer_;
  bool retry_pending_ = false;
  Duration backoff_{};
};

}  // namespace gantry::store::etcd
