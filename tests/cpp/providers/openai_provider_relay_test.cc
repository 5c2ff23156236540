// OpenAiProvider::start against a scripted upstream: what the pipeline's CallObserver sees
// (head, filtered headers, body bytes, usage, errors) and backpressure towards the upstream.
#include <gtest/gtest.h>

#include <random>

#include "loop_driver.h"
#include "providers/openai_provider.h"
#include "upstream/pool_registry.h"
#include "upstream/scripted_upstream.h"

namespace aigw {
namespace {

using testing::chunkedResponse;
using testing::okResponse;
using testing::rawResponse;
using testing::ScriptedUpstream;

struct Observer final : CallObserver {
  int heads = 0;
  int status = 0;
  http::HeaderList headers;
  int64_t content_length = -2;
  std::string body;
  int body_pieces = 0;
  bool ended = false;
  CallUsage usage;
  bool errored = false;
  CallErrorKind kind = CallErrorKind::Internal;
  std::string error;
  bool blocked = false;
  bool block_after_first_piece = false;

  bool done() const { return ended || errored; }
  void onCallHead(int s, http::HeaderList h, int64_t cl) override {
    ++heads;
    status = s;
    headers = std::move(h);
    content_length = cl;
  }
  void onCallBody(std::string_view data) override {
    body.append(data);
    ++body_pieces;
    if (block_after_first_piece) blocked = true;
  }
  void onCallEnd(const CallUsage& u) override {
    EXPECT_FALSE(done());
    ended = true;
    usage = u;
  }
  void onCallError(CallErrorKind k, std::string message) override {
    EXPECT_FALSE(done());
    errored = true;
    kind = k;
    error = std::move(message);
  }
  bool callBlocked() const override { return blocked; }
};

class OpenAiRelay : public ::testing::Test {
 protected:
  OpenAiRelay() : pools_(loop_, 60000), ctx_{loop_, rng_, false, &pools_} {}
  ~OpenAiRelay() override {
    call_.reset();
    pools_.shutdown();
    runFor(20);
  }

  void makeProvider(const std::string& base_url, upstream::CallTimeouts timeouts = {}) {
    OpenAiOptions o;
    std::string error;
    ASSERT_TRUE(upstream::parseBaseUrl(base_url, &o.origin, &error)) << error;
    o.api_key = "sk-up";
    o.timeouts = timeouts;
    provider_ = OpenAiProvider::create("up", std::move(o), &error);
    ASSERT_TRUE(provider_) << error;
  }

  void start(bool stream = false) {
    http_.method = "POST";
    http_.target = "/v1/chat/completions";
    http_.body = R"({"model":"gpt-4o","messages":[]})";
    http_.headers.add("content-type", "application/json");
    body_.reset(http_.body);
    CallRequest req{Endpoint::ChatCompletions, http_, http_.body, body_, true, "gpt-4o", "gpt-4o", stream, "req_1", {}};
    call_ = provider_->start(ctx_, req, observer_);
  }

  bool runUntil(const std::function<bool()>& pred, uint64_t timeout_ms = 5000) {
    return testing::runUntil(loop_, pred, timeout_ms);
  }
  void runFor(uint64_t ms) { testing::runFor(loop_, ms); }

