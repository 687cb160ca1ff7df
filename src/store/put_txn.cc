#include "store/put_txn.h"

#include <fmt/format.h>

namespace gantry::store {

TxnRequest PutAsTxn(std::string key, std::string value, const PutOptions& options) {
  TxnRequest request;
  if (options.expect_mod_revision) {
    Compare compare;
    compare.key = key;
    compare.number = *options.expect_mod_revision;
    request.compares.push_back(std::move(compare));
    request.failure.push_back(TxnOp::Get(KeyRange{key, false}));
  }
  request.success.push_back(TxnOp::Put(std::move(key), std::move(value), options.lease));
  return request;
}

absl::StatusOr<Revision> PutTxnResult(absl::StatusOr<TxnResult> result,
                                      std::optional<Revision> expected) {
  if (!result.ok()) return result.status();
  if (!result->succeeded) {
    const auto& found = result->results.front().kvs;
    return absl::FailedPreconditionError(fmt::format("the key is at mod revision {}, not {}",
                                                     found.empty() ? 0 : found.front().mod_revision,
                                                     expected.value_or(0)));
  }
  return result->revision;
}

}  // namespace gantry::store
