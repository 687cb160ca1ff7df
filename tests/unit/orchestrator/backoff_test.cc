#include "orchestrator/backoff.h"

#include <sys/wait.h>

#include <gtest/gtest.h>

namespace gantry::orchestrator {
namespace {
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RestartBackoff, DoublesFrom100msUpTo30s) {
  FakeClock clock;
  RestartBackoff backoff;
  std::vector<int64_t> delays;
  delays.reserve(12);
  for (int i = 0; i < 12; ++i) delays.push_back(backoff.OnExit(clock.Now()).count());
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000,
                                          30000, 30000}));
}

TEST(RestartBackoff, ResetsAfterTenSecondsHealthy) {
  FakeClock clock;
  RestartBackoff backoff;
  backoff.OnExit(clock.Now());
  backoff.OnExit(clock.Now());
  EXPECT_EQ(backoff.OnExit(clock.Now()), milliseconds(400));
  backoff.OnHealthy(clock.Now());
  clock.Advance(seconds(10));
  EXPECT_EQ(backoff.OnExit(clock.Now()), milliseconds(100));
}

TEST(RestartBackoff, NoResetWhenHealthyTooShortOrInterrupted) {
  FakeClock clock;
  RestartBackoff backoff;
  backoff.OnExit(clock.Now());
  backoff.OnHealthy(clock.Now());
  clock.Advance(seconds(9));
  EXPECT_EQ(backoff.OnExit(clock.Now()), milliseconds(200));
  backoff.OnHealthy(clock.Now());
  clock.Advance(seconds(5));
  backoff.OnUnhealthy();
  backoff.OnHealthy(clock.Now());
  clock.Advance(seconds(6));  // 11 s since first healthy, but only 6 s without interruption
  EXPECT_EQ(backoff.OnExit(clock.Now()), milliseconds(400));
}

TEST(ShouldRestart, Policies) {
  int clean = 0;         // exited with code 0
  int failed = 1 << 8;   // exited with code 1
  int killed = SIGKILL;  // killed by a signal
  using config::RestartPolicy;
  EXPECT_TRUE(ShouldRestart(RestartPolicy::kAlways, clean));
  EXPECT_TRUE(ShouldRestart(RestartPolicy::kAlways, killed));
  EXPECT_FALSE(ShouldRestart(RestartPolicy::kOnFailure, clean));
  EXPECT_TRUE(ShouldRestart(RestartPolicy::kOnFailure, failed));
  EXPECT_TRUE(ShouldRestart(RestartPolicy::kOnFailure, killed));
  EXPECT_FALSE(ShouldRestart(RestartPolicy::kNever, failed));
}

}  // namespace
}  // namespace gantry::orchestrator
