// BedrockProvider::buildRequest: the Converse URL with the model id encoded once, the SigV4
// headers at a fixed time (the signature itself is checked against botocore by
// tests/python/providers/test_bedrock_provider.py), no client header passed on, and refusals.
#include "providers/bedrock_provider.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw {
namespace {

class BedrockBuild : public ::testing::Test {
 protected:
  BedrockBuild() {
    BedrockOptions o;
    std::string error;
    EXPECT_TRUE(upstream::parseBaseUrl("http://127.0.0.1:1", &o.origin, &error)) << error;
    o.region = "us-east-1";
    o.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-1"};
    provider_ = BedrockProvider::create("aws", std::move(o), &error);
    EXPECT_TRUE(provider_) << error;
    http_.method = "POST";
    http_.headers.add("authorization", "Bearer client");
    http_.headers.add("x-amz-date", "19700101T000000Z");
  }

  bool build(Endpoint endpoint, bool stream, const std::string& body, std::string* out, int* status = nullptr) {
    http_.body = body;
    json_.reset(http_.body);
    CallRequest req{endpoint, http_, http_.body, json_, true, "route", "anthropic.claude-v2:1", stream, "req_1", {}};
    int error_status = 0;
    const bool ok = provider_->buildRequest(req, 1440938160, out, &error_status);  // 2015-08-30T12:36:00Z
    if (status != nullptr) *status = error_status;
    return ok;
  }

  std::unique_ptr<BedrockProvider> provider_;
  http::Request http_;
  LazyJson json_;
};

const char* kChat = R"({"model":"route","messages":[{"role":"user","content":"hi"}]})";

TEST_F(BedrockBuild, ConverseAndConverseStreamSignedAtTheGivenTime) {
  std::string raw;
  ASSERT_TRUE(build(Endpoint::ChatCompletions, false, kChat, &raw));
  EXPECT_EQ(raw.substr(0, raw.find("\r\n")), "POST /model/anthropic.claude-v2%3A1/converse HTTP/1.1");
  EXPECT_NE(raw.find("x-amz-date: 20150830T123600Z\r\n"), std::string::npos);
  EXPECT_NE(raw.find("x-amz-security-token: session-token-1\r\n"), std::string::npos);
  EXPECT_NE(raw.find("authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
                     "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="),
            std::string::npos);
  EXPECT_EQ(raw.find("client"), std::string::npos);            // the client's credentials stay here
  EXPECT_EQ(raw.find("19700101T000000Z"), std::string::npos);  // and so do its x-amz-* headers
  EXPECT_EQ(raw.find("EXAMPLEKEY"), std::string::npos);        // the secret only signs
  ASSERT_TRUE(build(Endpoint::ChatCompletions, true, kChat, &raw));
  EXPECT_EQ(raw.substr(0, raw.find("\r\n")), "POST /model/anthropic.claude-v2%3A1/converse-stream HTTP/1.1");
  EXPECT_NE(raw.find("accept: application/vnd.amazon.eventstream\r\n"), std::string::npos);
}

TEST_F(BedrockBuild, UntranslatableFieldsAndEndpointsAreRefused) {
  std::string out;
  int status = 0;
  ASSERT_FALSE(build(Endpoint::ChatCompletions, false,
                     R"({"model":"route","logit_bias":{"1":2},"messages":[{"role":"user","content":"hi"}]})", &out, &status));
  EXPECT_EQ(status, 400);
  EXPECT_NE(out.find("logit_bias"), std::string::npos);
  ASSERT_FALSE(build(Endpoint::Embeddings, false, R"({"model":"route","input":"x"})", &out, &status));
  EXPECT_NE(out.find("has no embeddings endpoint"), std::string::npos);
}

}  // namespace
}  // namespace aigw
