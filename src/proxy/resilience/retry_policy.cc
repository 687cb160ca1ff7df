#include "proxy/resilience/retry_policy.h"

#include <algorithm>

namespace gantry::proxy {

bool RetryPolicy::RetriesStatus(int status) const {
  if (spec_.on_5xx && status >= 500 && status <= 599) return true;
  if (spec_.on_gateway_error && (status == 502 || status == 503 || status == 504)) return true;
  return std::find(spec_.on_status.begin(), spec_.on_status.end(), status) != spec_.on_status.end();
}

bool RetryPolicy::Allows(TryOutcome outcome, int status, http::h1::Method method,
                         int retries_so_far) const {
  if (retries_so_far >= spec_.attempts) return false;
  bool method_ok = spec_.non_idempotent || http::h1::IsIdempotent(method);
  switch (outcome) {
    case TryOutcome::kConnectFailure:
      return spec_.on_connect_failure;
    case TryOutcome::kReset:
      return spec_.on_reset && method_ok;
    case TryOutcome::kTimeout:
      return (spec_.on_5xx || spec_.on_gateway_error || RetriesStatus(504)) && method_ok;
    case TryOutcome::kStatus:
      return RetriesStatus(status) && method_ok;
  }
  return false;
}

bool RetryPolicy::AllowsGrpc(int grpc_status, int retries_so_far) const {
  return retries_so_far < spec_.attempts &&
         std::find(spec_.on_grpc_status.begin(), spec_.on_grpc_status.end(), grpc_status) !=
             spec_.on_grpc_status.end();
}

Duration RetryPolicy::Backoff(int retry, uint64_t random) const {
  int64_t base = spec_.backoff.count();
  int64_t cap = spec_.max_backoff.count();
  int shift = std::min(retry - 1, 30);
  int64_t ceiling = std::min(cap, base << std::max(shift, 0));
  if (ceiling <= 0) return Duration(0);
  return Duration(static_cast<int64_t>(random % static_cast<uint64_t>(ceiling + 1)));
}

}  // namespace gantry::proxy
