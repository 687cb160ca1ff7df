#include <vector>

#include <gtest/gtest.h>

#include "proxy/lb/least_request.h"

namespace gantry::proxy {
namespace {

TEST(LeastRequest, AvoidsTheBusyEndpointAndPicksDistinctPairs) {
  LeastRequest lb(42);
  std::vector<uint32_t> active = {0, 0, 50, 0};
  int busy = 0;
  std::vector<int> picks(4, 0);
  auto load = [&active](size_t i) { return active[i]; };
  for (int i = 0; i < 10'000; ++i) {
    size_t pick = lb.Pick(active.size(), load);
    ++picks[pick];
    busy += pick == 2;
  }
  EXPECT_EQ(busy, 0);  // it is never the lesser of two
  for (size_t i : {0u, 1u, 3u}) EXPECT_GT(picks[i], 2'500);
  EXPECT_EQ(lb.Pick(1, load), 0u);
}

}  // namespace
}  // namespace gantry::proxy
