// The attempt loop end to end: a real GatewayServer whose routes point at in-process mock
// providers with fault knobs, driven over loopback by a raw client.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gateway_fixture.h"

namespace aigw {
namespace {

using testing::post;
using testing::RawClient;
using testing::readResponses;
using testing::TestGateway;

// Mock providers by name with their knobs, and the routes document; the fields they leave out
// are the schema's (config_fixture.h).
std::string config(const std::map<std::string, std::string>& providers, const std::string& routes,
                   const std::string& server = "") {
  std::string out = R"({"server": {"host": "127.0.0.1", "port": 0, "workers": 2)";
  if (!server.empty()) out += ", " + server;
  out += R"(}, "providers": [)";
  bool first = true;
  for (const auto& [name, knobs] : providers) {
    if (!first) out += ",";
    first = false;
    out += R"({"name": ")" + name + R"(", "kind": "mock")" + (knobs.empty() ? "" : ", " + knobs) + "}";
  }
  return testing::completeConfig(out + R"(], "routes": )" + routes + "}");
}

std::string target(const std::string& provider, const std::string& extra = "") {
  return R"({"type": "target", "provider": ")" + provider + "\"" + (extra.empty() ? "" : ", " + extra) + "}";
}

std::string group(const std::string& strategy, const std::vector<std::string>& children, const std::string& extra = "") {
  std::string out = R"({"type": "group", "strategy": ")" + strategy + "\"" + (extra.empty() ? "" : ", " + extra) +
                    R"(, "children": [)";
  for (size_t i = 0; i < children.size(); ++i) out += (i ? "," : "") + children[i];
  return out + "]}";
}

std::string route(const std::string& name, const std::string& plan, const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "plan": )" + plan + (extra.empty() ? "" : ", " + extra) + "}";
}

std::string chat(const std::string& model, const std::string& headers = "", bool stream = false) {
  const std::string body = R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}])" +
                           (stream ? R"(,"stream":true)" : "") + "}";
  return post("/v1/chat/completions", body, headers);
}

testing::ParsedResponse ask(int port, const std::string& request, int timeout_ms = 5000) {
  RawClient c(port);
  EXPECT_TRUE(c.send(request));
  auto r = readResponses(c, 1, timeout_ms);
  if (r.empty()) return {};
  return r[0];
}

