// The during stage end to end: a real GatewayServer whose provider is a scripted upstream (so
// the test sees the upstream connection closed), with fake asynchronous guardrails (a timer
// that answers a chosen verdict) installed per request by an extra pipeline stage, and the
// moderation guardrail from config.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "core/timer.h"
#include "gateway/exchange.h"
#include "gateway_fixture.h"
#include "guardrails/during_filter.h"
#include "guardrails/request_guardrails.h"
#include "upstream/scripted_upstream.h"

namespace aigw::testing {
namespace {

using guardrails::AsyncCheck;
using guardrails::AsyncCheckContext;
using guardrails::AsyncCheckPtr;
using guardrails::CheckDone;
using guardrails::CheckInput;
using guardrails::CheckResult;
using guardrails::Guardrail;
using guardrails::GuardrailSettings;
using guardrails::Stage;
using guardrails::Verdict;
using Clock = std::chrono::steady_clock;

// One fake check in flight: answers `verdict` after `delay_ms` unless cancelled first.
class FakeCheck final : public AsyncCheck {
 public:
  FakeCheck(EventLoop& loop, uint64_t delay_ms, CheckResult result, CheckDone done, std::atomic<int>& cancels)
      : result_(std::move(result)), done_(std::move(done)), cancels_(cancels), timer_(loop.uv(), [this] { fire(); }) {
    timer_.start(delay_ms);
  }
  void cancel() override {
    if (!done_) return;
    done_ = nullptr;
    timer_.stop();
    ++cancels_;
  }

 private:
  void fire() {
    CheckDone done = std::move(done_);
    done_ = nullptr;
    if (done) done(result_);
  }
  CheckResult result_;
  CheckDone done_;
  std::atomic<int>& cancels_;
  Timer timer_;
};

// An asynchronous guardrail at the during stage with a fixed delay and verdict.
class FakeGuardrail final : public Guardrail {
 public:
  FakeGuardrail(std::string name, uint64_t delay_ms, Verdict verdict, bool error = false, bool fail_open = false)
      : Guardrail(settingsFor(std::move(name), fail_open)), delay_ms_(delay_ms) {
    result_.verdict = verdict;
    result_.error = error;
    result_.reason = error ? "the fake check failed" : "the fake says no";
    result_.reason_public = true;
  }
  CheckResult check(CheckInput&) const override { return {}; }
  bool asynchronous() const override { return true; }
  AsyncCheckPtr startCheck(AsyncCheckContext& ctx, const CheckInput& in, CheckDone done) const override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      seen_.clear();
      for (const std::string* t : *in.texts) seen_.push_back(*t);
    }
    ++starts;
    return std::make_unique<FakeCheck>(ctx.calls.loop, delay_ms_, result_, std::move(done), cancels);
  }
  std::vector<std::string> seen() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

  mutable std::atomic<int> starts{0};
  mutable std::atomic<int> cancels{0};

 private:
  static GuardrailSettings settingsFor(std::string name, bool fail_open) {
    GuardrailSettings s;
    s.name = std::move(name);
    s.kind = "fake";
    s.stages = static_cast<uint8_t>(Stage::During);
    s.fail_open = fail_open;
    return s;
  }
  uint64_t delay_ms_;
  CheckResult result_;
  mutable std::mutex mutex_;
  mutable std::vector<std::string> seen_;
};

// Gives every request these during guardrails (an embedder's stage would select them).
class InstallDuring final : public Filter {
 public:
  explicit InstallDuring(std::vector<const Guardrail*> list) : list_(std::move(list)) {}
  const char* name() const override { return "install_during"; }
  FilterStatus onRequest(RequestContext& ex) const override {
    guardrails::Selection selection;
    for (const Guardrail* g : list_) selection.add(g);
    ex.setGuardrails(std::make_unique<guardrails::RequestGuardrails>(std::move(selection), ex.api().endpoint));
    return FilterStatus::Continue;
  }

 private:
  std::vector<const Guardrail*> list_;
};

