#include "log/request_record.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aigw::log {
namespace {

nlohmann::json parseLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one record, one line";
  return nlohmann::json::parse(line);
}

TEST(RequestRecord, MinimalRecordHasEveryFieldWithNulls) {
  RequestRecord r;
  r.id = "abc";
  r.method = "GET";
  r.path = "/nope";
  std::string line;
  appendRecordLine(line, r);
  const auto j = parseLine(line);
  EXPECT_EQ(j["id"], "abc");
  for (const char* key : {"endpoint", "model", "route", "provider", "upstream_model", "status", "ttft_ms",
                          "prompt_tokens", "completion_tokens", "cost_usd", "error"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].is_null()) << key;
  }
  EXPECT_EQ(j["attempts"], nlohmann::json::array());
  EXPECT_EQ(j["guardrails"], nlohmann::json::array());
  EXPECT_EQ(j["client_aborted"], false);
  EXPECT_EQ(j["partial"], false);
  EXPECT_FALSE(j.contains("request_body")) << "bodies only when configured";
}

TEST(RequestRecord, FullRecordRoundTrips) {
  RequestRecord r;
  r.id = "id-1";
  r.ts_start_ms = 1700000000000;
  r.ts_end_ms = 1700000000123;
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.endpoint = "chat.completions";
  r.model = "gpt \"quoted\"";
  r.route = "gpt";
  r.provider = "p2";
  r.upstream_model = "up";
  r.status = 200;
  r.latency_ms = 12.5;
  r.ttft_ms = 3.25;
  r.stream = true;
  r.prompt_tokens = 10;
  r.completion_tokens = 20;
  r.cost_usd = 0.0015;
  r.attempts.push_back({"p1/up", "p1", "up", 503, 1.5, "upstream answered 503"});
  r.attempts.push_back({"p2/up", "p2", "up", 200, 9.0, ""});
  r.guardrails.push_back(R"({"name":"pii","verdict":"allow"})");
  r.error_type = "upstream_error";
  r.error_message = "line\nbreak";
  r.partial = true;
  r.has_bodies = true;
  r.request_body = "{\"a\":1}";
  r.response_body = "data: x\n\n";
  std::string line;
  appendRecordLine(line, r);
  const auto j = parseLine(line);
  EXPECT_EQ(j["model"], "gpt \"quoted\"");
  EXPECT_EQ(j["status"], 200);
  EXPECT_DOUBLE_EQ(j["latency_ms"].get<double>(), 12.5);
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["prompt_tokens"], 10);
  EXPECT_DOUBLE_EQ(j["cost_usd"].get<double>(), 0.0015);
  ASSERT_EQ(j["attempts"].size(), 2u);
  EXPECT_EQ(j["attempts"][0]["status"], 503);
  EXPECT_EQ(j["attempts"][0]["error"], "upstream answered 503");
  EXPECT_TRUE(j["attempts"][1]["error"].is_null());
  EXPECT_EQ(j["guardrails"][0]["name"], "pii");
  EXPECT_EQ(j["error"]["type"], "upstream_error");
  EXPECT_EQ(j["error"]["message"], "line\nbreak");
  EXPECT_EQ(j["partial"], true);
  EXPECT_EQ(j["request_body"], "{\"a\":1}");
  EXPECT_EQ(j["response_body"], "data: x\n\n");
}

TEST(RequestRecord, InvalidUtf8StaysValidJson) {
  RequestRecord r;
  r.id = "x";
  r.path = std::string("/v1/\xff\xfe");
  std::string line;
  appendRecordLine(line, r);
  EXPECT_NO_THROW(parseLine(line));
}

TEST(Redaction, ExactSecretsAreReplacedEverywhere) {
  std::string text = "key canary-123456 and again canary-123456!";
  redactSecrets(text, {"canary-123456"});
  EXPECT_EQ(text, "key [REDACTED] and again [REDACTED]!");
}

TEST(Redaction, CredentialPatterns) {
  std::string text =
      R"({"api_key":"sk-proj-abcdefghijklmnop1234","h":"Bearer abcdefghij12345","g":"AIzaSyA1234567890abcdefghijklmnopqrstu","task-force":"sk-short"})";
  redactCredentialPatterns(text);
  EXPECT_EQ(text.find("sk-proj"), std::string::npos) << text;
  EXPECT_EQ(text.find("abcdefghij12345"), std::string::npos) << text;
  EXPECT_EQ(text.find("AIza"), std::string::npos) << text;
  EXPECT_NE(text.find("task-force"), std::string::npos) << "ordinary words stay";
  EXPECT_NE(text.find("sk-short"), std::string::npos) << "too short to be a key";
  EXPECT_NE(text.find("Bearer [REDACTED]"), std::string::npos) << text;
}

TEST(Redaction, CaptureCapsOnAUtf8BoundaryAndRedactsAKeyCutByTheCap) {
  bool truncated = false;
  std::string body = "\xc3\xa9\xc3\xa9\xc3\xa9";  // three two-byte characters
  EXPECT_EQ(captureBody(body, 3, {}, &truncated), "\xc3\xa9");
  EXPECT_TRUE(truncated);
  const std::string key = "sk-abcdefghijklmnopqrstuvwxyz";
  const std::string out = captureBody("xx " + key, 10, {}, &truncated);
  EXPECT_EQ(out.find("sk-abc"), std::string::npos) << out;
  EXPECT_EQ(captureBody("short", 10, {}, &truncated), "short");
  EXPECT_FALSE(truncated);
}

TEST(Redaction, CaptureRedactsAConfiguredSecretTheCapWouldCut) {
  // A provider key with no recognizable shape, crossing the cap: none of it may remain.
  const std::string secret = "0f3a9c77e21b4d5a8e6f0c1d2b3a4958";
  bool truncated = false;
  const std::string out = captureBody("key=" + secret + " and more", 12, {secret}, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(out.find("0f3a9c"), std::string::npos) << out;
  EXPECT_EQ(out, std::string("key=[REDACTE"));
}

}  // namespace
}  // namespace aigw::log
