// The embedded store's state: the live keys, the event history since the last compaction,
// leases and watchers. A plain state machine: no I/O, no clock of its own (time is passed in),
// single-threaded (the control-plane thread). Durability wraps it (every change it accepts
// can be replayed in order to rebuild it).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/duration.h"
#include "store/types.h"

namespace gantry::store {

class MvccIndex {
 public:
  using WatchId = int64_t;
  using WatchCallback = std::function<void(const Event&)>;

  Revision revision() const { return revision_; }
  Revision compacted() const { return compacted_; }

  std::optional<KeyValue> Get(const std::string& key) const;
  std::vector<KeyValue> Range(const KeyRange& range) const;  // ordered by key

  // Writes one key; `expect_mod_revision` (0: the key must be absent) makes it conditional.
  // Errors: InvalidArgument (empty or oversized key or value), NotFound (unknown lease),
  // FailedPrecondition (the condition did not hold).
  absl::StatusOr<Revision> Put(const std::string& key, const std::string& value, LeaseId lease = 0,
                               std::optional<Revision> expect_mod_revision = std::nullopt);
  // Deletes the key or range in one revision; returns how many keys went (0: no new revision).
  int64_t Delete(const KeyRange& range);
  // If every compare holds, runs `success`, else `failure`: atomically, one revision if any op
  // writes. A key may be written at most once per transaction.
  absl::StatusOr<TxnResult> Txn(const std::vector<Compare>& compares,
                                const std::vector<TxnOp>& success,
                                const std::vector<TxnOp>& failure);

  // Leases. `now` comes from the caller's clock.
  absl::StatusOr<LeaseId> GrantLease(Duration ttl, Clock::TimePoint now, LeaseId id = 0);
  absl::Status KeepAlive(LeaseId id, Clock::TimePoint now);
  absl::Status RevokeLease(LeaseId id);                          // deletes its keys, one revision
  std::vector<LeaseId> ExpireLeases(Clock::TimePoint now);       // revokes every lease past its TTL
  std::vector<LeaseId> LeasesDueBy(Clock::TimePoint now) const;  // past their TTL, still there
  std::optional<Clock::TimePoint> NextLeaseDeadline() const;
  struct LeaseInfo {
    Duration ttl;
    Clock::TimePoint deadline;
    int64_t renewals = 0;  // 1 on grant, +1 per keepalive: tells a stale expiry from a live one
  };
  std::optional<LeaseInfo> GetLease(LeaseId id) const;
  std::vector<LeaseId> Leases() const;
  // Moves a lease's deadline (a durable store re-arms leases after a restart).
  void SetLeaseDeadline(LeaseId id, Clock::TimePoint deadline);

  // Delivers every event for `range` with revision >= from (0: from the next write on), in
  // order, without gaps or repeats: first the history, then each write as it happens.
  // OutOfRange ("compacted") when `from` is at or below the compaction point.
  absl::StatusOr<WatchId> Watch(const KeyRange& range, Revision from, WatchCallback callback);
  void CancelWatch(WatchId id);

  // Forgets history up to and including `revision` (watches can no longer start there).
  absl::Status Compact(Revision revision);
  // Compacts the oldest whole revisions until at most `max_events` events of history remain.
  void TrimHistory(size_t max_events);

  // Replaces the whole state with a snapshot's: the keys (each attached to its lease), the
  // leases, and the revision, which also becomes the compaction point (no history before it).
  struct RestoredLease {
    LeaseId id = 0;
    LeaseInfo info;
  };
  void Restore(Revision revision, std::vector<KeyValue> kvs,
               const std::vector<RestoredLease>& leases);

 private:
  struct Lease {
    LeaseInfo info;
    std::set<std::string> keys;
  };
  struct Watcher {
    KeyRange range;
    Revision from;  // live events below it are not delivered (a watch may start in the future)
    WatchCallback callback;
  };

  absl::Status CheckPut(const std::string& key, const std::string& value, LeaseId lease) const;
  bool Holds(const Compare& compare) const;
  // Applies one op at revision `at` (already advanced when the op writes).
  TxnOpResult Apply(const TxnOp& op, Revision at, std::vector<Event>& events);
  void PutAt(const std::string& key, const std::string& value, LeaseId lease, Revision at,
             std::vector<Event>& events, TxnOpResult* result);
  int64_t DeleteAt(const KeyRange& range, Revision at, std::vector<Event>& events);
  void Commit(std::vector<Event> events);

  std::map<std::string, KeyValue> live_;
  std::deque<Event> history_;  // revisions above compacted_, in order
  Revision revision_ = 1;      // as etcd: an empty store is at revision 1
  Revision compacted_ = 0;
  std::map<LeaseId, Lease> leases_;
  LeaseId next_lease_ = 1;
  std::map<WatchId, Watcher> watchers_;
  WatchId next_watch_ = 1;
};

}  // namespace gantry::store
