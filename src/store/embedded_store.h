// The single-machine Store: an MvccIndex in memory, fed from a write-ahead log of requests.
//
// A write is encoded, queued, appended to the log by the sync thread (one write and one
// fdatasync for everything queued meanwhile: group commit), and applied to the index on the
// store's loop only once durable, in log order. So readers and watchers never see a write that
// a crash could take back, and a failed append (disk full) has nothing to roll back.
// Lease deadlines are logged in wall-clock time, so leases that ran out while the agent was
// down are expired when it opens the store again. When the log passes snapshot_after_bytes,
// the whole state is written to "snapshot" (atomically) and a new log, "wal-<n+1>", starts.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "store/mvcc_index.h"
#include "store/record.h"
#include "store/store.h"
#include "store/wal.h"

namespace boost::asio {
class io_context;
}

namespace gantry::store {

struct EmbeddedStoreOptions {
  std::filesystem::path dir;         // holds the log, "store.wal"; created if missing
  Clock* clock = nullptr;            // lease timing; default Clock::Real()
  std::function<int64_t()> wall_ms;  // default: the system clock, ms since the epoch
  size_t history_events = 100'000;   // watch history kept in memory; older is "compacted"
  uint64_t snapshot_after_bytes = uint64_t{64} << 20;  // the log is cut when it grows past this
};

class EmbeddedStore final : public Store {
 public:
  // Replays the log (cutting a torn tail) and expires leases whose time ran out meanwhile.
  static absl::StatusOr<std::unique_ptr<EmbeddedStore>> Open(boost::asio::io_context& io,
                                                             EmbeddedStoreOptions options);
  ~EmbeddedStore() override;

  void Range(const KeyRange& range, Done<RangeResult> done) override;
  void Put(std::string key, std::string value, PutOptions options, Done<Revision> done) override;
  void Delete(KeyRange range, Done<DeleteResult> done) override;
  void Txn(TxnRequest request, Done<TxnResult> done) override;
  void GrantLease(Duration ttl, Done<LeaseGrant> done) override;
  void KeepAlive(LeaseId id, Done<LeaseGrant> done) override;
  void RevokeLease(LeaseId id, Done<Revision> done) override;
  WatchId Watch(KeyRange range, Revision from, WatchCallback callback) override;
  void CancelWatch(WatchId id) override;
  // In memory only: after a restart, history since the log's start is back.
  void Compact(Revision revision, Done<Revision> done) override;

  Revision revision() const { return index_.revision(); }

  // Expires every lease past its deadline on the store's clock. The store's own timer calls
  // it; tests call it after moving a fake clock.
  void CheckLeases();

  struct Stats {
    uint64_t appends = 0;  // fdatasyncs of the log
    uint64_t records = 0;  // requests made durable
    uint64_t failed_appends = 0;
    uint64_t snapshots = 0;
  };
  const Stats& stats() const { return stats_; }
  size_t writes_in_progress() const { return queued_completions_.size() + in_flight_.size(); }

 private:
  struct Runtime;  // the sync thread and the lease timer (Asio types stay in the .cc)

  EmbeddedStore(boost::asio::io_context& io, EmbeddedStoreOptions options);
  absl::Status Recover();
  // Queues a request for the log; `on_durable` runs on the loop with the append's outcome.
  void Submit(const Record& record, std::function<void(absl::Status)> on_durable);
  void StartAppend();
  void FinishAppend(const absl::Status& status);
  void StartSnapshot();
  void FinishSnapshot(const absl::Status& status);
  SnapshotData TakeSnapshot() const;
  absl::Status LoadSnapshot();
  void AfterApply(bool leases_changed);
  void ArmLeaseTimer();
  template <typename T>
  void Fail(Done<T> done, absl::Status status);

  // Applying a durable request: shared by the live path and replay.
  absl::StatusOr<TxnResult> ApplyTxn(const TxnRequest& request);
  absl::StatusOr<LeaseGrant> ApplyGrant(const GrantRecord& record);
  absl::StatusOr<LeaseGrant> ApplyKeepAlive(const KeepAliveRecord& record);
  absl::Status ApplyRevoke(LeaseId id);
  void ApplyExpire(const ExpireRecord& record);

  boost::asio::io_context& io_;
  EmbeddedStoreOptions options_;
  MvccIndex index_;
  std::unique_ptr<Wal> wal_;  // touched only by the sync thread once open
  std::vector<std::string> queued_records_;
  std::vector<std::function<void(absl::Status)>> queued_completions_;
  std::vector<std::function<void(absl::Status)>> in_flight_;
  uint64_t in_flight_bytes_ = 0;
  bool appending_ = false;  // an append or a snapshot is on the sync thread
  uint64_t wal_number_ = 0;
  uint64_t log_bytes_ = 0;  // of the current log
  uint64_t snapshot_at_bytes_ = 0;
  std::map<LeaseId, int64_t> wall_deadlines_;  // ms since the epoch, for snapshots and restarts
  LeaseId next_lease_ = 1;
  std::map<LeaseId, int64_t> expiring_;  // lease -> the renewal count its expiry carries
  Clock::TimePoint retry_expiry_at_{};   // after a failed expiry append, wait before the next
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int lock_fd_ = -1;  // flock'ed "LOCK" file in the store folder
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace gantry::store
