// When an etcd lease renewal's answer is confirmed before it is believed (etcd 3.4's renewal of
// a lease it is revoking).
#include "store/etcd/lease_renewals.h"

#include <gtest/gtest.h>

namespace gantry::store::etcd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(LeaseRenewals, ARenewalLateEnoughForTheLeaseToHaveRunOutIsConfirmed) {
  LeaseRenewals renewals;
  LeaseRenewals::TimePoint t0{seconds(100)};
  EXPECT_TRUE(renewals.NeedsConfirming(7, t0));  // not granted here: nothing known
  renewals.Renewed(7, seconds(30), t0);
  EXPECT_FALSE(renewals.NeedsConfirming(7, t0 + seconds(10)));  // on time (a third of the TTL)
  EXPECT_FALSE(renewals.NeedsConfirming(7, t0 + milliseconds(14'999)));
  EXPECT_TRUE(renewals.NeedsConfirming(7, t0 + seconds(15)));  // half the TTL: it may have
  renewals.Renewed(7, seconds(30), t0 + seconds(20));
  EXPECT_FALSE(renewals.NeedsConfirming(7, t0 + seconds(30)));  // counted from the last one
  renewals.Forget(7);                                           // revoked, or found gone
  EXPECT_TRUE(renewals.NeedsConfirming(7, t0 + seconds(31)));
}

TEST(LeaseRenewals, LeasesNobodyRenewsAreForgotten) {
  LeaseRenewals renewals;
  LeaseRenewals::TimePoint t0{seconds(100)};
  renewals.Renewed(1, seconds(10), t0);  // then its client went
  for (int i = 0; i < 2048; ++i) renewals.Renewed(2, seconds(10), t0 + seconds(21));
  EXPECT_EQ(renewals.size(), 1u);
  EXPECT_TRUE(renewals.NeedsConfirming(1, t0 + seconds(22)));
}

}  // namespace
}  // namespace gantry::store::etcd
