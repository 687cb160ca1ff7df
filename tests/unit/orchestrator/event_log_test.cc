#include "orchestrator/event_log.h"

#include <gtest/gtest.h>

namespace gantry::orchestrator {
namespace {

TEST(EventLog, NumbersEventsAndAnswersWhatCameAfter) {
  EventLog log;
  int woken = 0;
  log.OnAdd([&] { ++woken; });
  EXPECT_EQ(log.index(), 0u);
  EXPECT_TRUE(log.Since(0).empty());
  log.Add("started", "web", "web-1", "pid 10");
  log.Add("scaled", "web", "", "1 -> 2 replicas");
  log.Add("started", "web", "web-2", "pid 11");
  EXPECT_EQ(woken, 3);
  EXPECT_EQ(log.index(), 3u);
  auto all = log.Since(0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].index, 1u);
  EXPECT_EQ(all[1].kind, "scaled");
  auto later = log.Since(2);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].instance, "web-2");
  EXPECT_TRUE(log.Since(3).empty());
}

TEST(EventLog, KeepsTheNewestWhenFull) {
  EventLog log;
  for (size_t i = 0; i < EventLog::kEventCapacity + 5; ++i) log.Add("exited", "a", "a-1", "");
  auto all = log.Since(0);
  ASSERT_EQ(all.size(), EventLog::kEventCapacity);
  EXPECT_EQ(all.front().index, 6u);  // the first five were dropped
  EXPECT_EQ(all.back().index, EventLog::kEventCapacity + 5);
}

}  // namespace
}  // namespace gantry::orchestrator
