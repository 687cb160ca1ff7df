#include "store/embedded_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/log.h"
#include "core/status.h"
#include "net/asio.h"
#include "store/put_txn.h"
#include "store/snapshot_file.h"

namespace gantry::store {

using std::chrono::milliseconds;

struct EmbeddedStore::Runtime {
  explicit Runtime(net::asio::io_context& io) : sync_thread(1), lease_timer(io) {}
  net::asio::thread_pool sync_thread;
  net::asio::steady_timer lease_timer;
};

namespace {

constexpr auto kExpiryRetry = std::chrono::seconds(1);

int64_t SystemWallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

EmbeddedStore::EmbeddedStore(net::asio::io_context& io, EmbeddedStoreOptions options)
    : io_(io), options_(std::move(options)), runtime_(std::make_unique<Runtime>(io)) {
  if (!options_.clock) options_.clock = &Clock::Real();
  if (!options_.wall_ms) options_.wall_ms = SystemWallMs;
}

EmbeddedStore::~EmbeddedStore() {
  *alive_ = false;
  runtime_->lease_timer.cancel();
  runtime_->sync_thread.join();  // an append in flight finishes; its completions are dropped
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<EmbeddedStore>> EmbeddedStore::Open(net::asio::io_context& io,
                                                                   EmbeddedStoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("cannot create store folder {}: {}", options.dir.string(), ec.message()));
  }
  // One process per store: a second writer would interleave records in the log.
  auto lock_path = options.dir / "LOCK";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (lock_fd >= 0) ::close(lock_fd);
    return absl::FailedPreconditionError(
        fmt::format("the store in {} is in use by another process ({})", options.dir.string(),
                    std::strerror(err)));
  }
  std::unique_ptr<EmbeddedStore> store(new EmbeddedStore(io, std::move(options)));
  store->lock_fd_ = lock_fd;
  if (auto status = store->Recover(); !status.ok()) return status;
  return store;
}

absl::Status EmbeddedStore::LoadSnapshot() {
  auto file = ReadFramedFile(options_.dir / "snapshot");
  if (!file.ok()) return file.status();
  if (!*file) return absl::OkStatus();
  auto snapshot = DecodeSnapshot(**file);
  if (!snapshot.ok()) return snapshot.status();
  std::vector<MvccIndex::RestoredLease> leases;
  Clock::TimePoint now = options_.clock->Now();
  for (const auto& lease : snapshot->leases) {
    leases.push_back({lease.id, {Duration(lease.ttl_ms), now, lease.renewals}});
    wall_deadlines_[lease.id] = lease.wall_deadline_ms;
  }
  index_.Restore(snapshot->revision, std::move(snapshot->kvs), leases);
  next_lease_ = snapshot->next_lease;
  wal_number_ = snapshot->next_wal;
  return absl::OkStatus();
}

absl::Status EmbeddedStore::Recover() {
  if (auto status = LoadSnapshot(); !status.ok()) return status;
  auto replay = [&](std::string_view data) -> absl::Status {
    auto record = DecodeRecord(data);
    if (!record.ok()) return record.status();
    // Results are ignored: a request that failed when first applied fails the same way now.
    if (auto* txn = std::get_if<TxnRequest>(&*record)) {
      (void)ApplyTxn(*txn);
    } else if (auto* grant = std::get_if<GrantRecord>(&*record)) {
      (void)ApplyGrant(*grant);
      next_lease_ = std::max(next_lease_, grant->id + 1);
    } else if (auto* keepalive = std::get_if<KeepAliveRecord>(&*record)) {
      (void)ApplyKeepAlive(*keepalive);
    } else if (auto* revoke = std::get_if<RevokeRecord>(&*record)) {
      (void)ApplyRevoke(revoke->id);
    } else {
      ApplyExpire(std::get<ExpireRecord>(*record));
    }
    return absl::OkStatus();
  };
  auto wal = Wal::Open(options_.dir / fmt::format("wal-{}", wal_number_), replay);
  if (!wal.ok()) return wal.status();
  wal_ = std::move(*wal);
  log_bytes_ = wal_->size();
  snapshot_at_bytes_ = options_.snapshot_after_bytes;

  // Leases run on in wall-clock time while the agent is down.
  int64_t wall_now = options_.wall_ms();
  Clock::TimePoint now = options_.clock->Now();
  std::vector<ExpireRecord> ran_out;
  for (LeaseId id : index_.Leases()) {
    // Capped by the TTL: a wall clock stepped back while down must not stretch a lease.
    int64_t left_ms = std::min(wall_deadlines_[id] - wall_now, index_.GetLease(id)->ttl.count());
    if (left_ms <= 0) ran_out.push_back({id, index_.GetLease(id)->renewals});
    index_.SetLeaseDeadline(id, now + milliseconds(std::max<int64_t>(left_ms, 0)));
  }
  if (!ran_out.empty()) {
    // Expire them before anyone can read their keys (the sync thread is not running yet).
    std::vector<std::string> records;
    records.reserve(ran_out.size());
    for (const ExpireRecord& r : ran_out) records.push_back(EncodeRecord(r));
    if (auto status = wal_->Append(records); status.ok()) {
      for (const ExpireRecord& r : ran_out) ApplyExpire(r);
      GANTRY_LOG(kInfo, "store: {} leases ran out while the agent was down", ran_out.size());
    } else {
      GANTRY_LOG(kWarn, "store: cannot expire leases yet: {}", StatusMessage(status));
    }
  }
  index_.TrimHistory(options_.history_events);
  ArmLeaseTimer();
  return absl::OkStatus();
}

