// The cost hook through a running gateway (mock provider, loopback sockets), with a fake hook
// thread serving the HookQueue: a held answer's head and a stream's end wait for its cost, the
// backstop keeps the table's cost, and a usage seen before a stream is cut still counts.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <poll.h>

#include <atomic>
#include <functional>
#include <thread>

#include "gateway_fixture.h"

namespace aigw::testing {
namespace {

// mock-gpt costs 1 USD per million prompt and 2 per million completion tokens.
std::string config(uint64_t backstop_ms) {
  return completeConfig(R"({"server": {"host": "127.0.0.1", "port": 0, "workers": 1},
    "providers": [{"name": "mock", "kind": "mock"}],
    "routes": [)" + directRoute("*", "mock").dump() + R"(],
    "pricing": {"mock-gpt": {"input": 1.0, "output": 2.0, "cached_input": 1.0}},
    "hooks": {"cost": true, "cost_timeout_ms": )" +
                        std::to_string(backstop_ms) + "}}");
}

// Answers every cost job with `answer(payload)` (empty: never answers).
class FakeHookThread {
 public:
  FakeHookThread(hooks::HookQueue& queue, std::function<std::string(const std::string&)> answer)
      : queue_(queue), answer_(std::move(answer)), thread_([this] { run(); }) {}
  ~FakeHookThread() {
    stop_ = true;
    thread_.join();
  }
  int jobs() const { return jobs_.load(); }
  std::string lastPayload() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  void run() {
    const int fd = queue_.notifyFd();
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      for (hooks::Job& job : queue_.drain()) {
        EXPECT_EQ(job.kind, "cost");
        ++jobs_;
        {
          std::lock_guard<std::mutex> lock(mu_);
          last_ = job.payload;
        }
        std::string result = answer_(job.payload);
        if (!result.empty()) queue_.complete(job.id, true, std::move(result));
      }
    }
  }
  hooks::HookQueue& queue_;
  std::function<std::string(const std::string&)> answer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> jobs_{0};
  std::mutex mu_;
  std::string last_;
  std::thread thread_;
};

std::string chat(bool stream, const std::string& extra_headers = "", bool include_usage = true) {
  std::string body = R"({"model":"mock-gpt","messages":[{"role":"user","content":"hello there"}],"metadata":{"team":"ml"})";
  if (stream) body += include_usage ? R"(,"stream":true,"stream_options":{"include_usage":true})" : R"(,"stream":true)";
  body += "}";
  return post("/v1/chat/completions", body, "authorization: Bearer client-key\r\n" + extra_headers);
}

double totalCost(TestGateway& gw) { return nlohmann::json::parse(gw.server().usageJson())["total"]["cost_usd"]; }

TEST(CostHookGateway, TheHeldAnswerCarriesTheHooksCost) {
  TestGateway gw(config(5000));
  FakeHookThread hook(gw.server().hooks(), [](const std::string&) { return R"({"cost_usd": 0.5})"; });
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(chat(false)));
  auto resp = readResponses(c, 1);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].status, 200);
  EXPECT_EQ(resp[0].header("x-aigw-cost-usd"), "0.5");
  EXPECT_DOUBLE_EQ(totalCost(gw), 0.5);
  const auto snap = nlohmann::json::parse(hook.lastPayload());
  EXPECT_EQ(snap["model"], "mock-gpt");
  EXPECT_EQ(snap["metadata"]["team"], "ml");
  EXPECT_FALSE(snap["headers"].contains("authorization"));
  EXPECT_GT(snap["table_cost_usd"].get<double>(), 0.0);
}

