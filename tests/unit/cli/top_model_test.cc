#include "cli/top_model.h"

#include <gtest/gtest.h>

namespace gantry::cli {
namespace {

TopSample Sample(double at, uint64_t requests, uint64_t errors, std::vector<uint64_t> buckets,
                 double cpu) {
  TopSample s;
  s.at_seconds = at;
  s.latency_bounds_us = {1000, 10000, 100000};
  s.services["web"] = {requests, errors, std::move(buckets), 2, cpu, 64u << 20};
  return s;
}

TEST(TopModel, RatesAndQuantilesOverTheInterval) {
  // Before: 100 slow requests. The interval adds 90 fast and 10 of 10-100 ms, 5 failing.
  TopSample before = Sample(10.0, 100, 0, {0, 0, 100, 0}, 1.0);
  TopSample after = Sample(12.0, 200, 5, {90, 0, 110, 0}, 1.5);
  std::vector<TopRow> rows = ComputeTop(before, after);
  ASSERT_EQ(rows.size(), 1u);
  const TopRow& web = rows[0];
  EXPECT_DOUBLE_EQ(web.requests_per_second, 50.0);
  EXPECT_DOUBLE_EQ(*web.error_rate, 0.05);
  EXPECT_DOUBLE_EQ(*web.p50_ms, 1.0);  // the interval's, not since the start
  EXPECT_DOUBLE_EQ(*web.p99_ms, 100.0);
  EXPECT_DOUBLE_EQ(*web.cpu_percent, 25.0);  // 0.5 s of CPU in 2 s
  EXPECT_EQ(web.replicas, 2);
  std::string table = FormatTop(rows);
  EXPECT_NE(table.find("web"), std::string::npos) << table;
  EXPECT_NE(table.find("50.0"), std::string::npos) << table;
  EXPECT_NE(table.find("64M"), std::string::npos) << table;
}

TEST(TopModel, AnIdleIntervalShowsNoLatencyAndARestartedAgentCountsFromZero) {
  TopSample before = Sample(1.0, 500, 10, {500, 0, 0, 0}, 3.0);
  TopSample idle = Sample(2.0, 500, 10, {500, 0, 0, 0}, 3.0);
  TopRow row = ComputeTop(before, idle)[0];
  EXPECT_EQ(row.requests_per_second, 0);
  EXPECT_FALSE(row.error_rate);
  EXPECT_FALSE(row.p50_ms);
  EXPECT_NE(FormatTop({row}).find(" - "), std::string::npos);
  TopSample restarted = Sample(3.0, 20, 0, {20, 0, 0, 0}, 0.5);  // counters went back
  row = ComputeTop(idle, restarted)[0];
  EXPECT_DOUBLE_EQ(row.requests_per_second, 20.0);
  EXPECT_FALSE(row.cpu_percent);  // CPU time went back: a replica restarted
}

}  // namespace
}  // namespace gantry::cli
