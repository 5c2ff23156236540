// AnthropicProvider::buildRequest: the Messages request for each kind of attempt (an OpenAI
// request encoded, a same-API request forwarded with the route's model spliced in, count_tokens,
// an endpoint Anthropic lacks), with Anthropic's headers and never the client's credentials.
#include "providers/anthropic_provider.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace aigw {
namespace {

using nlohmann::json;

struct Built {
  std::string line;
  std::string head;
  std::string body;
};

Built split(const std::string& raw) {
  Built b;
  const size_t eol = raw.find("\r\n");
  const size_t end = raw.find("\r\n\r\n");
  b.line = raw.substr(0, eol);
  b.head = raw.substr(eol + 2, end - eol - 2);
  b.body = raw.substr(end + 4);
  return b;
}

class AnthropicBuild : public ::testing::Test {
 protected:
  AnthropicBuild() {
    AnthropicOptions o;
    std::string error;
    EXPECT_TRUE(upstream::parseBaseUrl("http://127.0.0.1:1", &o.origin, &error)) << error;
    o.api_key = "sk-ant-provider";
    o.default_max_tokens = 99;
    provider_ = AnthropicProvider::create("claude", std::move(o), &error);
    EXPECT_TRUE(provider_) << error;
    http_.method = "POST";
    http_.headers.add("authorization", "Bearer client-key");
    http_.headers.add("x-api-key", "client-key");
  }

  bool build(Endpoint endpoint, ApiShape shape, const std::string& body, Built* out, int* status = nullptr) {
    http_.body = body;
    json_.reset(http_.body);
    CallRequest req{endpoint, http_, http_.body, json_, true, "route", "claude-x", false, "req_1", {}};
    req.shape = shape;
    req.drop_params = &drop_;
    std::string raw;
    int error_status = 0;
    const bool ok = provider_->buildRequest(req, &raw, &error_status);
    if (status != nullptr) *status = error_status;
    *out = ok ? split(raw) : Built{{}, {}, raw};
    return ok;
  }

  std::unique_ptr<AnthropicProvider> provider_;
  http::Request http_;
  LazyJson json_;
  std::vector<std::string> drop_;
};

TEST_F(AnthropicBuild, AnOpenAiRequestIsEncodedWithAnthropicsHeaders) {
  Built b;
  ASSERT_TRUE(build(Endpoint::ChatCompletions, ApiShape::OpenAi,
                    R"({"model":"route","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]})", &b));
  EXPECT_EQ(b.line, "POST /v1/messages HTTP/1.1");
  EXPECT_NE(b.head.find("x-api-key: sk-ant-provider\r\n"), std::string::npos);
  EXPECT_NE(b.head.find("anthropic-version: 2023-06-01"), std::string::npos);
  EXPECT_EQ(b.head.find("client-key"), std::string::npos);
  EXPECT_EQ(b.head.find("authorization"), std::string::npos);
  EXPECT_EQ(json::parse(b.body), json::parse(R"({"model":"claude-x","system":"s","max_tokens":99,
                                                 "messages":[{"role":"user","content":"hi"}]})"));
}

TEST_F(AnthropicBuild, ASameApiRequestKeepsTheClientsBytes) {
  Built b;
  const std::string body = R"({"model":"route", "max_tokens":5,"top_k":3,"messages":[{"role":"user","content":"hi"}]})";
  ASSERT_TRUE(build(Endpoint::ChatCompletions, ApiShape::Anthropic, body, &b));
  EXPECT_EQ(b.body, R"({"model":"claude-x", "max_tokens":5,"top_k":3,"messages":[{"role":"user","content":"hi"}]})");
}

TEST_F(AnthropicBuild, ARefusalNamesTheFieldUntilDropParamsNamesIt) {
  Built b;
  int status = 0;
  const std::string body = R"({"model":"route","seed":1,"messages":[{"role":"user","content":"hi"}]})";
  ASSERT_FALSE(build(Endpoint::ChatCompletions, ApiShape::OpenAi, body, &b, &status));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(json::parse(b.body)["error"]["param"], "seed");
  drop_ = {"seed"};
  ASSERT_TRUE(build(Endpoint::ChatCompletions, ApiShape::OpenAi, body, &b));
  EXPECT_FALSE(json::parse(b.body).contains("seed"));
}

TEST_F(AnthropicBuild, CountTokensGoesToItsPathWithoutAnswerFields) {
  Built b;
  ASSERT_TRUE(build(Endpoint::CountTokens, ApiShape::OpenAi,
                    R"({"model":"route","max_tokens":5,"temperature":1,"messages":[{"role":"user","content":"hi"}]})", &b));
  EXPECT_EQ(b.line, "POST /v1/messages/count_tokens HTTP/1.1");
  const json sent = json::parse(b.body);
  EXPECT_FALSE(sent.contains("max_tokens"));
  EXPECT_FALSE(sent.contains("temperature"));
}

TEST_F(AnthropicBuild, EmbeddingsAreRefusedByName) {
  Built b;
  int status = 0;
  ASSERT_FALSE(build(Endpoint::Embeddings, ApiShape::OpenAi, R"({"model":"route","input":"x"})", &b, &status));
  EXPECT_EQ(status, 400);
  EXPECT_NE(b.body.find("has no embeddings endpoint"), std::string::npos);
}

}  // namespace
}  // namespace aigw
