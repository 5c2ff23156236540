// CircuitBreaker on a simulated clock: consecutive and rate-based ejection, the growing and
// capped ejection time, the single half-open probe, and forgetting after a healthy period.
#include "router/breaker.h"

#include <gtest/gtest.h>

namespace aigw::router {
namespace {

constexpr uint64_t ms(uint64_t n) { return n * 1000000; }

BreakerSettings consecutive(uint32_t n) {
  BreakerSettings s;
  s.consecutive_failures = n;
  s.ejection_ms = 1000;
  s.max_ejection_ms = 5000;
  return s;
}

void fail(CircuitBreaker& b, int n, uint64_t now) {
  for (int i = 0; i < n; ++i) b.record(Outcome::Failure, false, now);
}

// Fails the half-open probe at `now` (which must be past the ejection).
void failProbe(CircuitBreaker& b, uint64_t now) {
  bool probe = false;
  ASSERT_TRUE(b.admit(now, &probe));
  ASSERT_TRUE(probe);
  b.record(Outcome::Failure, true, now);
}

TEST(CircuitBreaker, EjectsAfterConsecutiveFailures) {
  CircuitBreaker b(consecutive(3));
  fail(b, 2, ms(0));
  b.record(Outcome::Success, false, ms(1));  // breaks the run
  fail(b, 2, ms(2));
  EXPECT_TRUE(b.available(ms(2)));
  EXPECT_EQ(b.snapshot(ms(2)).consecutive_failures, 2u);
  fail(b, 1, ms(3));
  EXPECT_FALSE(b.available(ms(3)));
  bool probe = true;
  EXPECT_FALSE(b.admit(ms(3), &probe));
  EXPECT_FALSE(probe);
  auto s = b.snapshot(ms(3));
  EXPECT_EQ(s.state, BreakerState::Open);
  EXPECT_EQ(s.ejections, 1u);
  EXPECT_EQ(s.total_ejections, 1u);
  EXPECT_EQ(s.ejected_for_ms, 1000u);
  EXPECT_EQ(b.snapshot(ms(503)).ejected_for_ms, 500u);
  EXPECT_FALSE(b.available(ms(1002)));
  EXPECT_TRUE(b.available(ms(1003)));
  EXPECT_EQ(b.snapshot(ms(1003)).state, BreakerState::HalfOpen);
}

TEST(CircuitBreaker, NeutralOutcomesNeitherCountNorBreakTheRun) {
  CircuitBreaker b(consecutive(2));
  fail(b, 1, ms(0));
  b.record(Outcome::Neutral, false, ms(1));
  fail(b, 1, ms(2));
  EXPECT_FALSE(b.available(ms(2)));
}

TEST(CircuitBreaker, EjectionTimeDoublesAndIsCapped) {
  CircuitBreaker b(consecutive(1));
  uint64_t now = ms(10);
  fail(b, 1, now);
  const uint64_t expected[] = {1000, 2000, 4000, 5000, 5000};
  for (size_t i = 0; i < std::size(expected); ++i) {
    auto s = b.snapshot(now);
    EXPECT_EQ(s.ejections, i + 1);
    EXPECT_EQ(s.ejected_for_ms, expected[i]) << "ejection " << i + 1;
    EXPECT_FALSE(b.available(now + ms(expected[i]) - 1));
    now += ms(expected[i]);
    EXPECT_TRUE(b.available(now));
    failProbe(b, now);
  }
}

TEST(CircuitBreaker, HalfOpenAdmitsExactlyOneProbe) {
  CircuitBreaker b(consecutive(1));
  fail(b, 1, ms(0));
  bool probe = false;
  ASSERT_TRUE(b.admit(ms(1000), &probe));
  EXPECT_TRUE(probe);
  EXPECT_FALSE(b.available(ms(1000)));
  bool second = true;
  EXPECT_FALSE(b.admit(ms(1001), &second));
  EXPECT_FALSE(second);
  EXPECT_EQ(b.snapshot(ms(1001)).state, BreakerState::HalfOpen);
}

TEST(CircuitBreaker, ProbeSuccessCloses) {
  CircuitBreaker b(consecutive(2));
  fail(b, 2, ms(0));
  bool probe = false;
  ASSERT_TRUE(b.admit(ms(1000), &probe));
  b.record(Outcome::Success, true, ms(1100));
  auto s = b.snapshot(ms(1100));
  EXPECT_EQ(s.state, BreakerState::Closed);
  EXPECT_EQ(s.consecutive_failures, 0u);
  EXPECT_EQ(s.window_requests, 0u);
  EXPECT_TRUE(b.admit(ms(1100), &probe));
  EXPECT_FALSE(probe);
  // The run starts over: one failure does not eject again.
  fail(b, 1, ms(1200));
  EXPECT_TRUE(b.available(ms(1200)));
}

TEST(CircuitBreaker, ProbeFailureEjectsForLonger) {
  CircuitBreaker b(consecutive(1));
  fail(b, 1, ms(0));
  failProbe(b, ms(1000));
  auto s = b.snapshot(ms(1000));
  EXPECT_EQ(s.state, BreakerState::Open);
  EXPECT_EQ(s.ejections, 2u);
  EXPECT_EQ(s.ejected_for_ms, 2000u);
}

TEST(CircuitBreaker, NeutralProbeFreesTheSlot) {
  CircuitBreaker b(consecutive(1));
  fail(b, 1, ms(0));
  bool probe = false;
  ASSERT_TRUE(b.admit(ms(1000), &probe));
  b.record(Outcome::Neutral, true, ms(1001));
  EXPECT_EQ(b.snapshot(ms(1001)).state, BreakerState::HalfOpen);
  EXPECT_TRUE(b.available(ms(1001)));
  ASSERT_TRUE(b.admit(ms(1002), &probe));
  EXPECT_TRUE(probe);
}

TEST(CircuitBreaker, OutcomesOfRequestsAdmittedBeforeTheEjectionAreIgnored) {
  CircuitBreaker b(consecutive(1));
  fail(b, 1, ms(0));
  b.record(Outcome::Success, false, ms(10));   // would not close it
  b.record(Outcome::Failure, false, ms(20));   // would not extend it
  auto s = b.snapshot(ms(20));
  EXPECT_EQ(s.state, BreakerState::Open);
  EXPECT_EQ(s.ejections, 1u);
  EXPECT_EQ(s.ejected_for_ms, 980u);
  // ... also while half-open: only the probe decides.
  bool probe = false;
  ASSERT_TRUE(b.admit(ms(1000), &probe));
  b.record(Outcome::Success, false, ms(1001));
  EXPECT_EQ(b.snapshot(ms(1001)).state, BreakerState::HalfOpen);
  EXPECT_FALSE(b.available(ms(1001)));
}

BreakerSettings rateOnly() {
  BreakerSettings s;
  s.consecutive_failures = 0;
  s.failure_rate = 0.5;
  s.min_requests = 10;
  s.window_ms = 10000;  // buckets of 1 s
  s.ejection_ms = 1000;
  return s;
}

TEST(CircuitBreaker, FailureRateEjectsOnceEnoughRequestsAreSeen) {
  CircuitBreaker b(rateOnly());
  // Alternating: 50% failures, but nothing happens before 10 outcomes.
  for (int i = 0; i < 9; ++i) b.record(i % 2 ? Outcome::Failure : Outcome::Success, false, ms(100 * i));
  EXPECT_TRUE(b.available(ms(900)));
  EXPECT_EQ(b.snapshot(ms(900)).window_requests, 9u);
  EXPECT_EQ(b.snapshot(ms(900)).window_failures, 4u);
  b.record(Outcome::Failure, false, ms(950));  // 5 of 10
  EXPECT_FALSE(b.available(ms(950)));
}

TEST(CircuitBreaker, FailureRateBelowTheThresholdKeepsItClosed) {
  CircuitBreaker b(rateOnly());
  for (int i = 0; i < 100; ++i) b.record(i % 3 == 0 ? Outcome::Failure : Outcome::Success, false, ms(50 * i));
  EXPECT_TRUE(b.available(ms(5000)));
  EXPECT_EQ(b.snapshot(ms(5000)).total_ejections, 0u);
}

TEST(CircuitBreaker, OldBucketsLeaveTheWindow) {
  CircuitBreaker b(rateOnly());
  for (int i = 0; i < 9; ++i) b.record(Outcome::Failure, false, ms(500));
  EXPECT_EQ(b.snapshot(ms(500)).window_failures, 9u);
  EXPECT_EQ(b.snapshot(ms(9999)).window_failures, 9u);
  EXPECT_EQ(b.snapshot(ms(10000)).window_failures, 0u);  // the bucket [0, 1 s) is out
  // A later failure reuses the ring slot of those old ones, so they never come back.
  b.record(Outcome::Failure, false, ms(20500));
  auto s = b.snapshot(ms(20500));
  EXPECT_EQ(s.window_requests, 1u);
  EXPECT_TRUE(b.available(ms(20500)));
  // Buckets spread across the window all count.
  for (int i = 0; i < 9; ++i) b.record(Outcome::Failure, false, ms(21000 + 1000 * i));
  EXPECT_EQ(b.snapshot(ms(29000)).state, BreakerState::Open);
}

TEST(CircuitBreaker, HealthyPeriodResetsTheEjectionCount) {
  CircuitBreaker b(consecutive(1));
  fail(b, 1, ms(0));
  failProbe(b, ms(1000));  // second ejection, 2 s
  bool probe = false;
  ASSERT_TRUE(b.admit(ms(3000), &probe));
  b.record(Outcome::Success, true, ms(3000));
  // Closed for less than max_ejection_ms (5 s): the next ejection continues the series.
  fail(b, 1, ms(7999));
  EXPECT_EQ(b.snapshot(ms(7999)).ejections, 3u);
  EXPECT_EQ(b.snapshot(ms(7999)).ejected_for_ms, 4000u);
  ASSERT_TRUE(b.admit(ms(11999), &probe));
  b.record(Outcome::Success, true, ms(11999));
  EXPECT_EQ(b.snapshot(ms(16998)).ejections, 3u);
  // Closed for max_ejection_ms: the series starts over.
  EXPECT_EQ(b.snapshot(ms(16999)).ejections, 0u);
  fail(b, 1, ms(16999));
  auto s = b.snapshot(ms(16999));
  EXPECT_EQ(s.ejections, 1u);
  EXPECT_EQ(s.ejected_for_ms, 1000u);
  EXPECT_EQ(s.total_ejections, 4u);
}

TEST(CircuitBreaker, DisabledNeverEjects) {
  BreakerSettings s = consecutive(1);
  s.enabled = false;
  CircuitBreaker b(s);
  fail(b, 100, ms(0));
  EXPECT_TRUE(b.available(ms(0)));
  bool probe = true;
  EXPECT_TRUE(b.admit(ms(0), &probe));
  EXPECT_FALSE(probe);
  auto snap = b.snapshot(ms(0));
  EXPECT_EQ(snap.state, BreakerState::Closed);
  EXPECT_EQ(snap.total_ejections, 0u);
}

TEST(CircuitBreaker, StateNames) {
  EXPECT_STREQ(breakerStateName(BreakerState::Closed), "closed");
  EXPECT_STREQ(breakerStateName(BreakerState::Open), "open");
  EXPECT_STREQ(breakerStateName(BreakerState::HalfOpen), "half_open");
}

}  // namespace
}  // namespace aigw::router
