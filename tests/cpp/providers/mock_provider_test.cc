// The mock provider through a GatewayServer over sockets: OpenAI-shaped bodies and streams,
// and each x-mock-* knob (status, Retry-After, stall, reset, latency, fixed text, max_tokens).
#include "providers/mock_provider.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstring>

#include "gateway_fixture.h"

namespace aigw {
namespace {

using nlohmann::json;
using testing::mockConfig;
using testing::post;
using testing::RawClient;
using testing::readResponses;
using testing::TestGateway;

std::string chatBody(const std::string& extra = "") {
  return R"({"model":"mock-gpt","messages":[{"role":"user","content":"Say hello"}])" + extra + "}";
}

// One request on a fresh connection; returns the single response.
testing::ParsedResponse call(TestGateway& gw, const std::string& path, const std::string& body,
                             const std::string& headers = "") {
  RawClient c(gw.port());
  EXPECT_TRUE(c.send(post(path, body, headers)));
  auto rs = readResponses(c, 1, 5000);
  EXPECT_EQ(rs.size(), 1u);
  if (rs.empty()) return {};
  EXPECT_TRUE(rs[0].complete);
  return rs[0];
}

// The data payloads of an SSE body, in order ("[DONE]" included).
std::vector<std::string> sseData(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string event = body.substr(pos, end - pos), data;
    size_t line = 0;
    while (line < event.size()) {
      size_t eol = event.find('\n', line);
      if (eol == std::string::npos) eol = event.size();
      if (event.compare(line, 6, "data: ") == 0) data += event.substr(line + 6, eol - line - 6);
      line = eol + 1;
    }
    out.push_back(data);
    pos = end + 2;
  }
  return out;
}

TEST(MockProvider, ChatCompletionHasTheOpenAiShape) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("x-aigw-provider"), "mock");
  EXPECT_EQ(r.header("x-aigw-model"), "mock-gpt");
  json j = json::parse(r.body);
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_TRUE(j["created"].is_number_integer());
  EXPECT_EQ(j["model"], "mock-gpt");
  ASSERT_EQ(j["choices"].size(), 1u);
  const json& choice = j["choices"][0];
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["message"]["role"], "assistant");
  EXPECT_EQ(choice["message"]["content"], "Hello! This is a mock answer from aigw.");
  EXPECT_EQ(choice["finish_reason"], "stop");
  const json& usage = j["usage"];
  EXPECT_GT(usage["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(usage["completion_tokens"], 8);
  EXPECT_EQ(usage["total_tokens"].get<int>(), usage["prompt_tokens"].get<int>() + 8);
}

TEST(MockProvider, StreamSendsRoleContentFinishUsageAndDone) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"stream":true,"stream_options":{"include_usage":true})"),
                "X-Mock-Chunks: 5\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.header("x-aigw-request-id").rfind("req_", 0), 0u);
  EXPECT_EQ(r.header("x-aigw-provider"), "mock");
  EXPECT_TRUE(r.chunked);
  auto events = sseData(r.body);
  ASSERT_EQ(events.size(), 1u + 5u + 1u + 1u + 1u) << r.body;
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");

  json role = json::parse(events[0]);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  std::string text;
  for (size_t i = 1; i <= 5; ++i) {
    json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["id"], role["id"]);
    EXPECT_FALSE(chunk["choices"][0]["delta"].contains("role"));
    EXPECT_TRUE(chunk.contains("usage") && chunk["usage"].is_null());
    text += chunk["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, "Hello! This is a mock");
  json finish = json::parse(events[6]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(finish["choices"][0]["delta"].empty());
  json usage = json::parse(events[7]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 5);
}

TEST(MockProvider, StreamWithoutIncludeUsageHasNoUsageChunk) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"stream":true)"), "X-Mock-Chunks: 3\r\n");
  auto events = sseData(r.body);
  ASSERT_EQ(events.size(), 1u + 3u + 1u + 1u) << r.body;
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_FALSE(json::parse(events[i]).contains("usage"));
}

