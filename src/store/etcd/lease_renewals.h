// When a lease renewal's answer must be confirmed with LeaseTimeToLive before it is believed.
// etcd 3.4 can answer a renewal with a positive TTL while it revokes the lease for having run
// out, its keys already deleted (etcd #14758; fixed in 3.5 and 3.6, not in Debian's 3.4.23).
// That can only happen to a renewal sent after the lease could have run out: here, more than
// half its TTL after the last renewal answered (renewals come every third of it), or the first
// renewal of a lease this store did not grant. Pure; on the store's loop.
#pragma once

#include <chrono>
#include <map>

#include "store/store.h"

namespace gantry::store::etcd {

class LeaseRenewals {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Whether a renewal of `id` answered at `at` must be confirmed.
  bool NeedsConfirming(LeaseId id, TimePoint at) const {
    auto it = leases_.find(id);
    return it == leases_.end() || at - it->second.renewed >= it->second.ttl / 2;
  }
  // Granted, or renewed (and confirmed when it had to be), at `at` for `ttl`.
  void Renewed(LeaseId id, Duration ttl, TimePoint at) {
    leases_[id] = {at, ttl};
    if (++renewals_ % 1024 == 0) ForgetRunOut(at);
  }
  void Forget(LeaseId id) { leases_.erase(id); }
  size_t size() const { return leases_.size(); }

 private:
  // Leases nobody renews any more (a client gone) are gone from etcd too: an unknown lease's
  // renewal is confirmed, so forgetting them is safe.
  void ForgetRunOut(TimePoint now) {
    std::erase_if(leases_, [now](const auto& entry) {
      return now - entry.second.renewed > 2 * entry.second.ttl;
    });
  }

  struct Lease {
    TimePoint renewed;
    Duration ttl;
  };
  std::map<LeaseId, Lease> leases_;
  uint64_t renewals_ = 0;
};

}  // namespace gantry::store::etcd
