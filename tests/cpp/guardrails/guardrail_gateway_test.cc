// Guardrails through a running gateway (mock provider, loopback sockets): the input stage,
// a stream redacted across chunks, and an asynchronous check cancelled by a client leaving.
#include <gtest/gtest.h>

#include "gateway_fixture.h"
#include "upstream/scripted_upstream.h"

namespace aigw::testing {
namespace {

std::string config(int silent_port) {
  return completeConfig(R"({"server": {"host": "127.0.0.1", "port": 0, "workers": 1},
    "providers": [{"name": "mock", "kind": "mock"},
                  {"name": "silent", "kind": "openai", "base_url": "http://127.0.0.1:)" +
         std::to_string(silent_port) + R"(/v1"}],
    "routes": [{"name": "*", "plan": {"type": "target", "provider": "mock"}}],
    "guardrails": [
      {"name": "ban", "kind": "phrases", "phrases": ["doomsday"], "default": true},
      {"name": "keys", "kind": "regex", "stages": ["stream", "output"], "action": "redact",
       "presets": ["secrets"], "default": true},
      {"name": "mod", "kind": "moderation", "provider": "silent", "request_selectable": true,
       "timeout_ms": 10000}]})");
}

const std::string kKey = "sk-abcdefghijklmnopqrstuvwxyz0123456789";

TEST(GuardrailGateway, BlocksTheInputOnEveryEndpoint) {
  ScriptedUpstream silent({neverAnswer()});  // the moderation provider: it never answers
  TestGateway gw(config(silent.port()));
  const std::pair<const char*, const char*> cases[] = {
      {"/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"a DOOMSDAY plan"}]})"},
      {"/v1/chat/completions", R"({"model":"m","stream":true,"messages":[{"role":"user","content":"doomsday"}]})"},
      {"/v1/completions", R"({"model":"m","prompt":["ok","doomsday"]})"},
      {"/v1/embeddings", R"({"model":"m","input":"doomsday"})"},
  };
  for (const auto& [path, body] : cases) {
    RawClient c(gw.port());
    c.send(post(path, body));
    auto r = readResponses(c, 1);
    ASSERT_EQ(r.size(), 1u) << path;
    EXPECT_EQ(r[0].status, 400) << path;
    EXPECT_NE(r[0].body.find("content_blocked"), std::string::npos) << r[0].body;
  }
  EXPECT_EQ(gw.stats()["guardrails"]["ban"]["blocks"], 4);
}

TEST(GuardrailGateway, RedactsAKeySplitAcrossStreamChunks) {
  ScriptedUpstream silent({neverAnswer()});  // the moderation provider: it never answers
  TestGateway gw(config(silent.port()));
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})",
              "x-mock-response: the key is " + kKey + " ok\r\nx-mock-chunks: 9\r\nx-mock-chunk-delay-ms: 1\r\n"));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body.find("sk-abc"), std::string::npos) << r[0].body;
  EXPECT_NE(r[0].body.find("[REDACTED:secret]"), std::string::npos) << r[0].body;
  EXPECT_NE(r[0].body.find("data: [DONE]"), std::string::npos);
}

TEST(GuardrailGateway, AClientLeavingCancelsAParkedModerationCheck) {
  ScriptedUpstream silent({neverAnswer()});  // the moderation provider: it never answers
  TestGateway gw(config(silent.port()));
  {
    RawClient c(gw.port());
    c.send(post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
                "x-aigw-guardrails: mod\r\n"));
    EXPECT_EQ(gw.waitForStat("requests_in_flight", [](int64_t v) { return v == 1; }), 1);
  }  // the client goes away while the check waits for the silent provider
  EXPECT_EQ(gw.waitForStat("requests_in_flight", [](int64_t v) { return v == 0; }), 0);
  RawClient c(gw.port());
  c.send(post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
  auto r = readResponses(c, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  // Cut short by the client: booked as a cancelled run, neither a block nor an error.
  EXPECT_EQ(gw.stats()["guardrails"]["mod"]["runs"], 1);
  EXPECT_EQ(gw.stats()["guardrails"]["mod"]["blocks"], 0);
  EXPECT_EQ(gw.stats()["guardrails"]["mod"]["errors"], 0);
}

}  // namespace
}  // namespace aigw::testing