TEST(MockProvider, FixedResponseTextIsSplitIntoTheRequestedChunks) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"stream":true)"),
                "X-Mock-Response: caf\xc3\xa9 au lait\r\nX-Mock-Chunks: 4\r\n");
  auto events = sseData(r.body);
  ASSERT_EQ(events.size(), 1u + 4u + 1u + 1u) << r.body;
  std::string text;
  for (size_t i = 1; i <= 4; ++i) text += json::parse(events[i])["choices"][0]["delta"]["content"].get<std::string>();
  EXPECT_EQ(text, "caf\xc3\xa9 au lait");  // pieces split on UTF-8 boundaries (parse would throw otherwise)
}

TEST(MockProvider, MaxTokensTruncatesWithFinishReasonLength) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"max_tokens":2)"));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello! This ");
  EXPECT_EQ(j["usage"]["completion_tokens"], 2);

  auto s = call(gw, "/v1/chat/completions", chatBody(R"(,"max_completion_tokens":3,"stream":true)"));
  auto events = sseData(s.body);
  ASSERT_EQ(events.size(), 1u + 3u + 1u + 1u) << s.body;
  EXPECT_EQ(json::parse(events[4])["choices"][0]["finish_reason"], "length");
}

TEST(MockProvider, InvalidMaxTokensIs400) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"max_tokens":0)"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "invalid_value");
}

TEST(MockProvider, Status429CarriesRetryAfterAndAnOpenAiError) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(), "X-Mock-Status: 429\r\nX-Mock-Retry-After: 7\r\n");
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after"), "7");
  EXPECT_FALSE(r.header("x-aigw-request-id").empty());
  json e = json::parse(r.body)["error"];
  EXPECT_EQ(e["type"], "rate_limit_error");
  EXPECT_EQ(e["code"], "rate_limit_exceeded");
  EXPECT_TRUE(e["message"].is_string());
  EXPECT_TRUE(e.contains("param"));
}

TEST(MockProvider, Status503IsAServerError) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"stream":true)"), "X-Mock-Status: 503\r\n");
  ASSERT_EQ(r.status, 503);
  EXPECT_FALSE(r.has("retry-after"));
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "server_error");
}

TEST(MockProvider, StallAfterStopsTheStreamAndKeepsTheConnectionOpen) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(post("/v1/chat/completions", chatBody(R"(,"stream":true)"), "X-Mock-Stall-After: 2\r\n")));
  const std::string got = c.readUntil("\n\n", 2, 3000);
  EXPECT_EQ(RawClient::countOf(got, "data: "), 2) << got;
  EXPECT_EQ(c.readAll(400), "");  // nothing more arrives ...
  EXPECT_FALSE(c.closed());       // ... and the connection stays open
  EXPECT_EQ(got.find("0\r\n\r\n"), std::string::npos);
}

TEST(MockProvider, ClientLeavingAStalledStreamIsCleanedUp) {
  TestGateway gw(mockConfig());
  {
    RawClient c(gw.port());
    ASSERT_TRUE(c.send(post("/v1/chat/completions", chatBody(R"(,"stream":true)"), "X-Mock-Stall-After: 1\r\n")));
    c.readUntil("data: ", 1);
  }
  EXPECT_EQ(gw.waitForStat("client_aborts", [](int64_t v) { return v == 1; }), 1);
  EXPECT_EQ(gw.waitForStat("connections_active", [](int64_t v) { return v == 0; }), 0);
}

TEST(MockProvider, ResetBeforeAnswerIs502InGatewayMode) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(post("/v1/chat/completions", chatBody(), "X-Mock-Reset-After: 0\r\n")));
  auto rs = readResponses(c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 502);
  EXPECT_EQ(json::parse(rs[0].body)["error"]["type"], "upstream_error");
  // The client connection is fine: the fault was upstream.
  ASSERT_TRUE(c.send(post("/v1/chat/completions", chatBody())));
  auto again = readResponses(c, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status, 200);
}