TEST(CostHookGateway, TheStreamEndsWithTheHooksCost) {
  TestGateway gw(config(5000));
  FakeHookThread hook(gw.server().hooks(), [](const std::string&) { return R"({"cost_usd": 0.125})"; });
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(chat(true)));
  const std::string out = c.readUntil("0\r\n\r\n");
  EXPECT_NE(out.find("data: [DONE]"), std::string::npos) << out;
  // The comment comes just before [DONE], which waits for it.
  const size_t comment = out.find(": aigw_cost_usd 0.125\n\n");
  ASSERT_NE(comment, std::string::npos) << out;
  EXPECT_GT(out.find("data: [DONE]\n\n"), comment) << out;
  EXPECT_DOUBLE_EQ(totalCost(gw), 0.125);
}

TEST(CostHookGateway, TheBackstopKeepsTheTablesCost) {
  TestGateway gw(config(100));
  FakeHookThread hook(gw.server().hooks(), [](const std::string&) { return std::string(); });
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(chat(false)));
  auto resp = readResponses(c, 1);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].status, 200);
  const nlohmann::json snap = nlohmann::json::parse(hook.lastPayload());
  EXPECT_EQ(resp[0].header("x-aigw-cost-usd"), cost::formatUsd(snap["table_cost_usd"].get<double>()));
  EXPECT_EQ(gw.stats()["cost_hook"]["backstop_timeouts"], 1);
}

TEST(CostHookGateway, AnUnpricedAnswerStillAsksTheHook) {
  TestGateway gw(config(5000));
  FakeHookThread hook(gw.server().hooks(), [](const std::string&) { return R"({"cost_usd": 0.01})"; });
  RawClient c(gw.port());
  const std::string body = R"({"model":"no-price","messages":[{"role":"user","content":"hi"}]})";
  ASSERT_TRUE(c.send(post("/v1/chat/completions", body)));
  auto resp = readResponses(c, 1);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].header("x-aigw-cost-usd"), "0.01");
  const nlohmann::json snap = nlohmann::json::parse(hook.lastPayload());
  EXPECT_TRUE(snap["price"].is_null());
  EXPECT_TRUE(snap["table_cost_usd"].is_null());
}

TEST(CostHookGateway, AClientThatLeavesWhileTheHookWorksCancelsItsJob) {
  TestGateway gw(config(5000));
  FakeHookThread hook(gw.server().hooks(), [](const std::string&) { return std::string(); });
  {
    RawClient c(gw.port());
    ASSERT_TRUE(c.send(chat(false)));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (hook.jobs() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(hook.jobs(), 1);
    EXPECT_EQ(gw.server().hooks().inFlight(), 1u);
  }
  // The exchange ends with its client: the job is cancelled, the table's cost is booked.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (gw.server().hooks().inFlight() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(gw.server().hooks().inFlight(), 0u);
  EXPECT_EQ(nlohmann::json::parse(gw.server().usageJson())["total"]["requests"], 1);
  EXPECT_GT(totalCost(gw), 0.0);
}

TEST(CostHookGateway, AStreamCutAfterItsUsageIsStillPricedByTheHook) {
  TestGateway gw(config(5000));
  FakeHookThread hook(gw.server().hooks(), [](const std::string&) { return R"({"cost_usd": 0.75})"; });
  RawClient c(gw.port());
  // role, 8 pieces, finish, usage: a reset after 11 events cuts the stream before [DONE].
  ASSERT_TRUE(c.send(chat(true, "x-mock-reset-after: 11\r\n")));
  const std::string out = c.readUntil("0\r\n\r\n");
  EXPECT_EQ(out.find("data: [DONE]"), std::string::npos) << out;
  EXPECT_NE(out.find("failed mid-stream"), std::string::npos) << out;
  EXPECT_NE(out.find(": aigw_cost_usd 0.75\n\n"), std::string::npos) << out;
  const nlohmann::json snap = nlohmann::json::parse(hook.lastPayload());
  EXPECT_EQ(snap["partial"], true);
  EXPECT_EQ(snap["usage"]["completion_tokens"], 8);
  EXPECT_DOUBLE_EQ(totalCost(gw), 0.75);
}

}  // namespace
}  // namespace aigw::testing