// --- the write path ---------------------------------------------------------------------------

void EmbeddedStore::Submit(const Record& record, std::function<void(absl::Status)> on_durable) {
  queued_records_.push_back(EncodeRecord(record));
  queued_completions_.push_back(std::move(on_durable));
  if (!appending_) StartAppend();
}

void EmbeddedStore::StartAppend() {
  appending_ = true;
  in_flight_ = std::move(queued_completions_);
  queued_completions_.clear();
  in_flight_bytes_ = 0;
  for (const auto& record : queued_records_) in_flight_bytes_ += record.size() + 8;
  // The work guard keeps the loop running while the append is away on the sync thread.
  net::asio::post(runtime_->sync_thread,
                  [this, records = std::move(queued_records_), alive = std::weak_ptr<bool>(alive_),
                   work = net::asio::make_work_guard(io_)]() mutable {
                    absl::Status status = wal_->Append(records);
                    net::asio::post(io_, [this, status = std::move(status), alive]() mutable {
                      if (auto live = alive.lock(); live && *live) FinishAppend(status);
                    });
                  });
  queued_records_.clear();
}

void EmbeddedStore::FinishAppend(const absl::Status& status) {
  ++stats_.appends;
  if (status.ok()) {
    stats_.records += in_flight_.size();
    log_bytes_ += in_flight_bytes_;
  } else {
    ++stats_.failed_appends;
    GANTRY_LOG(kError, "store: {} writes failed: {}", in_flight_.size(), StatusMessage(status));
  }
  // In log order; completions may queue more writes, which go in the next batch.
  auto completions = std::move(in_flight_);
  in_flight_.clear();
  for (auto& completion : completions) completion(status);
  appending_ = false;
  if (log_bytes_ >= snapshot_at_bytes_) return StartSnapshot();
  if (!queued_completions_.empty()) StartAppend();
}

// --- cutting the log ----------------------------------------------------------------------------

SnapshotData EmbeddedStore::TakeSnapshot() const {
  SnapshotData snapshot;
  snapshot.revision = index_.revision();
  snapshot.next_lease = next_lease_;
  snapshot.next_wal = wal_number_ + 1;
  for (LeaseId id : index_.Leases()) {
    auto lease = index_.GetLease(id);
    auto wall = wall_deadlines_.find(id);
    snapshot.leases.push_back({id, lease->ttl.count(), lease->renewals,
                               wall == wall_deadlines_.end() ? 0 : wall->second});
  }
  snapshot.kvs = index_.Range({"", true});
  return snapshot;
}

// Runs between appends (nothing in flight, so the state is exactly the log's): the snapshot is
// made durable before the new log is used, and the old log goes only after both.
void EmbeddedStore::StartSnapshot() {
  appending_ = true;
  std::string data = EncodeSnapshot(TakeSnapshot());
  uint64_t next = wal_number_ + 1;
  net::asio::post(runtime_->sync_thread, [this, data = std::move(data), next,
                                          alive = std::weak_ptr<bool>(alive_),
                                          work = net::asio::make_work_guard(io_)]() mutable {
    // 1. The new log, empty: harmless until a snapshot names it.
    auto wal = Wal::Open(options_.dir / fmt::format("wal-{}", next),
                         [](std::string_view) { return absl::OkStatus(); });
    absl::Status status = wal.status();
    // 2. The snapshot: once it is in place, the new log is the one to append to.
    bool in_place = false;
    if (status.ok()) status = WriteFileAtomically(options_.dir / "snapshot", data, &in_place);
    if (in_place) {
      wal_ = std::move(*wal);
      std::error_code ignored;  // a leftover old log is harmless: nothing names it any more
      std::filesystem::remove(options_.dir / fmt::format("wal-{}", next - 1), ignored);
      if (!status.ok())
        GANTRY_LOG(kWarn, "store: snapshot written, but: {}", StatusMessage(status));
      status = absl::OkStatus();
    } else if (wal.ok()) {
      wal->reset();
      std::error_code ignored;
      std::filesystem::remove(options_.dir / fmt::format("wal-{}", next), ignored);
    }
    net::asio::post(io_, [this, status = std::move(status), alive]() mutable {
      if (auto live = alive.lock(); live && *live) FinishSnapshot(status);
    });
  });
}

