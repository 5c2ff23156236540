// pick(): strategies over the available targets (breaker, Retry-After, skip), the preference
// for targets not yet failed, nested groups, conditions; unavailableReason() text.
#include "router/route_table.h"

#include <gtest/gtest.h>

#include <map>

#include "router_test_util.h"

namespace aigw::router {
namespace {

using testing::buildTable;
using testing::Providers;

constexpr uint64_t kSecond = 1000000000;
constexpr uint64_t kNow = 1000 * kSecond;

std::string target(const std::string& model, const std::string& extra = "") {
  return R"({"type":"target","provider":"openai","model":")" + model + R"(","breaker":{"consecutive_failures":1})" +
         extra + "}";
}

std::string group(const std::string& strategy, const std::string& children, const std::string& extra = "") {
  return R"({"type":"group","strategy":")" + strategy + R"(","children":[)" + children + "]" + extra + "}";
}

class Pick : public ::testing::Test {
 protected:
  const Route& build(const std::string& plan) {
    table_ = buildTable(providers_, R"([{"name":"m","plan":)" + plan + "}]");
    return *table_->routes()[0];
  }
  const Target* t(size_t i) const { return table_->routes()[0]->targets[i].get(); }
  void eject(size_t i) { t(i)->state->breaker.record(Outcome::Failure, false, kNow - 1); }

  std::string pickLabel(PickInput in) {
    in.rng = &rng_;
    if (in.now_ns == 0) in.now_ns = kNow;
    if (in.model.empty()) in.model = "m";
    const Target* picked = pick(*table_->routes()[0], in);
    return picked ? picked->label : "none";
  }
  std::string pickLabel() { return pickLabel(PickInput{}); }

  // How often each target is picked over `n` picks.
  std::map<std::string, int> histogram(int n, PickInput in = {}) {
    std::map<std::string, int> h;
    for (int i = 0; i < n; ++i) ++h[pickLabel(in)];
    return h;
  }

  Providers providers_;
  std::unique_ptr<RouteTable> table_;
  std::mt19937_64 rng_{42};
};

TEST_F(Pick, SingleTarget) {
  build(target("a"));
  EXPECT_EQ(pickLabel(), "openai/a");
  eject(0);
  EXPECT_EQ(pickLabel(), "none");
}

TEST_F(Pick, FallbackTakesTheFirstAvailableInOrder) {
  build(group("fallback", target("a") + "," + target("b") + "," + target("c")));
  EXPECT_EQ(pickLabel(), "openai/a");
  eject(0);
  EXPECT_EQ(pickLabel(), "openai/b");
  // Retry-After on b: not before 3 s from now.
  t(1)->state->not_before_ns = kNow + 3 * kSecond;
  EXPECT_EQ(pickLabel(), "openai/c");
  PickInput later;
  later.now_ns = kNow + 3 * kSecond;
  EXPECT_EQ(pickLabel(later), "openai/b");
  eject(2);
  EXPECT_EQ(pickLabel(), "none");
}

TEST_F(Pick, HalfOpenTargetWithItsProbeOutIsSkipped) {
  build(group("fallback", target("a") + "," + target("b")));
  eject(0);
  const uint64_t after = kNow + 60 * kSecond;  // past the ejection: half-open
  PickInput in;
  in.now_ns = after;
  EXPECT_EQ(pickLabel(in), "openai/a");
  bool probe = false;
  ASSERT_TRUE(t(0)->state->breaker.admit(after, &probe));
  ASSERT_TRUE(probe);
  EXPECT_EQ(pickLabel(in), "openai/b");
}

TEST_F(Pick, PrefersTargetsThatHaveNotFailedYet) {
  build(group("fallback", target("a") + "," + target("b") + "," + target("c")));
  std::vector<const Target*> failed{t(0)};
  PickInput in;
  in.failed = &failed;
  EXPECT_EQ(pickLabel(in), "openai/b");
  failed = {t(0), t(1), t(2)};
  // Everything failed once: try them again in strategy order rather than give up.
  EXPECT_EQ(pickLabel(in), "openai/a");
  eject(0);
  EXPECT_EQ(pickLabel(in), "openai/b");
}

TEST_F(Pick, SkippedTargetsAreNeverPicked) {
  build(group("fallback", target("a") + "," + target("b") + "," + target("c")));
  std::vector<const Target*> skip{t(0)}, failed;
  PickInput in;
  in.skip = &skip;
  in.failed = &failed;
  EXPECT_EQ(pickLabel(in), "openai/b");
  skip = {t(1)};
  failed = {t(0)};
  EXPECT_EQ(pickLabel(in), "openai/c");
  failed = {t(0), t(2)};
  EXPECT_EQ(pickLabel(in), "openai/a");
  skip = {t(0), t(1), t(2)};
  EXPECT_EQ(pickLabel(in), "none");
}

TEST_F(Pick, WeightedSplitsByWeight) {
  build(group("weighted", target("a", R"(,"weight":1)") + "," + target("b", R"(,"weight":3)")));
  const int n = 20000;
  auto h = histogram(n);
  EXPECT_NEAR(h["openai/a"], n * 0.25, n * 0.02);
  EXPECT_NEAR(h["openai/b"], n * 0.75, n * 0.02);
  // An ejected target's share goes to the others.
  eject(1);
  h = histogram(1000);
  EXPECT_EQ(h["openai/a"], 1000);
}

TEST_F(Pick, WeightedSkipsFailedTargetsFirst) {
  build(group("weighted", target("a", R"(,"weight":100)") + "," + target("b")));
  std::vector<const Target*> failed{t(0)};
  PickInput in;
  in.failed = &failed;
  EXPECT_EQ(histogram(200, in)["openai/b"], 200);
}

TEST_F(Pick, NestedFallbackToAWeightedGroup) {
  build(group("fallback", target("primary") + "," +
                              group("weighted", target("b") + "," + target("c"))));
  EXPECT_EQ(histogram(500)["openai/primary"], 500);
  eject(0);
  auto h = histogram(20000);
  EXPECT_EQ(h.count("openai/primary"), 0u);
  EXPECT_NEAR(h["openai/b"], 10000, 400);
  EXPECT_NEAR(h["openai/c"], 10000, 400);
  eject(1);
  EXPECT_EQ(histogram(100)["openai/c"], 100);
  eject(2);
  EXPECT_EQ(pickLabel(), "none");
}

TEST_F(Pick, WeightedOverGroupsWeighsTheGroups) {
  build(group("weighted", group("fallback", target("a") + "," + target("b"), R"(,"weight":3)") + "," +
                              target("c")));
  auto h = histogram(20000);
  EXPECT_NEAR(h["openai/a"], 15000, 400);
  EXPECT_EQ(h.count("openai/b"), 0u);
  eject(0);
  h = histogram(20000);
  EXPECT_NEAR(h["openai/b"], 15000, 400);
}

TEST_F(Pick, ConditionalOnModelHeaderAndMetadataWithADefault) {
  build(group("conditional",
              target("by-model", R"(,"when":[{"source":"model","values":["gpt-4*","o1"]}])") + "," +
                  target("by-header", R"(,"when":[{"source":"header","key":"x-tier","values":["premium"]}])") + "," +
                  target("by-metadata", R"(,"when":[{"source":"metadata","key":"team","values":["ml-*"]},
                                                    {"source":"metadata","key":"priority","values":["1","true"]}])") +
                  "," + target("default")));
  PickInput in;
  in.model = "gpt-4o-mini";
  EXPECT_EQ(pickLabel(in), "openai/by-model");
  in.model = "o1";
  EXPECT_EQ(pickLabel(in), "openai/by-model");
  in.model = "claude";
  EXPECT_EQ(pickLabel(in), "openai/default");

