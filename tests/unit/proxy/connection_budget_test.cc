#include "proxy/connection_budget.h"

#include <gtest/gtest.h>

namespace gantry::proxy {
namespace {

TEST(ConnectionBudget, LeavesTheControlPlaneAReserveAndEachClientAnUpstream) {
  ConnectionBudget budget = BudgetFor(20000, 0);
  EXPECT_EQ(budget.reserve, 2500u);
  EXPECT_EQ(budget.clients, 8750u);  // (20,000 - 2,500) / 2
  EXPECT_EQ(budget.gateway, 6563u);  // a quarter kept for the mesh
  EXPECT_FALSE(budget.clamped);
  EXPECT_LE(budget.clients * 2 + budget.reserve, 20000u);
}

TEST(ConnectionBudget, ARequestAboveTheLimitIsLoweredAndOneBelowKept) {
  ConnectionBudget budget = BudgetFor(20000, 100000);  // the old default
  EXPECT_TRUE(budget.clamped);
  EXPECT_EQ(budget.clients, 8750u);
  budget = BudgetFor(20000, 1000);
  EXPECT_FALSE(budget.clamped);
  EXPECT_EQ(budget.clients, 1000u);
  EXPECT_EQ(budget.gateway, 750u);
}

TEST(ConnectionBudget, SmallAndLargeLimits) {
  ConnectionBudget small = BudgetFor(256, 0);
  EXPECT_EQ(small.reserve, 128u);  // never more than half
  EXPECT_EQ(small.clients, 64u);
  ConnectionBudget large = BudgetFor(1u << 20, 0);
  EXPECT_EQ(large.reserve, 4096u);
  EXPECT_EQ(large.clients, ((1u << 20) - 4096u) / 2);
  EXPECT_GE(BudgetFor(0, 0).clients, 1u);
}

}  // namespace
}  // namespace gantry::proxy