// The provider "up" at the scripted upstream (one attempt unless `retry` says otherwise).
std::string upstreamConfig(int upstream_port, const std::string& route_extra = "", const std::string& more = "",
                           const std::string& providers_extra = "", const std::string& retry = R"({"attempts": 1})") {
  return testing::completeConfig(R"({"server": {"host": "127.0.0.1", "port": 0, "workers": 1},
    "providers": [{"name": "up", "kind": "openai", "api_key": "sk-up",
                   "base_url": "http://127.0.0.1:)" +
                                 std::to_string(upstream_port) + R"(/v1"})" + providers_extra + R"(],
    "routes": [{"name": "*", "plan": {"type": "target", "provider": "up"}, "retry": )" +
                                 retry + route_extra + "}]" + more + "}");
}

// A gateway over `upstream` whose requests all get `list` at the during stage.
class DuringGateway {
 public:
  DuringGateway(const std::string& config, std::vector<const Guardrail*> list) {
    std::string error;
    server_ = GatewayServer::create(config, &error);
    if (!server_) {
      ADD_FAILURE() << error;
      return;
    }
    if (!list.empty()) {
      // The configured set has no during guardrail here: the stage comes with the embedder's.
      server_->addFilter([list] { return std::make_unique<InstallDuring>(list); });
      server_->addFilter([] { return std::make_unique<guardrails::DuringGuardrailFilter>(); });
    }
    port_ = server_->start(&error);
    if (port_ <= 0) ADD_FAILURE() << error;
  }
  ~DuringGateway() {
    if (server_) server_->stop(500);
  }
  int port() const { return port_; }
  nlohmann::json stats() const { return nlohmann::json::parse(server_->statsJson()); }
  bool waitIdle(int timeout_ms = 3000) const {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (stats()["requests_in_flight"] != 0) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  std::unique_ptr<GatewayServer> server_;
  int port_ = -1;
};

std::string chatBody(bool stream, const std::string& text = "hello there") {
  return R"({"model":"gpt-4o","stream":)" + std::string(stream ? "true" : "false") +
         R"(,"messages":[{"role":"user","content":")" + text + R"("}]})";
}

const std::string kAnswer = R"({"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"THE-ANSWER"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}})";

std::vector<std::string> sseEvents() {
  std::vector<std::string> events;
  for (const char* word : {"one ", "two ", "three"}) {
    events.push_back(std::string(R"(data: {"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":")") +
                     word + R"("},"finish_reason":null}]})" + "\n\n");
  }
  events.push_back("data: [DONE]\n\n");
  return events;
}

int64_t msSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

TEST(DuringStage, AnAllowReleasesTheHeldAnswerIntact) {
  ScriptedUpstream upstream({okResponse(kAnswer)});
  FakeGuardrail check("fake", 150, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(msSince(t0), 140);  // held until the verdict, though the upstream answered at once
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body, kAnswer);
  EXPECT_EQ(r[0].header("x-aigw-provider"), "up");
  EXPECT_EQ(check.seen(), std::vector<std::string>{"hello there"});
  EXPECT_EQ(check.counters().runs.load(), 1u);
  EXPECT_EQ(check.counters().blocks.load(), 0u);
  EXPECT_EQ(upstream.requests(), 1);
}

