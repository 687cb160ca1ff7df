#include "net/timer_wheel.h"

#include <vector>

#include <gtest/gtest.h>

namespace gantry::net {
namespace {

// Records when each timer fired; optionally re-arms one from inside its own callback.
struct Recorder : TimerHandler {
  explicit Recorder(TimerWheel& wheel) : wheel(wheel) {}
  void OnTimer(Timer& timer) override {
    fired.push_back(&timer);
    if (&timer == rearm) wheel.Arm(timer, rearm_to);
    if (cancel) wheel.Cancel(*cancel);
  }
  TimerWheel& wheel;
  std::vector<Timer*> fired;
  Timer* rearm = nullptr;
  int64_t rearm_to = 0;
  Timer* cancel = nullptr;
};

TEST(TimerWheel, FiresAtTheDeadlineNotBefore) {
  TimerWheel wheel(1000);
  Recorder r(wheel);
  Timer a(&r), b(&r);
  wheel.Arm(a, 1005);
  wheel.Arm(b, 1010);
  EXPECT_EQ(wheel.MsUntilNext(1000), 5);
  wheel.Advance(1004);
  EXPECT_TRUE(r.fired.empty());
  wheel.Advance(1005);
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(r.fired[0], &a);
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(wheel.MsUntilNext(1005), 5);
  wheel.Advance(2000);
  EXPECT_EQ(r.fired.size(), 2u);
  EXPECT_EQ(wheel.MsUntilNext(2000), -1);
}

TEST(TimerWheel, LaterReArmIsLazyAndStillExact) {
  TimerWheel wheel(0);
  Recorder r(wheel);
  Timer t(&r);
  wheel.Arm(t, 10);
  wheel.Arm(t, 50);  // pushed back: stays in slot 10, moved when that comes up
  wheel.Advance(10);
  EXPECT_TRUE(r.fired.empty());
  EXPECT_TRUE(t.armed());
  wheel.Advance(49);
  EXPECT_TRUE(r.fired.empty());
  wheel.Advance(50);
  EXPECT_EQ(r.fired.size(), 1u);
}

TEST(TimerWheel, EarlierReArmMovesTheTimer) {
  TimerWheel wheel(0);
  Recorder r(wheel);
  Timer t(&r);
  wheel.Arm(t, 500);
  wheel.Arm(t, 20);
  wheel.Advance(20);
  EXPECT_EQ(r.fired.size(), 1u);
}

TEST(TimerWheel, DeadlinesBeyondTheSpanWaitAndFireOnTime) {
  TimerWheel wheel(0);
  Recorder r(wheel);
  Timer t(&r);
  wheel.Arm(t, 60000);  // a minute: far past the 1024-slot span
  for (int64_t now = 0; now < 60000; now += 997) {
    wheel.Advance(now);
    ASSERT_TRUE(r.fired.empty()) << now;
  }
  wheel.Advance(60000);
  EXPECT_EQ(r.fired.size(), 1u);
}

TEST(TimerWheel, CancelledTimersNeverFire) {
  TimerWheel wheel(0);
  Recorder r(wheel);
  Timer a(&r), b(&r);
  wheel.Arm(a, 5);
  wheel.Arm(b, 5);
  wheel.Cancel(a);
  r.cancel = &a;  // cancelling an unarmed timer is harmless
  wheel.Advance(5);
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(r.fired[0], &b);
}

TEST(TimerWheel, HandlersMayCancelTimersDueInTheSameSlot) {
  TimerWheel wheel(0);
  Recorder r(wheel);
  Timer a(&r), b(&r);
  wheel.Arm(a, 5);
  wheel.Arm(b, 5);
  r.cancel = &b;  // whichever fires first cancels b; if a fires first, b never does
  wheel.Advance(5);
  EXPECT_EQ(r.fired.size(), 1u);
}

TEST(TimerWheel, HandlersMayReArmThemselves) {
  TimerWheel wheel(0);
  Recorder r(wheel);
  Timer t(&r);
  r.rearm = &t;
  r.rearm_to = 15;
  wheel.Arm(t, 5);
  wheel.Advance(5);
  EXPECT_EQ(r.fired.size(), 1u);
  r.rearm = nullptr;
  wheel.Advance(15);
  EXPECT_EQ(r.fired.size(), 2u);
}

TEST(TimerWheel, PastDeadlinesFireOnTheNextTick) {
  TimerWheel wheel(100);
  Recorder r(wheel);
  Timer t(&r);
  wheel.Arm(t, 50);
  EXPECT_EQ(wheel.MsUntilNext(100), 1);
  wheel.Advance(101);
  EXPECT_EQ(r.fired.size(), 1u);
}

TEST(TimerWheel, ManyTimersOverLongJumps) {
  TimerWheel wheel(0);
  Recorder r(wheel);
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 3000; ++i) {
    timers.push_back(std::make_unique<Timer>(&r));
    wheel.Arm(*timers.back(), int64_t{i} * 7);
  }
  wheel.Advance(10000);
  EXPECT_EQ(r.fired.size(), 1429u);  // deadlines 0, 7, ... 9996
  wheel.Advance(30000);
  EXPECT_EQ(r.fired.size(), 3000u);
}

}  // namespace
}  // namespace gantry::net
