// A put as a transaction, the same on every backend: with an expected mod revision it is a
// compare-and-set whose failure branch reads the key, so the error can say where it is.
#pragma once

#include <optional>

#include "store/store.h"

namespace gantry::store {

TxnRequest PutAsTxn(std::string key, std::string value, const PutOptions& options);

// The put's revision, or FailedPrecondition naming the key's actual mod revision.
absl::StatusOr<Revision> PutTxnResult(absl::StatusOr<TxnResult> result,
                                      std::optional<Revision> expected);

}  // namespace gantry::store
