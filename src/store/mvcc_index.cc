#include "store/mvcc_index.h"

#include <algorithm>

#include <fmt/format.h>

namespace gantry::store {

std::optional<KeyValue> MvccIndex::Get(const std::string& key) const {
  auto it = live_.find(key);
  if (it == live_.end()) return std::nullopt;
  return it->second;
}

std::vector<KeyValue> MvccIndex::Range(const KeyRange& range) const {
  std::vector<KeyValue> out;
  if (!range.prefix) {
    if (auto kv = Get(range.key)) out.push_back(std::move(*kv));
    return out;
  }
  for (auto it = live_.lower_bound(range.key); it != live_.end() && range.Contains(it->first);
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::Status MvccIndex::CheckPut(const std::string& key, const std::string& value,
                                 LeaseId lease) const {
  if (auto status = CheckKeyValue(key, value); !status.ok()) return status;
  if (lease != 0 && !leases_.count(lease)) {
    return absl::NotFoundError(fmt::format("no lease {}", lease));
  }
  return absl::OkStatus();
}

absl::StatusOr<Revision> MvccIndex::Put(const std::string& key, const std::string& value,
                                        LeaseId lease,
                                        std::optional<Revision> expect_mod_revision) {
  if (auto status = CheckPut(key, value, lease); !status.ok()) return status;
  if (expect_mod_revision) {
    auto current = Get(key);
    Revision actual = current ? current->mod_revision : 0;
    if (actual != *expect_mod_revision) {
      return absl::FailedPreconditionError(
          fmt::format("{} is at mod revision {}, not {}", key, actual, *expect_mod_revision));
    }
  }
  std::vector<Event> events;
  PutAt(key, value, lease, revision_ + 1, events, nullptr);
  Commit(std::move(events));
  return revision_;
}

int64_t MvccIndex::Delete(const KeyRange& range) {
  std::vector<Event> events;
  int64_t deleted = DeleteAt(range, revision_ + 1, events);
  Commit(std::move(events));
  return deleted;
}

void MvccIndex::PutAt(const std::string& key, const std::string& value, LeaseId lease, Revision at,
                      std::vector<Event>& events, TxnOpResult* result) {
  auto [it, created] = live_.try_emplace(key);
  KeyValue& kv = it->second;
  if (created) {
    kv.key = key;
    kv.create_revision = at;
  } else {
    if (result) result->kvs.push_back(kv);
    if (kv.lease != lease && kv.lease != 0) {
      if (auto old = leases_.find(kv.lease); old != leases_.end()) old->second.keys.erase(key);
    }
  }
  kv.value = value;
  kv.mod_revision = at;
  ++kv.version;
  kv.lease = lease;
  if (lease != 0) leases_[lease].keys.insert(key);
  events.push_back({Event::Type::kPut, kv});
}

int64_t MvccIndex::DeleteAt(const KeyRange& range, Revision at, std::vector<Event>& events) {
  std::vector<std::string> doomed;  // names only: values may be large
  if (!range.prefix) {
    if (live_.count(range.key)) doomed.push_back(range.key);
  } else {
    for (auto it = live_.lower_bound(range.key); it != live_.end() && range.Contains(it->first);
         ++it) {
      doomed.push_back(it->first);
    }
  }
  for (const std::string& key : doomed) {
    auto it = live_.find(key);
    if (it->second.lease != 0) {
      if (auto lease = leases_.find(it->second.lease); lease != leases_.end())
        lease->second.keys.erase(key);
    }
    live_.erase(it);
    KeyValue gone;
    gone.key = key;
    gone.mod_revision = at;
    events.push_back({Event::Type::kDelete, std::move(gone)});
  }
  return static_cast<int64_t>(doomed.size());
}

bool MvccIndex::Holds(const Compare& compare) const {
  KeyValue kv = Get(compare.key).value_or(KeyValue{});
  if (compare.target == Compare::Target::kValue) {
    int order = kv.value.compare(compare.value);
    switch (compare.op) {
      case Compare::Op::kEqual:
        return order == 0;
      case Compare::Op::kNotEqual:
        return order != 0;
      case Compare::Op::kLess:
        return order < 0;
      case Compare::Op::kGreater:
        return order > 0;
    }
    return false;
  }
  int64_t actual = 0;
  switch (compare.target) {
    case Compare::Target::kVersion:
      actual = kv.version;
      break;
    case Compare::Target::kCreateRevision:
      actual = kv.create_revision;
      break;
    case Compare::Target::kModRevision:
      actual = kv.mod_revision;
      break;
    case Compare::Target::kLease:
      actual = kv.lease;
      break;
    case Compare::Target::kValue:
      break;
  }
  switch (compare.op) {
    case Compare::Op::kEqual:
      return actual == compare.number;
    case Compare::Op::kNotEqual:
      return actual != compare.number;
    case Compare::Op::kLess:
      return actual < compare.number;
    case Compare::Op::kGreater:
      return actual > compare.number;
  }
  return false;
}

TxnOpResult MvccIndex::Apply(const TxnOp& op, Revision at, std::vector<Event>& events) {
  TxnOpResult result;
  switch (op.type) {
    case TxnOp::Type::kGet:
      result.kvs = Range(op.range);
      break;
    case TxnOp::Type::kPut:
      PutAt(op.range.key, op.value, op.lease, at, events, &result);
      break;
    case TxnOp::Type::kDelete:
      result.deleted = DeleteAt(op.range, at, events);
      break;
  }
  return result;
}

absl::StatusOr<TxnResult> MvccIndex::Txn(const std::vector<Compare>& compares,
                                         const std::vector<TxnOp>& success,
                                         const std::vector<TxnOp>& failure) {
  TxnResult out;
  out.succeeded =
      std::all_of(compares.begin(), compares.end(), [this](const Compare& c) { return Holds(c); });
  const std::vector<TxnOp>& ops = out.succeeded ? success : failure;
  // Check everything first: a transaction applies whole or not at all.
  std::set<std::string> written;
  for (const TxnOp& op : ops) {
    if (op.type != TxnOp::Type::kPut) continue;
    if (auto status = CheckPut(op.range.key, op.value, op.lease); !status.ok()) return status;
    if (!written.insert(op.range.key).second) {
      return absl::InvalidArgumentError(
          fmt::format("key {} is written twice in one transaction", op.range.key));
    }
  }
  for (const TxnOp& op : ops) {
    if (op.type != TxnOp::Type::kDelete) continue;
    for (const std::string& key : written) {
      if (op.range.Contains(key)) {
        return absl::InvalidArgumentError(
            fmt::format("key {} is both put and deleted in one transaction", key));
      }
    }
  }
  std::vector<Event> events;
  for (const TxnOp& op : ops) out.results.push_back(Apply(op, revision_ + 1, events));
  Commit(std::move(events));
  out.revision = revision_;
  return out;
}

void MvccIndex::Commit(std::vector<Event> events) {
  if (events.empty()) return;
  revision_ = events.front().kv.mod_revision;
  for (Event& event : events) history_.push_back(event);
  for (const Event& event : events) {
    // A callback may cancel watches: look each one up again.
    std::vector<WatchId> ids;
    for (const auto& [id, watcher] : watchers_) {
      if (event.kv.mod_revision >= watcher.from && watcher.range.Contains(event.kv.key))
        ids.push_back(id);
    }
    for (WatchId id : ids) {
      if (auto it = watchers_.find(id); it != watchers_.end()) it->second.callback(event);
    }
  }
}

absl::StatusOr<LeaseId> MvccIndex::GrantLease(Duration ttl, Clock::TimePoint now, LeaseId id) {
  if (ttl.count() <= 0) return absl::InvalidArgumentError("lease TTL must be more than 0");
  if (id == 0) {
    while (leases_.count(next_lease_)) ++next_lease_;
    id = next_lease_++;
  } else if (id < 0 || leases_.count(id)) {
    return absl::AlreadyExistsError(fmt::format("lease {} exists or is invalid", id));
  }
  leases_[id] = Lease{LeaseInfo{ttl, now + ttl, 1}, {}};
  return id;
}

absl::Status MvccIndex::KeepAlive(LeaseId id, Clock::TimePoint now) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return absl::NotFoundError(fmt::format("no lease {}", id));
  it->second.info.deadline = now + it->second.info.ttl;
  ++it->second.info.renewals;
  return absl::OkStatus();
}

absl::Status MvccIndex::RevokeLease(LeaseId id) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return absl::NotFoundError(fmt::format("no lease {}", id));
  std::set<std::string> keys = std::move(it->second.keys);
  leases_.erase(it);
  std::vector<Event> events;
  for (const std::string& key : keys) DeleteAt(KeyRange{key, false}, revision_ + 1, events);
  Commit(std::move(events));
  return absl::OkStatus();
}

std::vector<LeaseId> MvccIndex::ExpireLeases(Clock::TimePoint now) {
  std::vector<LeaseId> expired = LeasesDueBy(now);
  for (LeaseId id : expired) (void)RevokeLease(id);
  return expired;
}

std::vector<LeaseId> MvccIndex::LeasesDueBy(Clock::TimePoint now) const {
  std::vector<LeaseId> due;
  for (const auto& [id, lease] : leases_) {
    if (lease.info.deadline <= now) due.push_back(id);
  }
  return due;
}

std::optional<Clock::TimePoint> MvccIndex::NextLeaseDeadline() const {
  std::optional<Clock::TimePoint> next;
  for (const auto& [id, lease] : leases_) {
    if (!next || lease.info.deadline < *next) next = lease.info.deadline;
  }
  return next;
}

std::optional<MvccIndex::LeaseInfo> MvccIndex::GetLease(LeaseId id) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  return it->second.info;
}

