// RouteTable::fromJson: parsing the routes Python emits (a test's routes are completed with the
// schema's defaults), errors that name the route, name resolution precedence (exact > alias >
// longest pattern > "*"), and the upstream model name.
#include "router/route_table.h"

#include <gtest/gtest.h>

#include <thread>

#include "required_fields.h"
#include "router_test_util.h"

namespace aigw::router {
namespace {

using testing::buildError;
using testing::buildTable;
using testing::Providers;

constexpr const char* kTarget = R"({"type":"target","provider":"openai"})";

std::string route(const std::string& name, const std::string& extra = "", const std::string& plan = kTarget) {
  return R"({"name":")" + name + R"(","plan":)" + plan + extra + "}";
}

TEST(RouteTable, ParsesAFullRoute) {
  Providers p;
  auto table = buildTable(p, R"([
    {"name": "gpt-4o", "aliases": ["smart"],
     "plan": {"type": "group", "strategy": "fallback", "children": [
       {"type": "target", "provider": "openai", "model": "gpt-4o-2024-08-06",
        "transforms": [{"op": "rename", "path": "max_tokens", "to": "max_completion_tokens"}],
        "connect_timeout_ms": 1000, "first_byte_timeout_ms": 20000, "idle_timeout_ms": 30000,
        "max_in_flight": 10, "max_pending": 5,
        "breaker": {"consecutive_failures": 3, "failure_rate": 0.5, "min_requests": 10, "window_ms": 5000,
                    "ejection_ms": 2000, "max_ejection_ms": 60000}},
       {"type": "group", "strategy": "weighted", "weight": 2, "children": [
         {"type": "target", "provider": "azure", "model": "gpt-4o", "weight": 3,
          "breaker": {"enabled": false}},
         {"type": "target", "provider": "anthropic", "when": null}]}]},
     "retry": {"attempts": 5, "on_429": false, "backoff_base_ms": 50, "budget_ratio": 0.5},
     "timeout_ms": 90000,
     "fallbacks": {"context_window_exceeded": "big", "unavailable": "big"}},
    {"name": "big", "plan": {"type": "target", "provider": "anthropic", "model": "claude"}}
  ])");
  ASSERT_EQ(table->routes().size(), 2u);
  const Route& r = *table->routes()[0];
  EXPECT_EQ(r.name, "gpt-4o");
  EXPECT_FALSE(r.pattern);
  EXPECT_EQ(r.aliases, std::vector<std::string>{"smart"});
  EXPECT_EQ(r.timeout_ms, 90000u);
  EXPECT_EQ(r.retry.attempts, 5);
  EXPECT_FALSE(r.retry.on_429);
  EXPECT_TRUE(r.retry.on_5xx);
  EXPECT_EQ(r.retry.backoff_base_ms, 50u);
  EXPECT_EQ(r.retry.backoff_max_ms, 5000u);
  EXPECT_EQ(r.retry.budget_ratio, 0.5);
  EXPECT_EQ(r.fallback_context_window, table->byName("big"));
  EXPECT_EQ(r.fallback_unavailable, table->byName("big"));
  EXPECT_EQ(r.fallback_content_policy, nullptr);

  ASSERT_EQ(r.targets.size(), 3u);
  const Target& a = *r.targets[0];
  EXPECT_EQ(a.provider, &p.openai);
  EXPECT_EQ(a.label, "openai/gpt-4o-2024-08-06");
  EXPECT_EQ(a.transforms.size(), 1u);
  EXPECT_EQ(a.timeouts.connect_ms, 1000u);
  EXPECT_EQ(a.timeouts.first_byte_ms, 20000u);
  EXPECT_EQ(a.timeouts.idle_ms, 30000u);
  EXPECT_EQ(a.state->limit.maxInFlight(), 10);
  EXPECT_EQ(a.state->limit.maxPending(), 5);
  const BreakerSettings& b = a.state->breaker.settings();
  EXPECT_EQ(b.consecutive_failures, 3u);
  EXPECT_EQ(b.failure_rate, 0.5);
  EXPECT_EQ(b.min_requests, 10u);
  EXPECT_EQ(b.window_ms, 5000u);
  EXPECT_EQ(b.ejection_ms, 2000u);
  EXPECT_EQ(b.max_ejection_ms, 60000u);
  EXPECT_FALSE(r.targets[1]->state->breaker.settings().enabled);
  EXPECT_EQ(r.targets[2]->label, "anthropic/*");
  EXPECT_EQ(r.targets[2]->state->limit.maxInFlight(), 0);

