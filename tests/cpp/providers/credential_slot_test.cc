// Credentials pushed at run time (providers/credential_slot.h): BedrockProvider signs with the
// latest pushed keys, refuses pushes of the wrong shape, and an attempt says why it has none.
#include "providers/credential_slot.h"

#include <gtest/gtest.h>

#include <string>

#include "providers/bedrock_provider.h"

namespace aigw {
namespace {

TEST(CredentialSlot, AnAttemptKeepsTheSetItTookAcrossAReplace) {
  CredentialSlot<std::string> slot;
  EXPECT_EQ(slot.current(), nullptr);
  slot.replace(std::make_shared<const Credentials<std::string>>("one", 0, upstream::CredentialScrubber("one-key", {})));
  auto held = slot.current();
  slot.replace(std::make_shared<const Credentials<std::string>>("two", 0, upstream::CredentialScrubber("two-key", {})));
  EXPECT_EQ(held->value, "one");
  EXPECT_EQ(held->scrubber.secrets().front(), "one-key");
  EXPECT_EQ(slot.current()->value, "two");
}

TEST(CredentialSlot, UnusableSaysNoneYetOrExpired) {
  EXPECT_NE(unusableCredentials("aws", false, 0, 100).find("has no credentials yet"), std::string::npos);
  EXPECT_EQ(unusableCredentials("aws", true, 0, 100), "");
  EXPECT_EQ(unusableCredentials("aws", true, 101, 100), "");
  EXPECT_NE(unusableCredentials("aws", true, 100, 100).find("expired"), std::string::npos);
}

TEST(CredentialSlot, PushedFieldsAreReadStrictly) {
  std::string s;
  EXPECT_EQ(pushedExpiry(nlohmann::json::parse(R"({"expires_at": 1700000000.5})")), 1700000000);
  EXPECT_EQ(pushedExpiry(nlohmann::json::parse(R"({"expires_at": null})")), 0);
  EXPECT_EQ(pushedExpiry(nlohmann::json::parse(R"({"expires_at": "soon"})")), -1);
  EXPECT_EQ(pushedExpiry(nlohmann::json::parse(R"({"expires_at": -5})")), -1);
  EXPECT_TRUE(pushedString(nlohmann::json::parse(R"({"k": "v"})"), "k", &s));
  EXPECT_EQ(s, "v");
  EXPECT_FALSE(pushedString(nlohmann::json::parse(R"({"k": 1})"), "k", &s));
}

class BedrockPushed : public ::testing::Test {
 protected:
  BedrockPushed() {
    BedrockOptions o;
    std::string error;
    EXPECT_TRUE(upstream::parseBaseUrl("http://127.0.0.1:1", &o.origin, &error)) << error;
    o.region = "us-east-1";
    o.credentials_hook = true;
    provider_ = BedrockProvider::create("aws", std::move(o), &error);
    EXPECT_TRUE(provider_) << error;
    http_.method = "POST";
    http_.body = R"({"model":"route","messages":[{"role":"user","content":"hi"}]})";
    json_.reset(http_.body);
  }

  bool build(std::string* out, int* status) {
    CallRequest req{Endpoint::ChatCompletions, http_, http_.body, json_, true, "route", "m", false, "req_1", {}};
    return provider_->buildRequest(req, 1440938160, out, status);
  }

  std::unique_ptr<BedrockProvider> provider_;
  http::Request http_;
  LazyJson json_;
};

TEST_F(BedrockPushed, NoRequestIsSignedBeforeTheFirstPushThenTheLatestKeysSign) {
  std::string out;
  int status = 0;
  ASSERT_FALSE(build(&out, &status));
  EXPECT_EQ(status, 503);
  EXPECT_NE(out.find("has no credentials yet"), std::string::npos);

  std::string error;
  ASSERT_TRUE(provider_->acceptCredentials(
      nlohmann::json::parse(R"({"access_key_id":"AKIDFIRST","secret_access_key":"s1","session_token":null})"), &error))
      << error;
  ASSERT_TRUE(build(&out, &status));
  EXPECT_NE(out.find("Credential=AKIDFIRST/20150830/"), std::string::npos);
  EXPECT_EQ(out.find("x-amz-security-token"), std::string::npos);

  ASSERT_TRUE(provider_->acceptCredentials(
      nlohmann::json::parse(
          R"({"access_key_id":"AKIDSECOND","secret_access_key":"s2","session_token":"tok-2","expires_at":1440940000})"),
      &error));
  ASSERT_TRUE(build(&out, &status));
  EXPECT_NE(out.find("Credential=AKIDSECOND/20150830/"), std::string::npos);
  EXPECT_NE(out.find("x-amz-security-token: tok-2\r\n"), std::string::npos);
}

TEST_F(BedrockPushed, PushesOfTheWrongShapeAreRefusedWithoutQuotingThem) {
  std::string error;
  for (const char* bad : {R"({"secret_access_key":"hidden-secret"})",
                          R"({"access_key_id":"AKID","secret_access_key":"hidden-secret","expires_at":"x"})",
                          R"({"access_key_id":7,"secret_access_key":"hidden-secret"})", R"(["hidden-secret"])"}) {
    EXPECT_FALSE(provider_->acceptCredentials(nlohmann::json::parse(bad), &error)) << bad;
    EXPECT_NE(error.find("provider 'aws' (kind bedrock) takes"), std::string::npos);
    EXPECT_EQ(error.find("hidden-secret"), std::string::npos);
  }
  std::string out;
  int status = 0;
  EXPECT_FALSE(build(&out, &status));  // still none
}

}  // namespace
}  // namespace aigw