void EmbeddedStore::FinishSnapshot(const absl::Status& status) {
  appending_ = false;
  if (status.ok()) {
    ++stats_.snapshots;
    ++wal_number_;
    log_bytes_ = 0;
    snapshot_at_bytes_ = options_.snapshot_after_bytes;
  } else {
    // The old log goes on; try again after as much again has been written.
    GANTRY_LOG(kError, "store: cannot write a snapshot: {}", StatusMessage(status));
    snapshot_at_bytes_ = log_bytes_ + options_.snapshot_after_bytes;
  }
  if (!queued_completions_.empty()) StartAppend();
}

template <typename T>
void EmbeddedStore::Fail(Done<T> done, absl::Status status) {
  // Writes always complete later, never inside the call.
  net::asio::post(io_, [done = std::move(done), status = std::move(status)] { done(status); });
}

void EmbeddedStore::AfterApply(bool leases_changed) {
  index_.TrimHistory(options_.history_events);
  if (leases_changed) ArmLeaseTimer();
}

void EmbeddedStore::Put(std::string key, std::string value, PutOptions options,
                        Done<Revision> done) {
  if (auto status = CheckKeyValue(key, value); !status.ok()) return Fail(std::move(done), status);
  Txn(PutAsTxn(std::move(key), std::move(value), options),
      [done = std::move(done), expected = options.expect_mod_revision](
          absl::StatusOr<TxnResult> result) { done(PutTxnResult(std::move(result), expected)); });
}

void EmbeddedStore::Delete(KeyRange range, Done<DeleteResult> done) {
  TxnRequest request;
  request.success.push_back(TxnOp::Delete(std::move(range)));
  Txn(std::move(request), [done = std::move(done)](absl::StatusOr<TxnResult> result) {
    if (!result.ok()) return done(result.status());
    done(DeleteResult{result->results.front().deleted, result->revision});
  });
}

void EmbeddedStore::Txn(TxnRequest request, Done<TxnResult> done) {
  for (const auto* ops : {&request.success, &request.failure}) {
    for (const TxnOp& op : *ops) {
      if (op.type != TxnOp::Type::kPut) continue;
      if (auto status = CheckKeyValue(op.range.key, op.value); !status.ok())
        return Fail(std::move(done), status);
    }
  }
  auto shared = std::make_shared<TxnRequest>(std::move(request));
  Submit(*shared, [this, shared, done = std::move(done)](const absl::Status& durable) {
    if (!durable.ok()) return done(durable);
    auto result = ApplyTxn(*shared);
    AfterApply(false);
    done(std::move(result));
  });
}

void EmbeddedStore::GrantLease(Duration ttl, Done<LeaseGrant> done) {
  if (auto status = CheckTtl(ttl); !status.ok()) return Fail(std::move(done), status);
  GrantRecord record{next_lease_++, ttl.count(), options_.wall_ms()};
  Submit(record, [this, record, done = std::move(done)](const absl::Status& durable) {
    if (!durable.ok()) return done(durable);
    auto grant = ApplyGrant(record);
    AfterApply(true);
    done(std::move(grant));
  });
}

void EmbeddedStore::KeepAlive(LeaseId id, Done<LeaseGrant> done) {
  if (!index_.GetLease(id))
    return Fail(std::move(done), absl::NotFoundError(fmt::format("no lease {}", id)));
  KeepAliveRecord record{id, options_.wall_ms()};
  Submit(record, [this, record, done = std::move(done)](const absl::Status& durable) {
    if (!durable.ok()) return done(durable);
    auto lease = ApplyKeepAlive(record);
    AfterApply(true);
    done(std::move(lease));
  });
}