TEST(DuringStage, AnAllowReleasesTheHeldStreamIntact) {
  const std::vector<std::string> events = sseEvents();
  ScriptedUpstream upstream({chunkedResponse(events)});
  FakeGuardrail check("fake", 150, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  c.send(post("/v1/chat/completions", chatBody(true)));
  const std::string first = c.readSome(3000);
  EXPECT_GE(msSince(t0), 140);  // not even the head went out before the verdict
  std::string raw = first + (first.find("0\r\n\r\n") == std::string::npos ? c.readUntil("0\r\n\r\n") : "");
  auto r = parseResponses(raw);
  ASSERT_EQ(r.size(), 1u) << raw;
  EXPECT_EQ(r[0].status, 200);
  EXPECT_NE(r[0].header("content-type").find("text/event-stream"), std::string::npos);
  std::string all;
  for (const auto& e : events) all += e;
  EXPECT_EQ(r[0].body, all);
}

TEST(DuringStage, ABlockBeforeTheUpstreamAnswersCancelsTheCall) {
  ScriptedUpstream upstream({neverAnswer()});
  FakeGuardrail check("fake", 100, Verdict::Block);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 400);
  EXPECT_EQ(r[0].header("x-aigw-guardrail"), "fake");
  EXPECT_EQ(r[0].body,
            R"({"error":{"message":"the request was blocked by guardrail 'fake': the fake says no","type":"invalid_request_error","param":null,"code":"content_blocked"}})");
  // The upstream saw the request, then its connection closed (not left to time out).
  EXPECT_TRUE(upstream.waitFor([&] { return upstream.peerCloses() >= 1; }));
  EXPECT_EQ(upstream.requests(), 1);
  EXPECT_EQ(check.counters().blocks.load(), 1u);
  EXPECT_EQ(check.counters().upstream_cancels.load(), 1u);
  EXPECT_TRUE(gw.waitIdle());
}

TEST(DuringStage, ABlockAfterTheUpstreamAnsweredDiscardsTheAnswer) {
  ScriptedUpstream upstream({okResponse(kAnswer)});
  FakeGuardrail check("fake", 150, Verdict::Block);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 400);
  EXPECT_EQ(r[0].body.find("THE-ANSWER"), std::string::npos) << r[0].body;
  EXPECT_EQ(r[0].header("x-aigw-guardrail"), "fake");
  EXPECT_EQ(check.counters().upstream_cancels.load(), 0u);  // nothing was in flight any more
}

TEST(DuringStage, ABlockDiscardsAHeldStream) {
  ScriptedUpstream upstream({chunkedResponse(sseEvents())});
  FakeGuardrail check("fake", 150, Verdict::Block);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(true)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 400);
  EXPECT_EQ(r[0].header("content-type"), "application/json");
  EXPECT_EQ(r[0].body.find("one"), std::string::npos) << r[0].body;
  EXPECT_NE(r[0].body.find("content_blocked"), std::string::npos) << r[0].body;
}