std::vector<LeaseId> MvccIndex::Leases() const {
  std::vector<LeaseId> ids;
  ids.reserve(leases_.size());
  for (const auto& [id, lease] : leases_) ids.push_back(id);
  return ids;
}

void MvccIndex::SetLeaseDeadline(LeaseId id, Clock::TimePoint deadline) {
  if (auto it = leases_.find(id); it != leases_.end()) it->second.info.deadline = deadline;
}

absl::StatusOr<MvccIndex::WatchId> MvccIndex::Watch(const KeyRange& range, Revision from,
                                                    WatchCallback callback) {
  if (from != 0 && from <= compacted_) {
    return absl::OutOfRangeError(fmt::format(
        "compacted: revision {} is at or below the compaction point {}", from, compacted_));
  }
  if (from == 0) from = revision_ + 1;
  for (const Event& event : history_) {
    if (event.kv.mod_revision >= from && range.Contains(event.kv.key)) callback(event);
  }
  WatchId id = next_watch_++;
  watchers_[id] = Watcher{range, from, std::move(callback)};
  return id;
}

void MvccIndex::CancelWatch(WatchId id) { watchers_.erase(id); }

absl::Status MvccIndex::Compact(Revision revision) {
  if (revision > revision_) {
    return absl::InvalidArgumentError(
        fmt::format("cannot compact at {}: the store is at revision {}", revision, revision_));
  }
  if (revision <= compacted_) {
    return absl::OutOfRangeError(fmt::format("already compacted at {}", compacted_));
  }
  while (!history_.empty() && history_.front().kv.mod_revision <= revision) history_.pop_front();
  compacted_ = revision;
  return absl::OkStatus();
}

void MvccIndex::Restore(Revision revision, std::vector<KeyValue> kvs,
                        const std::vector<RestoredLease>& leases) {
  live_.clear();
  history_.clear();
  leases_.clear();
  for (const RestoredLease& lease : leases) {
    leases_[lease.id] = Lease{lease.info, {}};
    next_lease_ = std::max(next_lease_, lease.id + 1);
  }
  for (KeyValue& kv : kvs) {
    if (kv.lease != 0) leases_[kv.lease].keys.insert(kv.key);
    std::string key = kv.key;
    live_.emplace(std::move(key), std::move(kv));
  }
  revision_ = revision;
  compacted_ = revision;
}

void MvccIndex::TrimHistory(size_t max_events) {
  while (history_.size() > max_events) {
    Revision oldest = history_.front().kv.mod_revision;
    while (!history_.empty() && history_.front().kv.mod_revision == oldest) history_.pop_front();
    compacted_ = oldest;
  }
}

}  // namespace gantry::store