TEST(MockProvider, ResetMidStreamEndsWithAnErrorEventInGatewayMode) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"stream":true)"), "X-Mock-Reset-After: 3\r\n");
  ASSERT_EQ(r.status, 200);
  auto events = sseData(r.body);
  ASSERT_EQ(events.size(), 4u) << r.body;
  EXPECT_EQ(json::parse(events[3])["error"]["type"], "upstream_error");
}

TEST(MockProvider, ResetIsATcpResetInMockMode) {
  TestGateway gw(mockConfig(R"("mode": "mock")"));
  for (const char* extra : {"", R"(,"stream":true)"}) {
    RawClient c(gw.port());
    ASSERT_TRUE(c.send(post("/v1/chat/completions", chatBody(extra), "X-Mock-Reset-After: 0\r\n")));
    const std::string raw = c.readAll(2000);
    EXPECT_EQ(raw, "") << extra;
    EXPECT_TRUE(c.reset()) << "expected ECONNRESET " << extra;
  }
  RawClient mid(gw.port());
  ASSERT_TRUE(mid.send(post("/v1/chat/completions", chatBody(R"(,"stream":true)"), "X-Mock-Reset-After: 2\r\n")));
  const std::string raw = mid.readAll(2000);
  EXPECT_EQ(RawClient::countOf(raw, "data: "), 2) << raw;
  EXPECT_TRUE(mid.reset());
}

TEST(MockProvider, InvalidKnobHeaderIs400) {
  TestGateway gw(mockConfig());
  for (const char* header : {"X-Mock-Chunks: many\r\n", "X-Mock-Status: 99\r\n", "X-Mock-Latency-Ms: -5\r\n",
                             "X-Mock-Error-Rate: 2\r\n", "X-Mock-Colour: blue\r\n"}) {
    auto r = call(gw, "/v1/chat/completions", chatBody(), header);
    EXPECT_EQ(r.status, 400) << header;
    json e = json::parse(r.body)["error"];
    EXPECT_EQ(e["code"], "invalid_mock_knob") << header;
    EXPECT_EQ(e["type"], "invalid_request_error");
  }
}

TEST(MockProvider, HeaderKnobsCanBeTurnedOffInConfig) {
  TestGateway gw(mockConfig("", true, R"("header_knobs": false, "chunks": 2)"));
  auto r = call(gw, "/v1/chat/completions", chatBody(), "X-Mock-Status: 500\r\n");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "Hello! This");
}

TEST(MockProvider, LatencyKnobDelaysTheAnswer) {
  TestGateway gw(mockConfig());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = call(gw, "/v1/chat/completions", chatBody(), "X-Mock-Latency-Ms: 200\r\n");
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(ms, 190);
}

TEST(MockProvider, SeveralChoicesEachGetRoleContentAndFinish) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/chat/completions", chatBody(R"(,"n":2,"stream":true)"), "X-Mock-Chunks: 2\r\n");
  auto events = sseData(r.body);
  ASSERT_EQ(events.size(), 2u + 4u + 2u + 1u) << r.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["index"], 0);
  EXPECT_EQ(json::parse(events[1])["choices"][0]["index"], 1);
  auto whole = call(gw, "/v1/chat/completions", chatBody(R"(,"n":3)"));
  EXPECT_EQ(json::parse(whole.body)["choices"].size(), 3u);
  EXPECT_EQ(call(gw, "/v1/chat/completions", chatBody(R"(,"n":0)")).status, 400);
}

TEST(MockProvider, IllFormedUtf8InFixedTextStillGivesValidJson) {
  TestGateway gw(mockConfig());
  // Header values may carry obs-text bytes; the JSON body must stay valid UTF-8.
  auto r = call(gw, "/v1/chat/completions", chatBody(), "X-Mock-Response: ok\xff\xfe!\r\n");
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);  // throws on ill-formed UTF-8
  EXPECT_EQ(j["choices"][0]["message"]["content"], "ok\xef\xbf\xbd\xef\xbf\xbd!");
  auto s = call(gw, "/v1/chat/completions", chatBody(R"(,"stream":true)"), "X-Mock-Response: \xe2\x82\r\n");
  for (const auto& e : sseData(s.body)) {
    if (e != "[DONE]") EXPECT_NO_THROW(json::parse(e)) << e;
  }
}

