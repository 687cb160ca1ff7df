// Translation between the Store's vocabulary and etcd v3's messages, under one key prefix per
// deployment: gantry's key "a" is etcd's "<prefix>a", and nothing outside the prefix is read,
// written or watched. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/etcd/etcd_rpc.pb.h"
#include "store/types.h"

namespace grpc {
class Status;
}

namespace gantry::store::etcd {

class Codec {
 public:
  explicit Codec(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }

  // etcd's [key, range_end) for a range; a prefix range ends at the prefix's successor.
  void SetRange(const KeyRange& range, std::string* key, std::string* range_end) const;
  std::string EtcdKey(std::string_view key) const { return prefix_ + std::string(key); }

  KeyValue FromEtcd(const etcdserverpb::KeyValue& kv) const;
  absl::StatusOr<Event> FromEtcd(const etcdserverpb::Event& event) const;

  etcdserverpb::Compare ToEtcd(const Compare& compare) const;
  etcdserverpb::RequestOp ToEtcd(const TxnOp& op) const;
  etcdserverpb::TxnRequest ToEtcd(const TxnRequest& request) const;
  TxnOpResult FromEtcd(const etcdserverpb::ResponseOp& response) const;

 private:
  std::string prefix_;
};

// The smallest key greater than every key starting with `prefix` ("\0" for the empty prefix:
// etcd's "to the end").
std::string PrefixEnd(std::string_view prefix);

// A Store error for a failed call: etcd's gRPC codes carry the Store's meanings (OUT_OF_RANGE
// "compacted", NOT_FOUND lease, RESOURCE_EXHAUSTED space, INVALID_ARGUMENT) and are kept; an
// unanswered call and every transport failure are Unavailable. The message names etcd.
absl::Status FromGrpc(const ::grpc::Status& status);

// gRPC's target for etcd's members ("ipv4:10.0.0.1:2379,10.0.0.2:2379"): each "host:port"
// resolved to its IPv4 addresses now. InvalidArgument for a bad endpoint, Unavailable for a
// name that does not resolve.
absl::StatusOr<std::string> ChannelTarget(const std::vector<std::string>& endpoints);

// Whether a failed write can be sent again without the risk of applying it twice: only when
// etcd refused it before proposing it (no leader) or it never left this process.
bool SafeToRetryWrite(const ::grpc::Status& status);

}  // namespace gantry::store::etcd
