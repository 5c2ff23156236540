// VertexProvider::buildRequest: the publisher per model, the URL of each publisher and method,
// the Gemini and the Anthropic body (no model, anthropic_version in it), the bearer token from
// the latest push, and refusals; an attempt without a token fails without a call.
#include "providers/vertex_provider.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw {
namespace {

class VertexBuild : public ::testing::Test {
 protected:
  VertexBuild() {
    VertexOptions o;
    std::string error;
    EXPECT_TRUE(upstream::parseBaseUrl("http://127.0.0.1:1", &o.origin, &error)) << error;
    o.project = "my-project";
    o.region = "us-east5";
    o.anthropic_models = {"claude-*"};
    provider_ = VertexProvider::create("vx", std::move(o), &error);
    EXPECT_TRUE(provider_) << error;
    http_.method = "POST";
    http_.headers.add("authorization", "Bearer client");
    auth_.add("authorization", "Bearer ya29.token");
  }

  bool build(std::string_view model, bool stream, const std::string& body, std::string* out, int* status = nullptr,
             Endpoint endpoint = Endpoint::ChatCompletions) {
    http_.body = body;
    json_.reset(http_.body);
    CallRequest req{endpoint, http_, http_.body, json_, true, "route", model, stream, "req_1", {}};
    int error_status = 0;
    const bool ok = provider_->buildRequest(req, auth_, out, &error_status);
    if (status != nullptr) *status = error_status;
    return ok;
  }

  static nlohmann::json body(const std::string& raw) { return nlohmann::json::parse(raw.substr(raw.find("\r\n\r\n") + 4)); }
  static std::string line(const std::string& raw) { return raw.substr(0, raw.find("\r\n")); }

  std::unique_ptr<VertexProvider> provider_;
  http::Request http_;
  LazyJson json_;
  http::HeaderList auth_;
};

const char* kChat = R"({"model":"route","max_tokens":50,"messages":[{"role":"user","content":"hi"}]})";

TEST_F(VertexBuild, ClaudeModelsGoToPublisherAnthropicTheRestToGoogle) {
  EXPECT_EQ(provider_->publisherOf("claude-sonnet-4@20250514"), VertexProvider::Publisher::Anthropic);
  EXPECT_EQ(provider_->publisherOf("gemini-2.0-flash-001"), VertexProvider::Publisher::Google);
  EXPECT_EQ(provider_->publisherOf("my-claude"), VertexProvider::Publisher::Google);
}

TEST_F(VertexBuild, GooglePublisherGenerateContentWithTheGeminiBody) {
  std::string raw;
  ASSERT_TRUE(build("gemini-2.0-flash-001", false, kChat, &raw));
  EXPECT_EQ(line(raw),
            "POST /v1/projects/my-project/locations/us-east5/publishers/google/models/gemini-2.0-flash-001:generateContent "
            "HTTP/1.1");
  EXPECT_NE(raw.find("authorization: Bearer ya29.token\r\n"), std::string::npos);
  EXPECT_EQ(raw.find("client"), std::string::npos);  // the client's credentials stay here
  const nlohmann::json b = body(raw);
  EXPECT_EQ(b["contents"][0]["parts"][0]["text"], "hi");
  EXPECT_EQ(b["generationConfig"]["maxOutputTokens"], 50);
  ASSERT_TRUE(build("gemini-2.0-flash-001", true, kChat, &raw));
  EXPECT_NE(line(raw).find("/models/gemini-2.0-flash-001:streamGenerateContent?alt=sse HTTP/1.1"), std::string::npos);
}

TEST_F(VertexBuild, AnthropicPublisherRawPredictWithoutModelAndWithTheVertexVersion) {
  std::string raw;
  ASSERT_TRUE(build("claude-sonnet-4@20250514", false, kChat, &raw));
  EXPECT_EQ(line(raw),
            "POST /v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict "
            "HTTP/1.1");
  const nlohmann::json b = body(raw);
  EXPECT_FALSE(b.contains("model"));
  EXPECT_EQ(b["anthropic_version"], "vertex-2023-10-16");
  EXPECT_EQ(b["max_tokens"], 50);
  EXPECT_EQ(b["messages"][0]["content"], "hi");
  ASSERT_TRUE(build("claude-sonnet-4@20250514", true, kChat, &raw));
  EXPECT_NE(line(raw).find("/models/claude-sonnet-4@20250514:streamRawPredict HTTP/1.1"), std::string::npos);
  EXPECT_EQ(body(raw)["stream"], true);
}

TEST_F(VertexBuild, RefusalsNameTheFieldOrEndpoint) {
  std::string out;
  int status = 0;
  ASSERT_FALSE(build("claude-x", false,
                     R"({"model":"route","logit_bias":{"1":2},"messages":[{"role":"user","content":"hi"}]})", &out,
                     &status));
  EXPECT_EQ(status, 400);
  EXPECT_NE(out.find("logit_bias"), std::string::npos);
  ASSERT_FALSE(build("../../x", false, kChat, &out, &status));
  EXPECT_NE(out.find("cannot be used in the provider's URL"), std::string::npos);
  ASSERT_FALSE(build("gemini", false, R"({"model":"route","input":"x"})", &out, &status, Endpoint::Embeddings));
  EXPECT_NE(out.find("(kind vertex) has no embeddings endpoint"), std::string::npos);
}

TEST_F(VertexBuild, TokensArePushedAsJsonAndRefusedWithoutQuotingThem) {
  std::string error;
  EXPECT_TRUE(provider_->acceptCredentials(nlohmann::json::parse(R"({"token":"ya29.a","expires_at":1900000000})"), &error))
      << error;
  EXPECT_TRUE(provider_->acceptCredentials(nlohmann::json::parse(R"({"token":"ya29.b"})"), &error)) << error;
  for (const char* bad : {R"({"token":""})", R"({"token":"hidden\r\nx: y"})", R"({"token":"hidden","expires_at":"x"})",
                          R"({"token":7})"}) {
    EXPECT_FALSE(provider_->acceptCredentials(nlohmann::json::parse(bad), &error)) << bad;
    EXPECT_NE(error.find("provider 'vx' (kind vertex) takes {token"), std::string::npos);
    EXPECT_EQ(error.find("hidden"), std::string::npos);
  }
}

}  // namespace
}  // namespace aigw
