// GeminiProvider::buildRequest: the URL for each endpoint and stream mode, the model escaped into
// the path, the key header, and a clear refusal for endpoints Gemini lacks.
#include "providers/gemini_provider.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw {
namespace {

class GeminiBuild : public ::testing::Test {
 protected:
  GeminiBuild() {
    GeminiOptions o;
    std::string error;
    EXPECT_TRUE(upstream::parseBaseUrl("http://127.0.0.1:1/v1beta", &o.origin, &error)) << error;
    o.api_key = "AIza-provider";
    provider_ = GeminiProvider::create("g", std::move(o), &error);
    EXPECT_TRUE(provider_) << error;
    http_.method = "POST";
    http_.headers.add("authorization", "Bearer client");
  }

  std::string line(Endpoint endpoint, std::string_view model, bool stream, const std::string& body,
                   std::string* raw = nullptr) {
    http_.body = body;
    json_.reset(http_.body);
    CallRequest req{endpoint, http_, http_.body, json_, true, "route", model, stream, "req_1", {}};
    std::string out;
    int status = 0;
    if (!provider_->buildRequest(req, &out, &status)) return "refused " + std::to_string(status) + " " + out;
    if (raw != nullptr) *raw = out;
    return out.substr(0, out.find("\r\n"));
  }

  std::unique_ptr<GeminiProvider> provider_;
  http::Request http_;
  LazyJson json_;
};

const char* kChat = R"({"model":"route","messages":[{"role":"user","content":"hi"}]})";

TEST_F(GeminiBuild, PathsByEndpointAndStreamMode) {
  struct Case {
    Endpoint endpoint;
    const char* model;
    bool stream;
    const char* body;
    const char* want;
  } cases[] = {
      {Endpoint::ChatCompletions, "gemini-2.5-flash", false, kChat,
       "POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1"},
      {Endpoint::ChatCompletions, "gemini-2.5-flash", true, kChat,
       "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1"},
      {Endpoint::ChatCompletions, "models/gemini-pro", false, kChat, "POST /v1beta/models/gemini-pro:generateContent HTTP/1.1"},
      {Endpoint::ChatCompletions, "a b?c#d:e", false, kChat, "POST /v1beta/models/a%20b%3Fc%23d%3Ae:generateContent HTTP/1.1"},
      {Endpoint::Embeddings, "text-embedding-004", false, R"({"model":"route","input":"x"})",
       "POST /v1beta/models/text-embedding-004:batchEmbedContents HTTP/1.1"},
  };
  for (const Case& c : cases) EXPECT_EQ(line(c.endpoint, c.model, c.stream, c.body), c.want) << c.model;
}

TEST_F(GeminiBuild, TheKeyGoesInItsHeaderAndTheClientsNever) {
  std::string raw;
  line(Endpoint::ChatCompletions, "m", false, kChat, &raw);
  EXPECT_NE(raw.find("x-goog-api-key: AIza-provider\r\n"), std::string::npos);
  EXPECT_EQ(raw.find("client"), std::string::npos);
}

TEST_F(GeminiBuild, LegacyCompletionsAreRefusedByName) {
  const std::string out = line(Endpoint::Completions, "m", false, R"({"model":"route","prompt":"x"})");
  EXPECT_EQ(out.rfind("refused 400", 0), 0u) << out;
  EXPECT_NE(out.find("has no completions endpoint"), std::string::npos);
}

}  // namespace
}  // namespace aigw
