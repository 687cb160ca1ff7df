// Which failed tries are tried again, and how long to wait first (policy.retries). Pure: the
// caller supplies the randomness, so tests pin the jitter.
// A connect failure is always safe to retry (the request never reached a replica); any other
// retry is for idempotent methods unless `non_idempotent` is set.
#pragma once

#include <cstdint>

#include "config/app_spec.h"
#include "core/duration.h"
#include "http/h1_head.h"

namespace gantry::proxy {

enum class TryOutcome : uint8_t {
  kConnectFailure,  // no connection: nothing was sent
  kReset,           // the connection failed after the request was (partly) sent
  kTimeout,         // the try's own timeout ran out (it would be answered 504)
  kStatus,          // a complete response head with a status
};

class RetryPolicy {
 public:
  explicit RetryPolicy(const config::RetrySpec& spec) : spec_(spec) {}

  // Whether a try that ended so (with `status` for kStatus) may be followed by another.
  // `retries_so_far` counts retries already made.
  bool Allows(TryOutcome outcome, int status, http::h1::Method method, int retries_so_far) const;
  bool RetriesStatus(int status) const;
  // Whether a retry after `outcome` takes a place in the retry budget: not after a connect
  // failure, which reached no replica (a replica's death refuses every request sent to it
  // before the routes drop it: those must go elsewhere, however many they are).
  static bool CountsInBudget(TryOutcome outcome) { return outcome != TryOutcome::kConnectFailure; }
  // Whether a gRPC call that ended with `grpc_status` before its response began may be tried
  // again (gRPC codes are an explicit opt-in: no idempotency rule).
  bool AllowsGrpc(int grpc_status, int retries_so_far) const;

  // The wait before retry number `retry` (1 for the first): "full jitter", a uniform draw from
  // [0, min(max_backoff, backoff * 2^(retry-1))], from a 64-bit random value.
  Duration Backoff(int retry, uint64_t random) const;

  const config::RetrySpec& spec() const { return spec_; }

 private:
  config::RetrySpec spec_;
};

}  // namespace gantry::proxy