void EmbeddedStore::RevokeLease(LeaseId id, Done<Revision> done) {
  if (!index_.GetLease(id))
    return Fail(std::move(done), absl::NotFoundError(fmt::format("no lease {}", id)));
  Submit(RevokeRecord{id}, [this, id, done = std::move(done)](const absl::Status& durable) {
    if (!durable.ok()) return done(durable);
    absl::Status status = ApplyRevoke(id);
    AfterApply(true);
    if (!status.ok()) return done(status);
    done(index_.revision());
  });
}

// --- leases -----------------------------------------------------------------------------------

void EmbeddedStore::CheckLeases() {
  Clock::TimePoint now = options_.clock->Now();
  if (now < retry_expiry_at_) return ArmLeaseTimer();
  for (LeaseId id : index_.LeasesDueBy(now)) {
    int64_t renewals = index_.GetLease(id)->renewals;
    auto [it, added] = expiring_.try_emplace(id, renewals);
    if (!added && it->second == renewals) continue;  // its expiry is already on the way
    it->second = renewals;
    ExpireRecord record{id, renewals};
    Submit(record, [this, record](const absl::Status& durable) {
      if (!durable.ok()) {
        // Disk full: the lease stays until an expiry can be logged; try again later.
        expiring_.erase(record.id);
        retry_expiry_at_ = options_.clock->Now() + kExpiryRetry;
        return ArmLeaseTimer();
      }
      ApplyExpire(record);
      AfterApply(true);
    });
  }
  ArmLeaseTimer();
}

void EmbeddedStore::ArmLeaseTimer() {
  // The earliest deadline among leases whose expiry is not already on its way.
  std::optional<Clock::TimePoint> next;
  for (LeaseId id : index_.Leases()) {
    auto lease = index_.GetLease(id);
    auto pending = expiring_.find(id);
    if (pending != expiring_.end() && pending->second == lease->renewals) continue;
    if (!next || lease->deadline < *next) next = lease->deadline;
  }
  auto& timer = runtime_->lease_timer;
  if (!next) {
    timer.cancel();
    return;
  }
  Clock::TimePoint at = std::max(*next, retry_expiry_at_);
  timer.expires_after(std::max(at - options_.clock->Now(), Clock::TimePoint::duration::zero()));
  timer.async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    auto live = alive.lock();
    if (ec || !live || !*live) return;
    CheckLeases();
  });
}

// --- applying durable requests ----------------------------------------------------------------

absl::StatusOr<TxnResult> EmbeddedStore::ApplyTxn(const TxnRequest& request) {
  return index_.Txn(request.compares, request.success, request.failure);
}

absl::StatusOr<LeaseGrant> EmbeddedStore::ApplyGrant(const GrantRecord& record) {
  Duration ttl(record.ttl_ms);
  auto id = index_.GrantLease(ttl, options_.clock->Now(), record.id);
  if (!id.ok()) return id.status();
  wall_deadlines_[*id] = record.wall_ms + record.ttl_ms;
  return LeaseGrant{*id, ttl};
}

absl::StatusOr<LeaseGrant> EmbeddedStore::ApplyKeepAlive(const KeepAliveRecord& record) {
  if (auto status = index_.KeepAlive(record.id, options_.clock->Now()); !status.ok()) return status;
  Duration ttl = index_.GetLease(record.id)->ttl;
  wall_deadlines_[record.id] = record.wall_ms + ttl.count();
  return LeaseGrant{record.id, ttl};
}

absl::Status EmbeddedStore::ApplyRevoke(LeaseId id) {
  expiring_.erase(id);
  wall_deadlines_.erase(id);
  return index_.RevokeLease(id);
}

void EmbeddedStore::ApplyExpire(const ExpireRecord& record) {
  auto lease = index_.GetLease(record.id);
  if (lease && lease->renewals == record.renewals) (void)ApplyRevoke(record.id);
  if (auto it = expiring_.find(record.id); it != expiring_.end() && it->second == record.renewals)
    expiring_.erase(it);
}

// --- reads ------------------------------------------------------------------------------------

void EmbeddedStore::Range(const KeyRange& range, Done<RangeResult> done) {
  done(RangeResult{index_.Range(range), index_.revision()});
}

WatchId EmbeddedStore::Watch(KeyRange range, Revision from, WatchCallback callback) {
  auto id = index_.Watch(range, from, [callback](const Event& event) { callback(event); });
  if (!id.ok()) {
    callback(id.status());
    return 0;
  }
  return *id;
}

void EmbeddedStore::CancelWatch(WatchId id) { index_.CancelWatch(id); }

void EmbeddedStore::Compact(Revision revision, Done<Revision> done) {
  if (auto status = index_.Compact(revision); !status.ok()) return done(status);
  done(revision);
}

}  // namespace gantry::store
