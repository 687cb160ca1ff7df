// The embedded store's log records: the write requests themselves, not their effects. The log
// is replayed through the same state machine in the same order, so replay reaches the same
// state (a failed compare fails again), as a Raft log does for etcd.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "store/types.h"

namespace gantry::store {

struct GrantRecord {
  LeaseId id = 0;
  int64_t ttl_ms = 0;
  int64_t wall_ms = 0;  // wall-clock time of the grant: expiry survives a restart
};

struct KeepAliveRecord {
  LeaseId id = 0;
  int64_t wall_ms = 0;
};

struct RevokeRecord {
  LeaseId id = 0;
};

// Expires the lease only if it was not renewed since the expiry was decided: a keepalive logged
// in between wins.
struct ExpireRecord {
  LeaseId id = 0;
  int64_t renewals = 0;
};

using Record = std::variant<TxnRequest, GrantRecord, KeepAliveRecord, RevokeRecord, ExpireRecord>;

std::string EncodeRecord(const Record& record);
absl::StatusOr<Record> DecodeRecord(std::string_view data);  // DataLoss when malformed

// The whole state at one revision, written when the log is cut: the log that continues it is
// "wal-<next_wal>".
struct SnapshotData {
  Revision revision = 1;
  LeaseId next_lease = 1;
  uint64_t next_wal = 0;
  struct Lease {
    LeaseId id = 0;
    int64_t ttl_ms = 0;
    int64_t renewals = 0;
    int64_t wall_deadline_ms = 0;
  };
  std::vector<Lease> leases;
  std::vector<KeyValue> kvs;
};

std::string EncodeSnapshot(const SnapshotData& snapshot);
absl::StatusOr<SnapshotData> DecodeSnapshot(std::string_view data);

}  // namespace gantry::store
