#include <gtest/gtest.h>

#include "core/clock.h"
#include "proxy/resilience/circuit_breaker.h"
#include "proxy/resilience/outlier_detector.h"
#include "proxy/resilience/rate_limiter.h"
#include "proxy/resilience/retry_budget.h"
#include "proxy/resilience/retry_policy.h"

namespace gantry::proxy {
namespace {

using http::h1::Method;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryPolicy, DefaultRetriesConnectFailuresAndIdempotentResetsOnce) {
  RetryPolicy policy{config::RetrySpec{}};
  EXPECT_TRUE(policy.Allows(TryOutcome::kConnectFailure, 0, Method::kPost, 0));
  EXPECT_FALSE(policy.Allows(TryOutcome::kConnectFailure, 0, Method::kGet, 1));  // attempts: 1
  EXPECT_TRUE(policy.Allows(TryOutcome::kReset, 0, Method::kGet, 0));
  EXPECT_TRUE(policy.Allows(TryOutcome::kReset, 0, Method::kPut, 0));
  EXPECT_FALSE(policy.Allows(TryOutcome::kReset, 0, Method::kPost, 0));
  EXPECT_FALSE(policy.Allows(TryOutcome::kReset, 0, Method::kGet, 1));
  EXPECT_FALSE(policy.Allows(TryOutcome::kStatus, 503, Method::kGet, 0));
  EXPECT_FALSE(policy.Allows(TryOutcome::kTimeout, 0, Method::kGet, 0));
}

TEST(RetryPolicy, ConfiguredConditionsAndIdempotence) {
  config::RetrySpec spec;
  spec.attempts = 2;
  spec.on_reset = true;
  spec.on_status = {503};
  RetryPolicy policy(spec);
  EXPECT_TRUE(policy.Allows(TryOutcome::kReset, 0, Method::kGet, 1));
  EXPECT_FALSE(policy.Allows(TryOutcome::kReset, 0, Method::kGet, 2));
  EXPECT_FALSE(policy.Allows(TryOutcome::kReset, 0, Method::kPost, 0));  // not idempotent
  EXPECT_TRUE(policy.Allows(TryOutcome::kStatus, 503, Method::kPut, 0));
  EXPECT_FALSE(policy.Allows(TryOutcome::kStatus, 500, Method::kGet, 0));
  EXPECT_FALSE(policy.Allows(TryOutcome::kTimeout, 0, Method::kGet, 0));
  spec.non_idempotent = true;
  spec.on_gateway_error = true;
  RetryPolicy lenient(spec);
  EXPECT_TRUE(lenient.Allows(TryOutcome::kReset, 0, Method::kPost, 0));
  EXPECT_TRUE(lenient.Allows(TryOutcome::kStatus, 504, Method::kPost, 0));
  EXPECT_TRUE(lenient.Allows(TryOutcome::kTimeout, 0, Method::kPatch, 0));
}

TEST(RetryPolicy, OnlyRetriesOfTriesThatReachedAReplicaCountInTheBudget) {
  EXPECT_FALSE(RetryPolicy::CountsInBudget(TryOutcome::kConnectFailure));
  EXPECT_TRUE(RetryPolicy::CountsInBudget(TryOutcome::kReset));
  EXPECT_TRUE(RetryPolicy::CountsInBudget(TryOutcome::kTimeout));
  EXPECT_TRUE(RetryPolicy::CountsInBudget(TryOutcome::kStatus));
}

TEST(RetryPolicy, GrpcCodesOnlyWhenListedAndWithinAttempts) {
  config::RetrySpec spec;
  EXPECT_FALSE(RetryPolicy(spec).AllowsGrpc(14, 0));  // not by default
  spec.attempts = 2;
  spec.on_grpc_status = {14, 8};
  RetryPolicy policy(spec);
  EXPECT_TRUE(policy.AllowsGrpc(14, 0));
  EXPECT_TRUE(policy.AllowsGrpc(8, 1));
  EXPECT_FALSE(policy.AllowsGrpc(8, 2));
  EXPECT_FALSE(policy.AllowsGrpc(13, 0));
}

TEST(RetryPolicy, BackoffIsJitteredExponentialAndCapped) {
  config::RetrySpec spec;
  spec.backoff = milliseconds(25);
  spec.max_backoff = milliseconds(250);
  RetryPolicy policy(spec);
  EXPECT_EQ(policy.Backoff(1, 25), milliseconds(25));  // the top of [0, 25]
  EXPECT_EQ(policy.Backoff(1, 26), milliseconds(0));
  EXPECT_EQ(policy.Backoff(2, 50), milliseconds(50));
  EXPECT_EQ(policy.Backoff(3, 100), milliseconds(100));
  EXPECT_EQ(policy.Backoff(5, 250), milliseconds(250));  // 400 capped at 250
  EXPECT_EQ(policy.Backoff(30, 250), milliseconds(250));
  uint64_t seed = 12345;
  for (int i = 0; i < 1000; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    Duration wait = policy.Backoff(3, seed);
    ASSERT_GE(wait.count(), 0);
    ASSERT_LE(wait.count(), 100);
  }
}

TEST(RetryBudget, AllowsTheMinimumThenAShareOfActiveRequests) {
  RetryBudget budget(0.2, 3);
  for (int i = 0; i < 10; ++i) budget.RequestStarted();
  EXPECT_TRUE(budget.TryStartRetry());
  EXPECT_TRUE(budget.TryStartRetry());
  EXPECT_TRUE(budget.TryStartRetry());
  EXPECT_FALSE(budget.TryStartRetry());  // 20% of 10 is 2, the minimum is 3
  for (int i = 0; i < 90; ++i) budget.RequestStarted();
  for (int i = 0; i < 17; ++i) EXPECT_TRUE(budget.TryStartRetry()) << i;  // 20% of 100
  EXPECT_FALSE(budget.TryStartRetry());
  EXPECT_EQ(budget.active_retries(), 20);
  budget.RetryEnded();  // a retry ends (or leaves its backoff): room again
  EXPECT_TRUE(budget.TryStartRetry());
}

TEST(RetryBudget, RetriesInBackoffKeepTheBudgetTaken) {
  RetryBudget budget(0.2, 3);
  budget.RequestStarted();
  // Three requests' retries sleeping in backoff hold the whole minimum.
  ASSERT_TRUE(budget.TryStartRetry());
  ASSERT_TRUE(budget.TryStartRetry());
  ASSERT_TRUE(budget.TryStartRetry());
  EXPECT_FALSE(budget.TryStartRetry());
}

TEST(CircuitBreaker, RefusesPastEachThresholdAndCountsOverflows) {
  config::BreakerSpec spec;
  spec.max_requests = 2;
  spec.max_connections = 1;
  CircuitBreaker breaker(spec);
  EXPECT_TRUE(breaker.TryAcquire(CircuitBreaker::kRequests));
  EXPECT_TRUE(breaker.TryAcquire(CircuitBreaker::kRequests));
  EXPECT_FALSE(breaker.TryAcquire(CircuitBreaker::kRequests));
  EXPECT_TRUE(breaker.TryAcquire(CircuitBreaker::kConnections));
  EXPECT_FALSE(breaker.TryAcquire(CircuitBreaker::kConnections));
  EXPECT_EQ(breaker.overflows(), 2u);
  breaker.Release(CircuitBreaker::kRequests);
  EXPECT_TRUE(breaker.TryAcquire(CircuitBreaker::kRequests));
  EXPECT_EQ(breaker.used(CircuitBreaker::kRequests), 2);
}

config::OutlierSpec Outlier(int max_percent) {
  config::OutlierSpec spec;
  spec.enabled = true;
  spec.base_ejection = seconds(30);
  spec.max_ejection_percent = max_percent;
  return spec;
}

TEST(OutlierDetector, EjectsForAGrowingTimeAndReturnsEndpoints) {
  FakeClock clock;
  OutlierDetector detector(clock);
  auto spec = Outlier(50);
  EXPECT_TRUE(detector.Report("api", "api-1", spec, 4));
  EXPECT_TRUE(detector.IsEjected("api", "api-1"));
  EXPECT_FALSE(detector.Report("api", "api-1", spec, 4));  // already out
  clock.Advance(seconds(29));
  EXPECT_FALSE(detector.Expire());
  clock.Advance(seconds(1));
  EXPECT_TRUE(detector.Expire());
  EXPECT_FALSE(detector.IsEjected("api", "api-1"));
  // Ejected again at once: twice as long.
  EXPECT_TRUE(detector.Report("api", "api-1", spec, 4));
  clock.Advance(seconds(59));
  EXPECT_FALSE(detector.Expire());
  clock.Advance(seconds(1));
  EXPECT_TRUE(detector.Expire());
  // Good behaviour for two base periods forgives both ejections: 30 s again.
  clock.Advance(seconds(60));
  EXPECT_TRUE(detector.Report("api", "api-1", spec, 4));
  ASSERT_TRUE(detector.NextExpiry());
  EXPECT_EQ(*detector.NextExpiry() - clock.Now(), seconds(30));
}

TEST(OutlierDetector, NeverEjectsMoreThanTheShareAllowed) {
  FakeClock clock;
  OutlierDetector detector(clock);
  auto spec = Outlier(50);
  EXPECT_TRUE(detector.Report("api", "a", spec, 4));
  EXPECT_TRUE(detector.Report("api", "b", spec, 4));
  EXPECT_FALSE(detector.Report("api", "c", spec, 4));  // 3 of 4 would pass 50%
  EXPECT_EQ(detector.EjectedCount("api"), 2u);
  EXPECT_EQ(detector.EjectionsTotal("api"), 2u);      // the refused third is not counted
  EXPECT_TRUE(detector.Report("web", "w", spec, 1));  // other services count apart; one at least
  EXPECT_EQ(detector.EjectionsTotal("web"), 1u);
  auto tiny = Outlier(10);
  EXPECT_TRUE(detector.Report("db", "d1", tiny, 3));  // 10% of 3 rounds down, but one may go
  EXPECT_FALSE(detector.Report("db", "d2", tiny, 3));
  auto none = Outlier(0);
  EXPECT_FALSE(detector.Report("cache", "c1", none, 5));
}

TEST(OutlierDetector, DisabledDoesNothing) {
  FakeClock clock;
  OutlierDetector detector(clock);
  config::OutlierSpec off;
  EXPECT_FALSE(detector.Report("api", "a", off, 4));
  EXPECT_FALSE(detector.NextExpiry());
}

TEST(RateLimiter, BurstThenSteadyRateWithRetryAfter) {
  config::RateLimitSpec spec;
  spec.rps = 10;
  spec.burst = 3;
  RateLimiter limiter(spec);
  int64_t now = 1000;
  EXPECT_EQ(limiter.Take("1.2.3.4", now), 0);
  EXPECT_EQ(limiter.Take("1.2.3.4", now), 0);
  EXPECT_EQ(limiter.Take("1.2.3.4", now), 0);
  EXPECT_EQ(limiter.Take("1.2.3.4", now), 100);  // one token every 100 ms
  EXPECT_EQ(limiter.Take("5.6.7.8", now), 0);    // keys have their own buckets
  now += 50;
  EXPECT_EQ(limiter.Take("1.2.3.4", now), 50);
  now += 50;
  EXPECT_EQ(limiter.Take("1.2.3.4", now), 0);
  now += 10'000;  // long idle: full again, but never above the burst
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("1.2.3.4", now), 0);
  EXPECT_GT(limiter.Take("1.2.3.4", now), 0);
}

TEST(RateLimiter, IdleBucketsAreDropped) {
  config::RateLimitSpec spec;
  spec.rps = 100;
  spec.burst = 100;
  RateLimiter limiter(spec);
  for (int i = 0; i < 1000; ++i) limiter.Take("client-" + std::to_string(i), 0);
  EXPECT_EQ(limiter.BucketCountForTest(), 1000u);
  for (int i = 0; i < 200; ++i) limiter.Take("late-" + std::to_string(i), 5000);
  EXPECT_LE(limiter.BucketCountForTest(), 200u);  // every shard swept its full buckets
}

}  // namespace
}  // namespace gantry::proxy