TEST(DuringStage, ChecksRunBesideTheUpstreamCall) {
  ScriptedUpstream upstream({okResponse(kAnswer).delayed(200)});
  FakeGuardrail check("fake", 200, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  const int64_t took = msSince(t0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_GE(took, 190);
  EXPECT_LT(took, 350) << "the check and the upstream call ran one after the other";
}

TEST(DuringStage, AClientLeavingCancelsTheChecksAndTheCall) {
  ScriptedUpstream upstream({neverAnswer()});
  FakeGuardrail check("fake", 5000, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  {
    RawClient c(gw.port());
    c.send(post("/v1/chat/completions", chatBody(false)));
    ASSERT_TRUE(upstream.waitFor([&] { return upstream.requests() == 1; }));
  }
  EXPECT_TRUE(upstream.waitFor([&] { return upstream.peerCloses() >= 1; }));
  EXPECT_TRUE(gw.waitIdle());
  EXPECT_EQ(check.cancels.load(), 1);
  EXPECT_EQ(check.counters().runs.load(), 1u);  // cut short: booked as a cancelled run
  EXPECT_EQ(check.counters().blocks.load() + check.counters().errors.load(), 0u);
}

TEST(DuringStage, TheFirstBlockWinsAndCancelsTheOtherChecks) {
  ScriptedUpstream upstream({neverAnswer()});
  FakeGuardrail slow("slow", 5000, Verdict::Allow);
  FakeGuardrail quick("quick", 50, Verdict::Block);
  DuringGateway gw(upstreamConfig(upstream.port()), {&slow, &quick});
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_LT(msSince(t0), 1000);
  EXPECT_EQ(r[0].status, 400);
  EXPECT_EQ(r[0].header("x-aigw-guardrail"), "quick");
  EXPECT_EQ(slow.starts.load(), 1);  // both started at once
  EXPECT_EQ(slow.cancels.load(), 1);
  EXPECT_EQ(slow.counters().runs.load(), 1u);  // booked as cancelled, like a StageRun sibling
  EXPECT_EQ(slow.counters().blocks.load(), 0u);
}

TEST(DuringStage, EveryCheckMustAllow) {
  ScriptedUpstream upstream({okResponse(kAnswer)});
  FakeGuardrail a("a", 50, Verdict::Allow);
  FakeGuardrail b("b", 150, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port()), {&a, &b});
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(msSince(t0), 140);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body, kAnswer);
}

TEST(DuringStage, ABlockWinsOverAnUpstreamError) {
  const std::string error = R"({"error":{"message":"upstream broke","type":"server_error"}})";
  ScriptedUpstream upstream({rawResponse("HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                                         "content-length: " + std::to_string(error.size()) + "\r\n\r\n" + error)});
  FakeGuardrail check("fake", 150, Verdict::Block);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 400);
  EXPECT_NE(r[0].body.find("content_blocked"), std::string::npos) << r[0].body;
}

TEST(DuringStage, AnUpstreamErrorGoesOutAfterAnAllow) {
  const std::string error = R"({"error":{"message":"upstream broke","type":"server_error"}})";
  ScriptedUpstream upstream({rawResponse("HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                                         "content-length: " + std::to_string(error.size()) + "\r\n\r\n" + error)});
  FakeGuardrail check("fake", 150, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(msSince(t0), 140);
  EXPECT_EQ(r[0].status, 500);
  EXPECT_EQ(r[0].body, error);
}

TEST(DuringStage, ChecksThatFailFollowOnError) {
  {
    ScriptedUpstream upstream({okResponse(kAnswer)});
    FakeGuardrail closed("closed", 50, Verdict::Allow, /*error=*/true);
    DuringGateway gw(upstreamConfig(upstream.port()), {&closed});
    RawClient c(gw.port());
    c.send(post("/v1/chat/completions", chatBody(false)));
    auto r = readResponses(c, 1);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 400);
    EXPECT_NE(r[0].body.find("the fake check failed"), std::string::npos) << r[0].body;
    EXPECT_EQ(closed.counters().errors.load(), 1u);
  }
  {
    ScriptedUpstream upstream({okResponse(kAnswer)});
    FakeGuardrail open("open", 50, Verdict::Allow, /*error=*/true, /*fail_open=*/true);
    DuringGateway gw(upstreamConfig(upstream.port()), {&open});
    RawClient c(gw.port());
    c.send(post("/v1/chat/completions", chatBody(false)));
    auto r = readResponses(c, 1);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 200);
    EXPECT_EQ(open.counters().errors.load(), 1u);
  }
}

TEST(DuringStage, TheRequestDeadlineBoundsTheChecks) {
  ScriptedUpstream upstream({okResponse(kAnswer)});
  FakeGuardrail check("fake", 5000, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port(), R"(, "timeout_ms": 200)"), {&check});
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_LT(msSince(t0), 1000);
  EXPECT_EQ(r[0].status, 400);  // fail closed
  EXPECT_NE(r[0].body.find("did not finish within the request's deadline"), std::string::npos) << r[0].body;
  EXPECT_EQ(check.cancels.load(), 1);
  EXPECT_EQ(check.counters().timeouts.load(), 1u);
}

TEST(DuringStage, AStreamLargerThanTheGateWaitsUpstreamAndArrivesWhole) {
  // ~3 MiB of events: past the gate's bound the call stops reading until the verdict.
  std::vector<std::string> events;
  const std::string filler(1000, 'x');
  for (int i = 0; i < 3000; ++i) {
    events.push_back(R"(data: {"choices":[{"index":0,"delta":{"content":")" + std::to_string(i) + filler + R"("}}]})" +
                     std::string("\n\n"));
  }
  events.push_back("data: [DONE]\n\n");
  std::string all;
  for (const auto& e : events) all += e;
  ScriptedUpstream upstream({chunkedResponse(events)});
  FakeGuardrail check("fake", 300, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port()), {&check});
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(true)));
  auto r = readResponses(c, 1, 10000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body.size(), all.size());
  EXPECT_TRUE(r[0].body == all);
}

TEST(DuringStage, RetriesDoNotRunTheChecksAgain) {
  const std::string error = R"({"error":{"message":"busy","type":"server_error"}})";
  ScriptedUpstream upstream({rawResponse("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                                         "content-length: " + std::to_string(error.size()) + "\r\n\r\n" + error),
                             okResponse(kAnswer)});
  FakeGuardrail check("fake", 100, Verdict::Allow);
  DuringGateway gw(upstreamConfig(upstream.port(), "", "", "", R"({"attempts": 2, "backoff_base_ms": 1})"), {&check});
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(false)));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].header("x-aigw-attempts"), "2");
  EXPECT_EQ(check.starts.load(), 1);
}

