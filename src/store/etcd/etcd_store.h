// The Store on etcd v3 (3.4's gRPC API): every key under one prefix per deployment, one gRPC
// channel over every endpoint (the first that answers is used; a lost one fails over to the
// next, with gRPC's reconnect backoff), one watch stream and one lease keep-alive stream on it.
//
// Thread affinity: called on the store's loop only, like every Store; gRPC's threads only post
// results to the loop. Destroying the store cancels every call in flight and waits until gRPC
// has let go of them; their callbacks are dropped.
//
// A watch is a hint to be checked, as etcd 3.4.23 has known watch bugs: when the stream breaks
// it is opened again and every watch resumes after the last revision it delivered; a watch
// whose revision was compacted meanwhile ends with OutOfRange ("compacted"), and its owner
// lists again at a revision and watches from there.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/duration.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gantry::store {

struct EtcdStoreOptions {
  std::vector<std::string> endpoints;               // "host:port", at least one
  std::string key_prefix = "/gantry/";              // every key lives under it
  Duration call_timeout = std::chrono::seconds(5);  // per unary call
  Duration max_reconnect_backoff = std::chrono::seconds(2);
};

class EtcdStore final : public Store {
 public:
  // Connects and checks that etcd answers within `call_timeout`: Unavailable naming the
  // endpoints otherwise.
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Open(boost::asio::io_context& io,
                                                         EtcdStoreOptions options);
  ~EtcdStore() override;

  void Range(const KeyRange& range, Done<RangeResult> done) override;
  void Put(std::string key, std::string value, PutOptions options, Done<Revision> done) override;
  void Delete(KeyRange range, Done<DeleteResult> done) override;
  void Txn(TxnRequest request, Done<TxnResult> done) override;
  void GrantLease(Duration ttl, Done<LeaseGrant> done) override;
  void KeepAlive(LeaseId id, Done<LeaseGrant> done) override;
  void RevokeLease(LeaseId id, Done<Revision> done) override;
  WatchId Watch(KeyRange range, Revision from, WatchCallback callback) override;
  void CancelWatch(WatchId id) override;
  void Compact(Revision revision, Done<Revision> done) override;

  // The remaining TTL of a lease (NotFound once it is gone): how a lease's loss is confirmed.
  void TimeToLive(LeaseId id, Done<Duration> done);
  // Whether the channel has a working connection to a member now (gRPC's view: a member killed
  // a moment ago may still count until its socket's end is seen).
  bool Connected() const;

 private:
  struct Impl;  // gRPC types stay in the .cc files
  explicit EtcdStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::store