TEST(Routing, FallbackGoesToTheNextTargetOnA5xx) {
  TestGateway gw(config({{"bad", R"("status": 503)"}, {"good", ""}},
                        "[" + route("m", group("fallback", {target("bad"), target("good")}),
                                    R"("retry": {"attempts": 3, "backoff_base_ms": 1, "backoff_max_ms": 2})") +
                            "]"));
  auto r = ask(gw.port(), chat("m"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-aigw-provider"), "good");
  EXPECT_EQ(r.header("x-aigw-attempts"), "2");
  EXPECT_EQ(gw.stats()["routing"]["retries"].get<int>(), 1);
}

TEST(Routing, ExhaustedAttemptsRelayTheLastUpstreamError) {
  TestGateway gw(config({{"bad", R"("status": 502)"}},
                        "[" + route("m", group("single", {target("bad")}),
                                    R"("retry": {"attempts": 3, "backoff_base_ms": 1, "backoff_max_ms": 2})") +
                            "]"));
  auto r = ask(gw.port(), chat("m"));
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(r.header("x-aigw-attempts"), "3");
  EXPECT_NE(r.body.find("simulated 502"), std::string::npos) << r.body;
}

TEST(Routing, ClientErrorsAreNeverRetried) {
  for (int status : {400, 401, 403, 404, 413, 422}) {
    TestGateway gw(config({{"a", "\"status\": " + std::to_string(status)}, {"b", ""}},
                          "[" + route("m", group("fallback", {target("a"), target("b")})) + "]"));
    auto r = ask(gw.port(), chat("m"));
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("x-aigw-attempts"), "1") << status;
  }
}

TEST(Routing, ContextWindowErrorGoesToTheRouteNamedForIt) {
  TestGateway gw(config(
      {{"small", R"("status": 400, "error_code": "context_length_exceeded")"}, {"big", ""}},
      "[" + route("m", group("single", {target("small")}), R"("fallbacks": {"context_window_exceeded": "m-big"})") +
          "," + route("m-big", group("single", {target("big", R"("model": "big-128k")")})) + "]"));
  auto r = ask(gw.port(), chat("m"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-aigw-provider"), "big");
  EXPECT_EQ(r.header("x-aigw-model"), "big-128k");
  EXPECT_EQ(r.header("x-aigw-attempts"), "2");
}

TEST(Routing, DeadlineCoversEveryAttempt) {
  TestGateway gw(config({{"slow", R"("latency_ms": 5000)"}},
                        "[" + route("m", group("single", {target("slow")}), R"("timeout_ms": 300)") + "]"));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ask(gw.port(), chat("m"));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find("deadline_exceeded"), std::string::npos) << r.body;
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 2000);
}

TEST(Routing, ConsecutiveFailuresEjectTheTargetAndAFast503SaysWhy) {
  const std::string breaker = R"("breaker": {"consecutive_failures": 2, "ejection_ms": 60000})";
  TestGateway gw(config({{"bad", R"("status": 500)"}},
                        "[" + route("m", group("single", {target("bad", breaker)}), R"("retry": {"attempts": 1})") +
                            "]"));
  EXPECT_EQ(ask(gw.port(), chat("m")).status, 500);
  EXPECT_EQ(ask(gw.port(), chat("m")).status, 500);
  auto r = ask(gw.port(), chat("m"));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("no_available_target"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("ejected"), std::string::npos) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_EQ(gw.stats()["routing"]["ejections"].get<int>(), 1);
}

TEST(Routing, EveryTargetEjectedGoesToTheUnavailableFallback) {
  const std::string breaker = R"("breaker": {"consecutive_failures": 1, "ejection_ms": 60000})";
  TestGateway gw(config({{"bad", R"("status": 500)"}, {"spare", ""}},
                        "[" + route("m", group("single", {target("bad", breaker)}),
                                    R"("retry": {"attempts": 1}, "fallbacks": {"unavailable": "spare"})") +
                            "," + route("spare", group("single", {target("spare")})) + "]"));
  // The first request fails (attempts exhausted) and moves on; later ones skip the ejected target.
  for (int i = 0; i < 3; ++i) {
    auto r = ask(gw.port(), chat("m"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-aigw-provider"), "spare");
  }
}

TEST(Routing, ConcurrencyCapAdmitsItsLimitAndRefusesTheRestAtOnce) {
  TestGateway gw(config({{"slow", R"("latency_ms": 400)"}},
                        "[" + route("m", group("single", {target("slow", R"("max_in_flight": 1, "max_pending": 0)")})) +
                            "]"));
  RawClient first(gw.port());
  ASSERT_TRUE(first.send(chat("m")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  auto refused = ask(gw.port(), chat("m"));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("concurrency cap"), std::string::npos) << refused.body;
  EXPECT_LT(ms, 200);
  auto ok = readResponses(first, 1);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].status, 200);
  EXPECT_EQ(gw.stats()["routing"]["cap_rejections"].get<int>(), 1);
}

TEST(Routing, PendingRequestWaitsForAFreedSlot) {
  TestGateway gw(config({{"slow", R"("latency_ms": 200)"}},
                        "[" + route("m", group("single", {target("slow", R"("max_in_flight": 1, "max_pending": 4)")})) +
                            "]"));
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<RawClient>(gw.port()));
    ASSERT_TRUE(clients.back()->send(chat("m")));
  }
  for (auto& c : clients) {
    auto r = readResponses(*c, 1, 5000);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 200);
  }
}

