#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/counters.h"
#include "telemetry/prometheus.h"

namespace gantry::telemetry {
namespace {

constexpr uint64_t kBounds[] = {10, 100, 1000};

// Four threads, each on its own slot, while a fifth merges: nothing is lost, and a merge never
// goes backwards.
TEST(Counters, ConcurrentWritersLoseNothing) {
  constexpr int kThreads = 4;
  constexpr uint64_t kEach = 200'000;
  ShardedCounter counter(kThreads);
  ShardedHistogram histogram(kBounds, kThreads);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done) {
      uint64_t now = counter.Merge();
      EXPECT_GE(now, last);
      last = now;
      EXPECT_LE(histogram.Merge().Count(), kThreads * kEach);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (uint64_t i = 0; i < kEach; ++i) {
        counter.Add(t);
        histogram.Observe(t, i % 2000);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  EXPECT_EQ(counter.Merge(), kThreads * kEach);
  HistogramTotals totals = histogram.Merge();
  EXPECT_EQ(totals.Count(), kThreads * kEach);
  // Per 2,000 values: 0..10 (11), 11..100 (90), 101..1000 (900), the rest (999).
  uint64_t rounds = kThreads * kEach / 2000;
  EXPECT_EQ(totals.buckets,
            (std::vector<uint64_t>{11 * rounds, 90 * rounds, 900 * rounds, 999 * rounds}));
  EXPECT_EQ(totals.sum, rounds * (1999 * 2000 / 2));
  EXPECT_EQ(totals.Quantile(kBounds, 0.5), 1000u);
  EXPECT_EQ(totals.Quantile(kBounds, 0.001), 10u);
}

TEST(PrometheusText, WritesFamiliesSamplesAndEscapedLabels) {
  PrometheusText out;
  out.Family("gantry_requests_total", PrometheusText::Type::kCounter, "Requests.\nAll of them.");
  Label labels[] = {{"service", "hello"}, {"path", "/a\"b\\c\nd"}};
  out.Sample(labels, 42);
  out.Family("gantry_memory_bytes", PrometheusText::Type::kGauge, "Memory.");
  out.Sample({}, 1.5);
  EXPECT_EQ(out.text(),
            "# HELP gantry_requests_total Requests.\\nAll of them.\n"
            "# TYPE gantry_requests_total counter\n"
            "gantry_requests_total{service=\"hello\",path=\"/a\\\"b\\\\c\\nd\"} 42\n"
            "# HELP gantry_memory_bytes Memory.\n"
            "# TYPE gantry_memory_bytes gauge\n"
            "gantry_memory_bytes 1.5\n");
}

TEST(PrometheusText, HistogramsAreCumulativeAndScaled) {
  ShardedHistogram histogram(kBounds, 1);
  for (uint64_t v : {5, 50, 50, 5000}) histogram.Observe(0, v);
  PrometheusText out;
  out.Family("d_seconds", PrometheusText::Type::kHistogram, "D.");
  Label labels[] = {{"s", "x"}};
  out.Histogram(labels, kBounds, histogram.Merge(), 1000);
  EXPECT_EQ(out.text(),
            "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
            "d_seconds_bucket{s=\"x\",le=\"0.01\"} 1\n"
            "d_seconds_bucket{s=\"x\",le=\"0.1\"} 3\n"
            "d_seconds_bucket{s=\"x\",le=\"1\"} 3\n"
            "d_seconds_bucket{s=\"x\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{s=\"x\"} 5.105\n"
            "d_seconds_count{s=\"x\"} 4\n");
}

TEST(PrometheusText, Names) {
  EXPECT_TRUE(PrometheusText::ValidName("gantry_up"));
  EXPECT_TRUE(PrometheusText::ValidName("a:b_1"));
  EXPECT_FALSE(PrometheusText::ValidName("1abc"));
  EXPECT_FALSE(PrometheusText::ValidName("a-b"));
  EXPECT_FALSE(PrometheusText::ValidName("a:b", /*label=*/true));
}

}  // namespace
}  // namespace gantry::telemetry