  const Node& plan = r.plan;
  EXPECT_FALSE(plan.is_target);
  EXPECT_EQ(plan.strategy, Strategy::Fallback);
  ASSERT_EQ(plan.children.size(), 2u);
  EXPECT_EQ(plan.children[0].target, &a);
  EXPECT_EQ(plan.children[1].strategy, Strategy::Weighted);
  EXPECT_EQ(plan.children[1].weight, 2u);
  EXPECT_EQ(plan.children[1].children[0].weight, 3u);
  EXPECT_EQ(plan.children[1].children[1].target, r.targets[2].get());
}

// The fields a test leaves out are the schema's defaults (tests/cpp/fixtures/parts.yaml), the
// same values the settings' structs start with (unit tests build those by hand).
TEST(RouteTable, MissingOptionalFieldsTakeTheDefaults) {
  Providers p;
  auto table = buildTable(p, "[" + route("m") + "]");
  const Route& r = *table->routes()[0];
  const RetryPolicy defaults;
  EXPECT_EQ(r.retry.attempts, defaults.attempts);
  EXPECT_EQ(r.retry.budget_min, defaults.budget_min);
  EXPECT_EQ(r.retry.max_retry_after_ms, defaults.max_retry_after_ms);
  EXPECT_EQ(r.timeout_ms, 0u);
  EXPECT_TRUE(r.aliases.empty());
  EXPECT_EQ(r.fallback_unavailable, nullptr);
  const BreakerSettings& b = r.targets[0]->state->breaker.settings();
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.consecutive_failures, BreakerSettings{}.consecutive_failures);
  EXPECT_EQ(b.ejection_ms, BreakerSettings{}.ejection_ms);
  EXPECT_EQ(r.plan.weight, 1u);
  EXPECT_TRUE(r.plan.is_target);
  EXPECT_EQ(r.targets[0]->label, "openai/*");
  EXPECT_EQ(r.targets[0]->timeouts.first_byte_ms, 0u);
}

TEST(RouteTable, ParsesConditions) {
  Providers p;
  auto table = buildTable(p, R"([{"name": "m", "plan": {"type": "group", "strategy": "conditional", "children": [
    {"type": "target", "provider": "openai", "when": [
      {"source": "header", "key": "X-Tier", "values": ["premium", "gold*"]},
      {"source": "metadata", "key": "team", "values": ["ml"]},
      {"source": "model", "values": ["gpt-*"]}]},
    {"type": "target", "provider": "azure"}]}}])");
  const Node& n = table->routes()[0]->plan.children[0];
  EXPECT_EQ(table->routes()[0]->plan.strategy, Strategy::Conditional);
  ASSERT_EQ(n.when.size(), 3u);
  EXPECT_EQ(n.when[0].source, Condition::Source::Header);
  EXPECT_EQ(n.when[0].key, "x-tier");  // header names are matched lower-case
  EXPECT_EQ(n.when[0].values, (std::vector<std::string>{"premium", "gold*"}));
  EXPECT_EQ(n.when[1].source, Condition::Source::Metadata);
  EXPECT_EQ(n.when[2].source, Condition::Source::Model);
  EXPECT_TRUE(table->routes()[0]->plan.children[1].when.empty());
}

// A routes list that is refused, and what the error says (it names the route and the problem).
struct Refused {
  std::string routes;
  std::string says;
};

std::string one(const std::string& route) { return "[" + route + "]"; }

class RouteTableRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(RouteTableRefuses, NamingTheRouteAndTheProblem) {
  const Refused& c = GetParam();
  Providers p;
  const std::string error = buildError(p, c.routes);
  EXPECT_NE(error.find(c.says), std::string::npos) << c.routes << "\n  threw: " << error;
}