TEST(Routing, RoutingSummaryIsAddedOnRequest) {
  TestGateway gw(config({{"bad", R"("status": 503)"}, {"good", ""}},
                        "[" + route("m", group("fallback", {target("bad"), target("good")}),
                                    R"("retry": {"backoff_base_ms": 1, "backoff_max_ms": 2})") +
                            "]"));
  auto plain = ask(gw.port(), chat("m"));
  EXPECT_EQ(plain.body.find("aigw_routing"), std::string::npos);
  auto r = ask(gw.port(), chat("m", "x-aigw-routing-summary: true\r\n"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = nlohmann::json::parse(r.body);
  auto attempts = body["aigw_routing"]["attempts"];
  ASSERT_EQ(attempts.size(), 2u) << r.body;
  EXPECT_EQ(attempts[0]["target"], "bad/*");
  EXPECT_EQ(attempts[0]["status"], 503);
  EXPECT_EQ(attempts[1]["status"], 200);
  EXPECT_TRUE(attempts[1]["error"].is_null());
  EXPECT_EQ(body["aigw_routing"]["route"], "m");
}

TEST(Routing, WeightedSplitFollowsTheWeights) {
  TestGateway gw(config({{"a", ""}, {"b", ""}},
                        "[" + route("m", group("weighted", {target("a", R"("weight": 3)"), target("b", R"("weight": 1)")})) +
                            "]"));
  int a = 0;
  const int n = 400;
  RawClient c(gw.port());
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(c.send(chat("m")));
    auto r = readResponses(c, 1);
    ASSERT_EQ(r.size(), 1u);
    a += r[0].header("x-aigw-provider") == "a" ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(a) / n, 0.75, 0.08);
}

TEST(Routing, RetryAfterKeepsEveryRequestOffTheTargetUntilItPasses) {
  TestGateway gw(config({{"limited", R"("status": 429, "retry_after": 30)"}, {"other", ""}},
                        "[" + route("m", group("fallback", {target("limited"), target("other")})) + "]"));
  auto r = ask(gw.port(), chat("m"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-aigw-attempts"), "2");
  // The next request does not try the rate-limited target at all.
  auto again = ask(gw.port(), chat("m"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.header("x-aigw-attempts"), "1");
  EXPECT_EQ(again.header("x-aigw-provider"), "other");
}

TEST(Routing, TransformsRewriteTheBodyForTheTarget) {
  // The mock answers max_tokens/max_completion_tokens by cutting the completion: renaming a
  // bad value away from the field it reads proves the body was rewritten.
  const std::string transforms =
      R"("transforms": [{"op": "drop", "path": "max_tokens", "if_present": "tools"}])";
  TestGateway gw(config({{"a", R"("chunks": 8)"}}, "[" + route("m", group("single", {target("a", transforms)})) + "]"));
  const std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1,"tools":[]})";
  auto r = ask(gw.port(), post("/v1/chat/completions", body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["choices"][0]["finish_reason"], "stop") << r.body;
}

// A target with transforms copies the request's document, recursing once per level: a body
// nested a million levels deep overflowed the worker's stack and took the gateway down. Such a
// body is refused before any document is built, and the gateway keeps serving.
TEST(Routing, DeeplyNestedBodyIsRefusedBeforeTransformsCopyIt) {
  const std::string transforms = R"("transforms": [{"op": "drop", "path": "max_tokens"}])";
  TestGateway gw(config({{"a", ""}}, "[" + route("m", group("single", {target("a", transforms)})) + "]"));
  const std::string deep = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":)" +
                           std::string(1000000, '[') + std::string(1000000, ']') + "}";
  auto r = ask(gw.port(), post("/v1/chat/completions", deep));
  EXPECT_EQ(r.status, 400) << r.body;
  auto ok = ask(gw.port(), post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(Routing, StreamHeadWaitsForTheFirstEventSoAFailureBeforeItStillRetries) {
  TestGateway gw(config({{"flaky", R"("reset_after": 0)"}, {"good", ""}},
                        "[" + route("m", group("fallback", {target("flaky"), target("good")})) + "]"));
  auto r = ask(gw.port(), chat("m", "", true));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-aigw-provider"), "good");
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos) << r.body;
}

TEST(Routing, HealthShowsTargetsWithTheirBreakerState) {
  TestGateway gw(config({{"a", ""}}, "[" + route("m", group("single", {target("a")})) + "]"));
  auto r = ask(gw.port(), testing::get("/health"));
  auto body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body["routes"].size(), 1u) << r.body;
  EXPECT_EQ(body["routes"][0]["targets"][0]["breaker"], "closed");
  EXPECT_EQ(body["providers"][0]["in_flight"], 0);
}

}  // namespace
}  // namespace aigw
