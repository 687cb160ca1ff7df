// The control plane's memory, with etcd's semantics, behind one interface so the same callers
// run on the embedded store today and on etcd later. Asynchronous: every call completes through
// its callback on the store's loop (the control-plane thread), the only thread that may call it.
// Writes complete once durable; reads may complete before the call returns.
#pragma once

#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "core/duration.h"
#include "store/types.h"

namespace gantry::store {

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

struct RangeResult {
  std::vector<KeyValue> kvs;  // ordered by key
  Revision revision = 0;      // the store's revision when read
};

struct PutOptions {
  LeaseId lease = 0;                            // the key goes when the lease ends
  std::optional<Revision> expect_mod_revision;  // compare-and-set; 0: the key must be absent
};

struct DeleteResult {
  int64_t deleted = 0;
  Revision revision = 0;
};

struct LeaseGrant {
  LeaseId id = 0;
  Duration ttl{};
};

using WatchId = int64_t;
// Events in revision order with no gap or repeat; an error (OutOfRange: "compacted") ends it.
using WatchCallback = std::function<void(absl::StatusOr<Event>)>;

// Errors, shared by every backend: InvalidArgument (bad key, value, TTL or transaction),
// NotFound (unknown lease), FailedPrecondition (a put's expected mod revision did not hold),
// ResourceExhausted (disk full: nothing was written), Unavailable (the backend cannot be reached).
class Store {
 public:
  virtual ~Store() = default;

  virtual void Range(const KeyRange& range, Done<RangeResult> done) = 0;
  virtual void Put(std::string key, std::string value, PutOptions options, Done<Revision> done) = 0;
  virtual void Delete(KeyRange range, Done<DeleteResult> done) = 0;
  virtual void Txn(TxnRequest request, Done<TxnResult> done) = 0;

  virtual void GrantLease(Duration ttl, Done<LeaseGrant> done) = 0;
  virtual void KeepAlive(LeaseId id, Done<LeaseGrant> done) = 0;
  virtual void RevokeLease(LeaseId id, Done<Revision> done) = 0;

  // From revision `from` (0: the next write on): history first, then live events.
  virtual WatchId Watch(KeyRange range, Revision from, WatchCallback callback) = 0;
  virtual void CancelWatch(WatchId id) = 0;

  // Forgets history up to `revision`: watches can no longer start at or below it.
  virtual void Compact(Revision revision, Done<Revision> done) = 0;
};

}  // namespace gantry::store