// The core refuses what it cannot read: a missing field, an unknown name or kind. Names, plan
// shapes and ranges are Python's to check (tests/python/config/test_config.py: test_name_errors,
// test_strategy_and_weight_errors, test_fallback_errors, test_route_field_errors ...), so the
// core takes them as given.
INSTANTIATE_TEST_SUITE_P(
    RouteTable, RouteTableRefuses,
    ::testing::Values(
        Refused{one(route("x", "", R"({"type":"target","provider":"nope"})")), "route 'x': unknown provider 'nope'"},
        Refused{one(route("x", "", R"({"type":"group","strategy":"fastest","children":[{"type":"target","provider":"openai"}]})")),
                "route 'x': unknown strategy 'fastest'"},
        Refused{one(route("x", "", R"({"type":"group","children":[{"type":"target","provider":"openai"}]})")),
                "route 'x': missing field 'strategy' (at plan)"},
        Refused{one(route("x", "", R"({"type":"group","strategy":"fallback"})")), "route 'x': missing field 'children'"},
        Refused{one(route("x", "", R"({"type":"thing"})")), "route 'x': unknown node type 'thing'"},
        Refused{one(route("x", "", R"({"type":"group","strategy":"weighted","children":[{"type":"target","provider":"nope"}]})")),
                "plan.children[0]"},
        Refused{one(route("x", "", R"({"type":"target","provider":"openai","transforms":[{"op":"zap","path":"a"}]})")),
                "route 'x': transform: unknown op 'zap'"},
        Refused{one(route("x", "", R"({"type":"target","provider":"openai","when":[{"source":"cookie","values":["a"]}]})")),
                "unknown condition source 'cookie'"},
        Refused{one(route("x", "", R"({"type":"target","provider":"openai","weight":"heavy"})")), "route 'x': "},
        Refused{one(route("x", R"(,"fallbacks":{"unavailable":"ghost"})")),
                "route 'x': fallback 'unavailable' names an unknown route 'ghost'"},
        Refused{one("{}"), "routes[0]: missing field 'name'"},
        Refused{one(R"({"name":7,"plan":{}})"), "routes[0]: field 'name'"},
        Refused{R"({"name":"x"})", "routes must be a list"}));

TEST(RouteTable, AFallbackToARouteDefinedLaterIsFine) {
  Providers p;
  EXPECT_EQ(buildError(p, "[" + route("x", R"(,"fallbacks":{"unavailable":"y"})") + "," + route("y") + "]"), "");
}

TEST(RouteTable, EveryFieldOfARouteIsRequired) {
  Providers p;
  const std::unordered_map<std::string, const Provider*> providers{{"openai", &p.openai}, {"mock", &p.azure}};
  aigw::testing::expectEveryFieldRequiredBy(
      aigw::testing::fixture("full")["routes"],
      [&](const nlohmann::json& routes) { RouteTable::fromJson(routes, providers); });
}

// A model name, the route it resolves to and the part of the name the route's '*' captured
// (nullptr: not the point of the case).
struct Resolution {
  const char* model;
  const char* route;
  const char* captured;
};

class RouteTableResolves : public ::testing::TestWithParam<Resolution> {};

TEST_P(RouteTableResolves, ExactThenAliasThenLongestPatternThenCatchAll) {
  const Resolution& c = GetParam();
  Providers p;
  auto table = buildTable(p, "[" + route("*") + "," + route("openai/*") + "," + route("openai/gpt-4*") + "," +
                                 route("gpt-4o", R"(,"aliases":["smart","openai/gpt-4o"])") + "," + route("x*") + "," +
                                 route("*y") + "]");
  std::string_view captured;
  const Route* r = table->resolve(c.model, &captured);
  ASSERT_NE(r, nullptr) << c.model;
  EXPECT_EQ(r->name, c.route) << c.model;
  if (c.captured != nullptr) EXPECT_EQ(captured, c.captured) << c.model;
}

INSTANTIATE_TEST_SUITE_P(RouteTable, RouteTableResolves,
                         ::testing::Values(Resolution{"gpt-4o", "gpt-4o", "gpt-4o"},
                                           Resolution{"smart", "gpt-4o", "smart"},
                                           // An alias beats every pattern.
                                           Resolution{"openai/gpt-4o", "gpt-4o", nullptr},
                                           // The longest literal part wins among patterns.
                                           Resolution{"openai/gpt-4o-mini", "openai/gpt-4*", "o-mini"},
                                           Resolution{"openai/o1", "openai/*", "o1"},
                                           // Equal specificity: config order.
                                           Resolution{"xy", "x*", "y"}, Resolution{"zy", "*y", nullptr},
                                           // "*" catches the rest and captures the whole name.
                                           Resolution{"mistral-large", "*", "mistral-large"}));