// From config: moderation at the during stage, and a synchronous built-in there.
std::string moderationConfig(int upstream_port, int moderation_port) {
  return upstreamConfig(upstream_port, "", R"(, "guardrails": [
      {"name": "mod", "kind": "moderation", "provider": "moderator", "stages": ["during"], "default": true,
       "timeout_ms": 5000},
      {"name": "ban", "kind": "phrases", "phrases": ["doomsday"], "stages": ["during"], "default": true}])",
                        R"(, {"name": "moderator", "kind": "openai", "api_key": "sk-mod",
                              "base_url": "http://127.0.0.1:)" + std::to_string(moderation_port) + R"(/v1"})");
}

TEST(DuringStage, ModerationFromConfigBlocksBesideTheCall) {
  ScriptedUpstream upstream({neverAnswer()});
  ScriptedUpstream moderator(
      {okResponse(R"({"results":[{"flagged":true,"categories":{"violence":true}}]})").delayed(100)});
  TestGateway gw(moderationConfig(upstream.port(), moderator.port()));
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(false, "plan an attack")));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 400);
  EXPECT_EQ(r[0].header("x-aigw-guardrail"), "mod");
  EXPECT_NE(r[0].body.find("the request was blocked by guardrail 'mod': flagged by moderation (violence)"),
            std::string::npos)
      << r[0].body;
  EXPECT_TRUE(upstream.waitFor([&] { return upstream.peerCloses() >= 1; }));
  const auto stats = gw.stats()["guardrails"];
  EXPECT_EQ(stats["mod"]["stages"], nlohmann::json::array({"during"}));
  EXPECT_EQ(stats["mod"]["blocks"], 1);
  EXPECT_EQ(stats["mod"]["upstream_cancels"], 1);
  EXPECT_EQ(stats["ban"]["runs"], 1);
}

TEST(DuringStage, ASynchronousBlockAtDuringMakesNoCall) {
  ScriptedUpstream upstream({okResponse(kAnswer)});
  ScriptedUpstream moderator({});
  TestGateway gw(moderationConfig(upstream.port(), moderator.port()));
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", chatBody(false, "the doomsday plan")));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 400);
  EXPECT_EQ(r[0].header("x-aigw-guardrail"), "ban");
  EXPECT_EQ(upstream.requests(), 0);
  EXPECT_EQ(moderator.requests(), 0);
  EXPECT_EQ(gw.stats()["guardrails"]["mod"]["runs"], 0);
}

// What cannot run at the during stage (a redaction, limits) is Python's to refuse
// (tests/python/guardrails/test_guardrail_config.py,
// test_the_config_takes_during_and_refuses_what_cannot_run_there);
// the core refuses a stage it does not know.
TEST(DuringStage, ConfigAcceptsDuringAndRefusesWhatCannotRunThere) {
  std::string error;
  auto ok = GatewayServer::create(moderationConfig(1, 2), &error);
  EXPECT_TRUE(ok) << error;
  const std::string bad = upstreamConfig(1, "", R"(, "guardrails": [
      {"name": "x", "kind": "phrases", "phrases": ["a"], "stages": ["sometime"]}])");
  EXPECT_FALSE(GatewayServer::create(bad, &error));
  EXPECT_NE(error.find("unknown stage 'sometime' (input, during, output, stream)"), std::string::npos) << error;
}

}  // namespace
}  // namespace aigw::testing
