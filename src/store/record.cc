#include "store/record.h"

#include <fmt/format.h>

namespace gantry::store {
namespace {

// Little-endian fixed-width integers and length-prefixed strings; a version byte leads.
constexpr uint8_t kFormatVersion = 1;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void I64(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
  void Str(std::string_view s) {
    I64(static_cast<int64_t>(s.size()));
    out_.append(s);
  }
  void Range(const KeyRange& range) {
    Str(range.key);
    U8(range.prefix ? 1 : 0);
  }
  void Op(const TxnOp& op) {
    U8(static_cast<uint8_t>(op.type));
    Range(op.range);
    Str(op.value);
    I64(op.lease);
  }
  void Ops(const std::vector<TxnOp>& ops) {
    I64(static_cast<int64_t>(ops.size()));
    for (const TxnOp& op : ops) Op(op);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

  uint8_t U8() {
    if (!Need(1)) return 0;
    auto v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  int64_t I64() {
    if (!Need(8)) return 0;
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    in_.remove_prefix(8);
    return static_cast<int64_t>(u);
  }
  std::string Str() {
    int64_t size = I64();
    if (size < 0 || !Need(static_cast<size_t>(size))) return {};
    std::string s(in_.substr(0, static_cast<size_t>(size)));
    in_.remove_prefix(static_cast<size_t>(size));
    return s;
  }
  // An enum stored as a byte, checked against its largest value.
  template <typename E>
  E Enum(E last) {
    uint8_t v = U8();
    if (v > static_cast<uint8_t>(last)) ok_ = false;
    return static_cast<E>(v);
  }
  KeyRange Range() {
    KeyRange range;
    range.key = Str();
    range.prefix = U8() != 0;
    return range;
  }
  TxnOp Op() {
    TxnOp op;
    op.type = Enum(TxnOp::Type::kDelete);
    op.range = Range();
    op.value = Str();
    op.lease = I64();
    return op;
  }
  std::vector<TxnOp> Ops() {
    std::vector<TxnOp> ops;
    int64_t count = I64();
    // Each op takes at least 26 bytes: a count beyond what is left is garbage.
    if (count < 0 || static_cast<size_t>(count) > in_.size() / 26) ok_ = false;
    for (int64_t i = 0; ok_ && i < count; ++i) ops.push_back(Op());
    return ops;
  }

 private:
  bool Need(size_t n) {
    if (in_.size() < n) ok_ = false;
    return ok_;
  }
  std::string_view in_;
  bool ok_ = true;
};

enum class Kind : uint8_t { kTxn, kGrant, kKeepAlive, kRevoke, kExpire };

}  // namespace

std::string EncodeRecord(const Record& record) {
  Writer w;
  w.U8(kFormatVersion);
  w.U8(static_cast<uint8_t>(record.index()));
  std::visit(
      [&w]<typename T>(const T& r) {
        if constexpr (std::is_same_v<T, TxnRequest>) {
          w.I64(static_cast<int64_t>(r.compares.size()));
          for (const Compare& c : r.compares) {
            w.Str(c.key);
            w.U8(static_cast<uint8_t>(c.target));
            w.U8(static_cast<uint8_t>(c.op));
            w.I64(c.number);
            w.Str(c.value);
          }
          w.Ops(r.success);
          w.Ops(r.failure);
        } else if constexpr (std::is_same_v<T, GrantRecord>) {
          w.I64(r.id);
          w.I64(r.ttl_ms);
          w.I64(r.wall_ms);
        } else if constexpr (std::is_same_v<T, KeepAliveRecord>) {
          w.I64(r.id);
          w.I64(r.wall_ms);
        } else if constexpr (std::is_same_v<T, RevokeRecord>) {
          w.I64(r.id);
        } else {
          w.I64(r.id);
          w.I64(r.renewals);
        }
      },
      record);
  return w.Take();
}

absl::StatusOr<Record> DecodeRecord(std::string_view data) {
  Reader r(data);
  uint8_t version = r.U8();
  if (r.ok() && version != kFormatVersion) {
    return absl::DataLossError(fmt::format("log record of unknown format {}", version));
  }
  Record record;
  switch (r.Enum(Kind::kExpire)) {
    case Kind::kTxn: {
      TxnRequest txn;
      int64_t count = r.I64();
      if (count < 0 || static_cast<size_t>(count) > data.size()) count = 0;
      for (int64_t i = 0; r.ok() && i < count; ++i) {
        Compare c;
        c.key = r.Str();
        c.target = r.Enum(Compare::Target::kLease);
        c.op = r.Enum(Compare::Op::kGreater);
        c.number = r.I64();
        c.value = r.Str();
        txn.compares.push_back(std::move(c));
      }
      txn.success = r.Ops();
      txn.failure = r.Ops();
      record = std::move(txn);
      break;
    }
    case Kind::kGrant: {
      GrantRecord g;
      g.id = r.I64();
      g.ttl_ms = r.I64();
      g.wall_ms = r.I64();
      record = g;
      break;
    }
    case Kind::kKeepAlive: {
      KeepAliveRecord k;
      k.id = r.I64();
      k.wall_ms = r.I64();
      record = k;
      break;
    }
    case Kind::kRevoke:
      record = RevokeRecord{r.I64()};
      break;
    case Kind::kExpire: {
      ExpireRecord e;
      e.id = r.I64();
      e.renewals = r.I64();
      record = e;
      break;
    }
  }
  if (!r.ok() || !r.done()) return absl::DataLossError("malformed log record");
  return record;
}

std::string EncodeSnapshot(const SnapshotData& snapshot) {
  Writer w;
  w.U8(kFormatVersion);
  w.I64(snapshot.revision);
  w.I64(snapshot.next_lease);
  w.I64(static_cast<int64_t>(snapshot.next_wal));
  w.I64(static_cast<int64_t>(snapshot.leases.size()));
  for (const auto& lease : snapshot.leases) {
    w.I64(lease.id);
    w.I64(lease.ttl_ms);
    w.I64(lease.renewals);
    w.I64(lease.wall_deadline_ms);
  }
  w.I64(static_cast<int64_t>(snapshot.kvs.size()));
  for (const KeyValue& kv : snapshot.kvs) {
    w.Str(kv.key);
    w.Str(kv.value);
    w.I64(kv.create_revision);
    w.I64(kv.mod_revision);
    w.I64(kv.version);
    w.I64(kv.lease);
  }
  return w.Take();
}

absl::StatusOr<SnapshotData> DecodeSnapshot(std::string_view data) {
  Reader r(data);
  SnapshotData snapshot;
  if (r.U8() != kFormatVersion) return absl::DataLossError("snapshot of unknown format");
  snapshot.revision = r.I64();
  snapshot.next_lease = r.I64();
  snapshot.next_wal = static_cast<uint64_t>(r.I64());
  int64_t leases = r.I64();
  for (int64_t i = 0; r.ok() && i < leases; ++i) {
    SnapshotData::Lease lease;
    lease.id = r.I64();
    lease.ttl_ms = r.I64();
    lease.renewals = r.I64();
    lease.wall_deadline_ms = r.I64();
    snapshot.leases.push_back(lease);
  }
  int64_t kvs = r.I64();
  for (int64_t i = 0; r.ok() && i < kvs; ++i) {
    KeyValue kv;
    kv.key = r.Str();
    kv.value = r.Str();
    kv.create_revision = r.I64();
    kv.mod_revision = r.I64();
    kv.version = r.I64();
    kv.lease = r.I64();
    snapshot.kvs.push_back(std::move(kv));
  }
  if (!r.ok() || !r.done()) return absl::DataLossError("malformed snapshot");
  return snapshot;
}

}  // namespace gantry::store