  http::HeaderList headers;
  headers.add("x-tier", "premium");
  in.headers = &headers;
  EXPECT_EQ(pickLabel(in), "openai/by-header");
  http::HeaderList other;
  other.add("x-tier", "free");
  in.headers = &other;
  EXPECT_EQ(pickLabel(in), "openai/default");
  in.headers = nullptr;

  // Both metadata conditions must hold; numbers and booleans match by their JSON text.
  nlohmann::json metadata = {{"team", "ml-research"}, {"priority", 1}};
  in.metadata = &metadata;
  EXPECT_EQ(pickLabel(in), "openai/by-metadata");
  metadata["priority"] = true;
  EXPECT_EQ(pickLabel(in), "openai/by-metadata");
  metadata["priority"] = 2;
  EXPECT_EQ(pickLabel(in), "openai/default");
  metadata = {{"team", "ml-research"}};
  EXPECT_EQ(pickLabel(in), "openai/default");
  metadata = {{"team", {{"name", "ml-x"}}}, {"priority", 1}};
  EXPECT_EQ(pickLabel(in), "openai/default");

  // A matching branch that cannot serve gives way to the next matching one.
  in.metadata = nullptr;
  in.model = "gpt-4o";
  eject(0);
  EXPECT_EQ(pickLabel(in), "openai/default");
}

TEST_F(Pick, ConditionalWithoutAMatchServesNothing) {
  build(group("fallback",
              group("conditional", target("gpt", R"(,"when":[{"source":"model","values":["gpt-*"]}])")) + "," +
                  target("other")));
  PickInput in;
  in.model = "gpt-4o";
  EXPECT_EQ(pickLabel(in), "openai/gpt");
  in.model = "claude";
  EXPECT_EQ(pickLabel(in), "openai/other");
}

TEST_F(Pick, WhenIsIgnoredOutsideConditionalGroups) {
  build(group("fallback", target("a", R"(,"when":[{"source":"model","values":["never"]}])") + "," + target("b")));
  EXPECT_EQ(pickLabel(), "openai/a");
}

TEST_F(Pick, LeastLatencyPicksTheLowestAverageAndTriesUnsampledFirst) {
  build(group("least_latency", target("a") + "," + target("b") + "," + target("c")));
  t(0)->state->recordTtfb(300);
  t(1)->state->recordTtfb(100);
  EXPECT_EQ(pickLabel(), "openai/c");  // no sample yet
  t(2)->state->recordTtfb(200);
  EXPECT_EQ(pickLabel(), "openai/b");
  eject(1);
  EXPECT_EQ(pickLabel(), "openai/c");
  t(0)->state->ewma_ttfb_us = 200;
  EXPECT_EQ(pickLabel(), "openai/a");  // a tie goes to the first
}

TEST_F(Pick, LeastLatencyOverGroupsUsesTheirFastestAvailableTarget) {
  build(group("least_latency", group("fallback", target("a") + "," + target("b")) + "," + target("c")));
  t(0)->state->recordTtfb(500);
  t(1)->state->recordTtfb(50);
  t(2)->state->recordTtfb(100);
  EXPECT_EQ(pickLabel(), "openai/a");  // the group's best is b (50), and the group picks a first
  eject(1);
  EXPECT_EQ(pickLabel(), "openai/c");
}

TEST_F(Pick, LeastBusyPicksTheFewestInFlightWithRandomTies) {
  build(group("least_busy", target("a") + "," + target("b") + "," + target("c")));
  t(0)->state->in_flight = 5;
  t(1)->state->in_flight = 2;
  t(2)->state->in_flight = 7;
  EXPECT_EQ(pickLabel(), "openai/b");
  t(1)->state->in_flight = 5;
  auto h = histogram(2000);
  EXPECT_EQ(h.count("openai/c"), 0u);
  EXPECT_NEAR(h["openai/a"], 1000, 150);
  EXPECT_NEAR(h["openai/b"], 1000, 150);
  eject(0);
  EXPECT_EQ(histogram(100)["openai/b"], 100);
}

TEST_F(Pick, LeastBusyOverGroupsSumsTheirTargets) {
  build(group("least_busy", group("fallback", target("a") + "," + target("b")) + "," + target("c")));
  t(0)->state->in_flight = 2;
  t(1)->state->in_flight = 2;
  t(2)->state->in_flight = 3;
  EXPECT_EQ(pickLabel(), "openai/c");
  eject(1);  // an unavailable target's load does not count
  EXPECT_EQ(pickLabel(), "openai/a");
}

TEST(RouterUnavailableReason, OneClausePerTarget) {
  Providers providers;
  auto table = buildTable(providers, R"([{"name":"m","plan":{"type":"group","strategy":"fallback","children":[
    {"type":"target","provider":"openai","model":"gpt-4o"},
    {"type":"target","provider":"azure","model":"gpt-4o","breaker":{"consecutive_failures":1,"ejection_ms":1000}},
    {"type":"target","provider":"anthropic","breaker":{"consecutive_failures":0,"failure_rate":0.5,"min_requests":4}},
    {"type":"target","provider":"openai","model":"gpt-4o-mini"},
    {"type":"target","provider":"azure","model":"small","max_in_flight":1,"max_pending":2},
    {"type":"target","provider":"openai","model":"spare"}]}}])");
  const Route& r = *table->routes()[0];
  const uint64_t start = kNow - 1800000000;  // 1.8 s ago
  for (int i = 0; i < 5; ++i) r.targets[0]->state->breaker.record(Outcome::Failure, false, start);
  r.targets[1]->state->breaker.record(Outcome::Failure, false, kNow - 2 * kSecond);
  bool probe = false;
  ASSERT_TRUE(r.targets[1]->state->breaker.admit(kNow, &probe));
  r.targets[2]->state->breaker.record(Outcome::Success, false, kNow);
  r.targets[2]->state->breaker.record(Outcome::Success, false, kNow);
  r.targets[2]->state->breaker.record(Outcome::Failure, false, kNow);
  r.targets[2]->state->breaker.record(Outcome::Failure, false, kNow);
  r.targets[3]->state->not_before_ns = kNow + 3 * kSecond;
  EventLoop loop;
  ConcurrencyLimit::WaiterPtr waiter;
  ASSERT_EQ(r.targets[4]->state->limit.acquire(loop, [] {}, &waiter), ConcurrencyLimit::Result::Acquired);
  ASSERT_EQ(r.targets[4]->state->limit.acquire(loop, [] {}, &waiter), ConcurrencyLimit::Result::Queued);
  EXPECT_EQ(unavailableReason(r, kNow),
            "openai/gpt-4o: ejected for 8.2 s (5 consecutive failures); "
            "azure/gpt-4o: half-open, a probe is in flight; "
            "anthropic/*: ejected for 10.0 s (2 of 4 recent requests failed); "
            "openai/gpt-4o-mini: rate-limited by the provider for 3.0 s more (Retry-After); "
            "azure/small: at its concurrency cap (1 in flight, 1 pending); "
            "openai/spare: available");
  r.targets[4]->state->limit.cancel(waiter);
  r.targets[4]->state->limit.release();
}

}  // namespace
}  // namespace aigw::router
