// The store's vocabulary, with etcd's meanings: one global revision that every write
// transaction advances by one; per key its create and mod revisions and its version (writes
// since creation); leases that delete their keys when they end.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace gantry::store {

using Revision = int64_t;
using LeaseId = int64_t;  // 0: no lease

// Limits every backend enforces (PRODUCT.md's API promises the same).
inline constexpr size_t kMaxKeyBytes = size_t{8} * 1024;
inline constexpr size_t kMaxValueBytes = size_t{1024} * 1024;
inline constexpr std::chrono::milliseconds kMinLeaseTtl{1000};
inline constexpr std::chrono::milliseconds kMaxLeaseTtl{std::chrono::hours(24)};

// InvalidArgument for an empty or oversized key, or an oversized value.
absl::Status CheckKeyValue(const std::string& key, const std::string& value);
// InvalidArgument for a lease TTL outside [kMinLeaseTtl, kMaxLeaseTtl].
absl::Status CheckTtl(std::chrono::milliseconds ttl);

struct KeyValue {
  std::string key;
  std::string value;
  Revision create_revision = 0;
  Revision mod_revision = 0;
  int64_t version = 0;  // 1 on creation, +1 per put; a deleted key starts over
  LeaseId lease = 0;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  // For a delete: the key, and mod_revision = the deleting revision; other fields empty.
  KeyValue kv;

  friend bool operator==(const Event&, const Event&) = default;
};

// A key or, with prefix, every key starting with it ("" with prefix: all keys).
struct KeyRange {
  std::string key;
  bool prefix = false;

  bool Contains(const std::string& k) const { return prefix ? k.starts_with(key) : k == key; }
};

// One comparison of a transaction, against a missing key's zero values when it is absent.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue, kLease };
  enum class Op { kEqual, kNotEqual, kLess, kGreater };
  std::string key;
  Target target = Target::kModRevision;
  Op op = Op::kEqual;
  int64_t number = 0;  // for every target but kValue
  std::string value;   // for kValue
};

struct TxnOp {
  enum class Type { kGet, kPut, kDelete };
  Type type = Type::kGet;
  KeyRange range;     // kGet and kDelete; kPut uses range.key
  std::string value;  // kPut
  LeaseId lease = 0;  // kPut

  static TxnOp Get(KeyRange range) {
    TxnOp op;
    op.range = std::move(range);
    return op;
  }
  static TxnOp Put(std::string key, std::string value, LeaseId lease = 0) {
    TxnOp op;
    op.type = Type::kPut;
    op.range.key = std::move(key);
    op.value = std::move(value);
    op.lease = lease;
    return op;
  }
  static TxnOp Delete(KeyRange range) {
    TxnOp op;
    op.type = Type::kDelete;
    op.range = std::move(range);
    return op;
  }
};

// If every compare holds, `success` runs, else `failure`.
struct TxnRequest {
  std::vector<Compare> compares;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnOpResult {
  std::vector<KeyValue> kvs;  // kGet: the keys read; kPut: the previous value, if any
  int64_t deleted = 0;        // kDelete
};

struct TxnResult {
  bool succeeded = false;  // whether the compares held (then ran "success", else "failure")
  Revision revision = 0;   // the store's revision after the transaction
  std::vector<TxnOpResult> results;
};

}  // namespace gantry::store