// ---------------------------------------------------------------------------------------------
// Legacy completions and embeddings

TEST(MockProvider, LegacyCompletionHasTextChoices) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/completions", R"({"model":"mock-gpt","prompt":"Once upon","max_tokens":3})");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_EQ(j["choices"][0]["text"], "Hello! This is ");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(j["choices"][0].contains("message"));

  auto s = call(gw, "/v1/completions", R"({"model":"mock-gpt","prompt":["a","b"],"stream":true})",
                "X-Mock-Chunks: 2\r\n");
  auto events = sseData(s.body);
  ASSERT_EQ(events.size(), 2u + 1u + 1u) << s.body;  // no role chunk in legacy streams
  EXPECT_EQ(json::parse(events[0])["object"], "text_completion");
  EXPECT_EQ(json::parse(events[0])["choices"][0]["text"], "Hello! ");
}

std::vector<float> decodeBase64Floats(const std::string& b64) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : b64) {
    if (ch == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(kAlphabet.find(ch));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

TEST(MockProvider, EmbeddingsAsFloatsHonourDimensions) {
  TestGateway gw(mockConfig());
  auto r = call(gw, "/v1/embeddings", R"({"model":"mock-embed","input":["a","b","a"],"dimensions":16})");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["model"], "mock-embed");
  ASSERT_EQ(j["data"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const json& d = j["data"][i];
    EXPECT_EQ(d["object"], "embedding");
    EXPECT_EQ(d["index"], i);
    ASSERT_EQ(d["embedding"].size(), 16u);
    double norm = 0;
    for (const auto& v : d["embedding"]) norm += v.get<double>() * v.get<double>();
    EXPECT_NEAR(norm, 1.0, 1e-4);
  }
  EXPECT_EQ(j["data"][0]["embedding"], j["data"][2]["embedding"]);  // deterministic per input
  EXPECT_NE(j["data"][0]["embedding"], j["data"][1]["embedding"]);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"]);
}

TEST(MockProvider, EmbeddingsAsBase64MatchTheFloats) {
  TestGateway gw(mockConfig());
  const std::string base = R"({"model":"m","input":"hello","dimensions":7)";
  json floats = json::parse(call(gw, "/v1/embeddings", base + "}").body);
  json b64 = json::parse(call(gw, "/v1/embeddings", base + R"(,"encoding_format":"base64"})").body);
  ASSERT_TRUE(b64["data"][0]["embedding"].is_string());
  const std::string text = b64["data"][0]["embedding"];
  EXPECT_EQ(text.size(), 40u);  // 28 bytes -> 40 base64 characters with padding
  std::vector<float> decoded = decodeBase64Floats(text);
  ASSERT_EQ(decoded.size(), 7u);
  for (size_t i = 0; i < 7; ++i) EXPECT_NEAR(decoded[i], floats["data"][0]["embedding"][i].get<double>(), 1e-6);
}

TEST(MockProvider, EmbeddingsRejectBadInputShapes) {
  TestGateway gw(mockConfig());
  EXPECT_EQ(call(gw, "/v1/embeddings", R"({"model":"m","input":[]})").status, 400);
  EXPECT_EQ(call(gw, "/v1/embeddings", R"({"model":"m","input":"x","dimensions":0})").status, 400);
  EXPECT_EQ(call(gw, "/v1/embeddings", R"({"model":"m","input":"x","encoding_format":"hex"})").status, 400);
  EXPECT_EQ(call(gw, "/v1/embeddings", R"({"model":"m","input":[1,2,3]})").status, 200);  // token ids
}

}  // namespace
}  // namespace aigw