  EventLoop loop_;
  std::mt19937_64 rng_{1};
  upstream::PoolRegistry pools_;
  CallContext ctx_;
  std::unique_ptr<OpenAiProvider> provider_;
  http::Request http_;
  LazyJson body_;
  Observer observer_;
  ProviderCallPtr call_;
};

TEST_F(OpenAiRelay, JsonAnswerIsRelayedWithUsage) {
  const std::string body =
      R"({"id":"c1","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":12,"completion_tokens":3}})";
  ScriptedUpstream server({okResponse(body, "set-cookie: s=1\r\nx-ratelimit-remaining-requests: 9\r\nserver: up\r\n")});
  makeProvider(server.baseUrl() + "/v1");
  start();
  ASSERT_TRUE(runUntil([&] { return observer_.done(); }));
  ASSERT_TRUE(observer_.ended) << observer_.error;
  EXPECT_EQ(observer_.status, 200);
  EXPECT_EQ(observer_.content_length, static_cast<int64_t>(body.size()));
  EXPECT_EQ(observer_.body, body);
  EXPECT_EQ(observer_.usage.prompt_tokens, 12);
  EXPECT_EQ(observer_.usage.completion_tokens, 3);
  EXPECT_EQ(observer_.headers.find("set-cookie"), nullptr);
  EXPECT_EQ(observer_.headers.find("server"), nullptr);
  EXPECT_EQ(observer_.headers.find("content-length"), nullptr);
  ASSERT_NE(observer_.headers.find("x-ratelimit-remaining-requests"), nullptr);
  auto requests = server.receivedRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(requests[0].find("authorization: Bearer sk-up\r\n"), std::string::npos);
}

TEST_F(OpenAiRelay, StreamIsRelayedByteForByteAndUsageTakenFromTheLastChunk) {
  const std::vector<std::string> chunks = {
      "data: {\"choices\":[{\"delta\":{\"content\":\"He\"}}],\"usage\":null}\n\n",
      "data: {\"choices\":[{\"delta\":{\"content\":\"llo\"}}],\"usage\":null}\n",
      "\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}\n\n",
      "data: [DONE]\n\n"};
  ScriptedUpstream server({chunkedResponse(chunks)});
  makeProvider(server.baseUrl() + "/v1");
  start(/*stream=*/true);
  ASSERT_TRUE(runUntil([&] { return observer_.done(); }));
  ASSERT_TRUE(observer_.ended) << observer_.error;
  EXPECT_EQ(observer_.content_length, -1);
  EXPECT_EQ(observer_.body, chunks[0] + chunks[1] + chunks[2] + chunks[3]);
  EXPECT_EQ(observer_.usage.prompt_tokens, 5);
  EXPECT_EQ(observer_.usage.completion_tokens, 7);
  EXPECT_EQ(*observer_.headers.find("content-type"), "text/event-stream");
}

// A failed request may still have consumed tokens: what its error body reports is kept.
TEST_F(OpenAiRelay, ErrorStatusIsRelayedWithTheUsageItReports) {
  const std::string body = R"({"error":{"message":"slow down"},"usage":{"prompt_tokens":1}})";
  ScriptedUpstream server({rawResponse("HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\ncontent-length: " +
                                       std::to_string(body.size()) + "\r\n\r\n" + body)});
  makeProvider(server.baseUrl());
  start();
  ASSERT_TRUE(runUntil([&] { return observer_.done(); }));
  ASSERT_TRUE(observer_.ended);
  EXPECT_EQ(observer_.status, 429);
  EXPECT_EQ(*observer_.headers.find("retry-after"), "7");
  EXPECT_EQ(observer_.body, body);
  EXPECT_EQ(observer_.usage.prompt_tokens, 1);
  EXPECT_EQ(observer_.usage.completion_tokens, -1);
}

TEST_F(OpenAiRelay, RedirectIsNotFollowedButReportedOnce) {
  ScriptedUpstream server({rawResponse("HTTP/1.1 302 Found\r\nlocation: http://elsewhere/\r\ncontent-length: 3\r\n\r\nbye"),
                           okResponse("{}")});
  makeProvider(server.baseUrl());
  start();
  ASSERT_TRUE(runUntil([&] { return observer_.done(); }));
  EXPECT_TRUE(observer_.errored);
  EXPECT_EQ(observer_.kind, CallErrorKind::Protocol);
  EXPECT_NE(observer_.error.find("redirect"), std::string::npos) << observer_.error;
  EXPECT_EQ(observer_.heads, 0);
  EXPECT_EQ(observer_.body, "");
  runFor(20);  // the rest of the redirect must not reach the observer
  EXPECT_FALSE(observer_.ended);
}

TEST_F(OpenAiRelay, ConnectFailureIsReported) {
  testing::RefusingPort refusing;
  makeProvider("http://127.0.0.1:" + std::to_string(refusing.port()) + "/v1");
  start();
  ASSERT_TRUE(runUntil([&] { return observer_.done(); }));
  EXPECT_TRUE(observer_.errored);
  EXPECT_EQ(observer_.kind, CallErrorKind::Connect);
}

TEST_F(OpenAiRelay, BlockedObserverPausesTheUpstreamUntilResume) {
  std::vector<std::string> chunks;
  for (int i = 0; i < 8; ++i) chunks.push_back("data: {\"i\":" + std::to_string(i) + "}\n\n");
  ScriptedUpstream server({chunkedResponse(chunks).paced(30, 5)});
  makeProvider(server.baseUrl(), {.first_byte_ms = 2000, .idle_ms = 50});
  observer_.block_after_first_piece = true;
  start(true);
  ASSERT_TRUE(runUntil([&] { return observer_.body_pieces >= 1; }));
  runFor(100);  // longer than idle_ms: a paused call must neither read nor time out
  EXPECT_EQ(observer_.body_pieces, 1);
  EXPECT_FALSE(observer_.done()) << observer_.error;
  observer_.blocked = false;
  observer_.block_after_first_piece = false;
  call_->resume();
  ASSERT_TRUE(runUntil([&] { return observer_.done(); }));
  EXPECT_TRUE(observer_.ended) << observer_.error;
  std::string all;
  for (const auto& c : chunks) all += c;
  EXPECT_EQ(observer_.body, all);
}

}  // namespace
}  // namespace aigw