TEST(RouteTable, WithoutACatchAllAnUnmatchedNameHasNoRoute) {
  Providers p;
  std::string_view captured;
  auto no_catch_all = buildTable(p, "[" + route("openai/*") + "]");
  EXPECT_EQ(no_catch_all->resolve("other", &captured), nullptr);
  EXPECT_EQ(no_catch_all->byName("openai/*"), no_catch_all->routes()[0].get());
  EXPECT_EQ(no_catch_all->byName("openai/x"), nullptr);
}

TEST(RouteTable, ListedNamesAreThePlainNamesInConfigOrder) {
  Providers p;
  auto table = buildTable(p, "[" + route("b", R"(,"aliases":["b2"])") + "," + route("openai/*") + "," +
                                 route("a", R"(,"aliases":["a2","a3"])") + "," + route("*") + "]");
  EXPECT_EQ(table->listedNames(), (std::vector<std::string>{"b", "b2", "a", "a2", "a3"}));
  EXPECT_EQ(table->listedRoute(1)->name, "b");
  EXPECT_EQ(table->listedRoute(4)->name, "a");
}

TEST(RouteTable, UpstreamModel) {
  Providers p;
  auto table = buildTable(p, R"([
    {"name": "openai/*", "plan": {"type": "group", "strategy": "fallback", "children": [
      {"type": "target", "provider": "openai"},
      {"type": "target", "provider": "azure", "model": "azure-*-eu"},
      {"type": "target", "provider": "openai", "model": "gpt-4o-mini"}]}},
    {"name": "smart", "plan": {"type": "group", "strategy": "fallback", "children": [
      {"type": "target", "provider": "openai"},
      {"type": "target", "provider": "azure", "model": "*"}]}}])");
  std::string_view captured;
  const Route* r = table->resolve("openai/gpt-4o", &captured);
  EXPECT_EQ(r->targets[0]->upstreamModel("openai/gpt-4o", captured), "gpt-4o");
  EXPECT_EQ(r->targets[1]->upstreamModel("openai/gpt-4o", captured), "azure-gpt-4o-eu");
  EXPECT_EQ(r->targets[2]->upstreamModel("openai/gpt-4o", captured), "gpt-4o-mini");
  r = table->resolve("smart", &captured);
  EXPECT_EQ(r->targets[0]->upstreamModel("smart", captured), "smart");
  EXPECT_EQ(r->targets[1]->upstreamModel("smart", captured), "smart");
}

TEST(RouterTargetState, TtfbIsAnExponentialMovingAverage) {
  TargetState s(BreakerSettings{}, 0, 0);
  EXPECT_EQ(s.ewma_ttfb_us.load(), -1);
  s.recordTtfb(1000);
  EXPECT_EQ(s.ewma_ttfb_us.load(), 1000);
  s.recordTtfb(2000);
  EXPECT_EQ(s.ewma_ttfb_us.load(), 1200);
  s.recordTtfb(200);
  EXPECT_EQ(s.ewma_ttfb_us.load(), 1000);
  // Concurrent samples of one value converge on it without losing updates to torn writes.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) s.recordTtfb(5000);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_NEAR(s.ewma_ttfb_us.load(), 5000, 5);
}

TEST(RouterTargetState, LastError) {
  TargetState s(BreakerSettings{}, 0, 0);
  uint64_t when = 1;
  EXPECT_EQ(s.lastError(&when), "");
  EXPECT_EQ(when, 0u);
  s.setLastError("connect refused", 1234);
  EXPECT_EQ(s.lastError(&when), "connect refused");
  EXPECT_EQ(when, 1234u);
}

TEST(RouterStrategy, Names) {
  EXPECT_STREQ(strategyName(Strategy::Single), "single");
  EXPECT_STREQ(strategyName(Strategy::LeastLatency), "least_latency");
  EXPECT_STREQ(strategyName(Strategy::LeastBusy), "least_busy");
}

}  // namespace
}  // namespace aigw::router
