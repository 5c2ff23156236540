#include "upstream/aws_sigv4.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw::upstream {
namespace {

// The AWS SigV4 test suite's credentials, scope and time (2015-08-30T12:36:00Z).
const AwsCredentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr int64_t kSuiteTime = 1440938160;

struct SuiteCase {
  const char* name;
  const char* method;
  const char* path;
  const char* query;
  std::vector<SigV4Header> headers;
  const char* body;
  bool content_sha256;
  const char* signed_headers;
  const char* signature;
};

class SigV4Suite : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(SigV4Suite, MatchesThePublishedSignature) {
  const SuiteCase& c = GetParam();
  SigV4Request r;
  r.method = c.method;
  r.path = c.path;
  r.query = c.query;
  r.host = "example.amazonaws.com";
  r.body = c.body;
  r.headers = c.headers;
  r.sign_content_sha256 = c.content_sha256;
  const SigV4Headers h = signSigV4(r, kSuite, "us-east-1", "service", kSuiteTime);
  EXPECT_EQ(h.amz_date, "20150830T123600Z");
  EXPECT_EQ(h.authorization, std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                                         "aws4_request, SignedHeaders=") +
                                 c.signed_headers + ", Signature=" + c.signature);
}

// From aws-c-auth's tests/aws-signing-test-suite/v4 (the suite AWS published), and the same
// values computed by botocore's SigV4Auth.
INSTANTIATE_TEST_SUITE_P(
    Vectors, SigV4Suite,
    ::testing::Values(
        SuiteCase{"get_vanilla", "GET", "/", "", {}, "", false, "host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        SuiteCase{"post_vanilla", "POST", "/", "", {}, "", false, "host;x-amz-date",
                  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        SuiteCase{"get_vanilla_query_order_key_case", "GET", "/", "Param2=value2&Param1=value1", {}, "", false,
                  "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
        SuiteCase{"get_utf8", "GET", "/\xe1\x88\xb4", "", {}, "", false, "host;x-amz-date",
                  "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
        SuiteCase{"get_relative", "GET", "/example/..", "", {}, "", false, "host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        SuiteCase{"get_slashes", "GET", "//example//", "", {}, "", false, "host;x-amz-date",
                  "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
        SuiteCase{"get_header_value_trim",
                  "GET",
                  "/",
                  "",
                  {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
                  "",
                  false,
                  "host;my-header1;my-header2;x-amz-date",
                  "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
        SuiteCase{"post_x_www_form_urlencoded",
                  "POST",
                  "/",
                  "",
                  {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "13"}},
                  "Param1=value1",
                  true,
                  "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
                  "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"},
        SuiteCase{"post_signed_body_crt",
                  "POST",
                  "/",
                  "",
                  {{"Content-Length", "5"}},
                  "hello",
                  true,
                  "content-length;host;x-amz-content-sha256;x-amz-date",
                  "8e17c5b22b7bb28da47f44b08691c087a0993d0965bfab053376360790d44d6c"}),
    [](const ::testing::TestParamInfo<SuiteCase>& info) { return std::string(info.param.name); });

TEST(SigV4, SignedBodyHeaderIsTheBodyHash) {
  SigV4Request r{"POST", "/", "", "example.amazonaws.com", "hello"};
  r.sign_content_sha256 = true;
  EXPECT_EQ(signSigV4(r, kSuite, "us-east-1", "service", kSuiteTime).content_sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  r.sign_content_sha256 = false;
  EXPECT_EQ(signSigV4(r, kSuite, "us-east-1", "service", kSuiteTime).content_sha256, "");
}

// Bedrock-shaped: botocore 1.43 (SigV4Auth(credentials, "bedrock", region).add_auth on the
// request boto3's bedrock-runtime client sends) at 2024-05-01T09:30:15Z.
struct BedrockCase {
  const char* name;
  const char* host;
  const char* region;
  const char* path;
  const char* token;
  const char* signed_headers;
  const char* signature;
};

class SigV4Bedrock : public ::testing::TestWithParam<BedrockCase> {};

TEST_P(SigV4Bedrock, MatchesBotocore) {
  const BedrockCase& c = GetParam();
  const std::vector<SigV4Header> headers = {{"Content-Type", "application/json"}};
  SigV4Request r;
  r.method = "POST";
  r.path = c.path;
  r.host = c.host;
  r.body = R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":64}})";
  r.headers = headers;
  const AwsCredentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", c.token};
  const SigV4Headers h = signSigV4(r, creds, c.region, "bedrock", 1714555815);
  EXPECT_EQ(h.amz_date, "20240501T093015Z");
  EXPECT_EQ(h.security_token, c.token);
  EXPECT_EQ(h.authorization, std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/") + c.region +
                                 "/bedrock/aws4_request, SignedHeaders=" + c.signed_headers +
                                 ", Signature=" + c.signature);
  // The secret is in no header.
  for (const std::string* s : {&h.authorization, &h.amz_date, &h.security_token, &h.content_sha256}) {
    EXPECT_EQ(s->find("wJalrXUtnFEMI"), std::string::npos);
  }
}

constexpr const char* kHaikuPath = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
constexpr const char* kProfilePath =
    "/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-"
    "20241022-v2%3A0/converse-stream";
constexpr const char* kToken = "IQoJb3JpZ2luX2VjEXAMPLETOKEN==";

INSTANTIATE_TEST_SUITE_P(
    Botocore, SigV4Bedrock,
    ::testing::Values(BedrockCase{"model_id_with_colon", "bedrock-runtime.us-east-1.amazonaws.com", "us-east-1",
                                  kHaikuPath, "", "content-type;host;x-amz-date",
                                  "0f539c89cf1d4e1f21ca5b52677fd5430e306f39c931b54336fb730ed32ca9dc"},
                      BedrockCase{"inference_profile_arn", "bedrock-runtime.us-west-2.amazonaws.com", "us-west-2",
                                  kProfilePath, "", "content-type;host;x-amz-date",
                                  "512ed6ea427e2e0925b6ecaa2bcd979d2284df3c4734129e1a4f5454fe536f64"},
                      BedrockCase{"session_token", "bedrock-runtime.us-east-1.amazonaws.com", "us-east-1", kHaikuPath,
                                  kToken, "content-type;host;x-amz-date;x-amz-security-token",
                                  "72a204d7cc62adad6d951f0026e8bcdf18025a4edb907ee0e0619c1ebeed1dc1"},
                      BedrockCase{"session_token_and_arn", "bedrock-runtime.us-west-2.amazonaws.com", "us-west-2",
                                  kProfilePath, kToken, "content-type;host;x-amz-date;x-amz-security-token",
                                  "c08f03fac4d4b45c5efe36307cd598cd94399d8facb1ed83b06e75896dba5802"}),
    [](const ::testing::TestParamInfo<BedrockCase>& info) { return std::string(info.param.name); });

TEST(SigV4, ModelIdEncodedOnceOnTheWireTwiceInTheCanonicalPath) {
  const std::string wire = "/model/" + awsUriEncode("anthropic.claude-3-haiku-20240307-v1:0", false) + "/converse";
  EXPECT_EQ(wire, kHaikuPath);
  EXPECT_EQ(sigV4CanonicalPath(wire), "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse");
  EXPECT_EQ(awsUriEncode("arn:aws:bedrock:us-west-2:1:inference-profile/x", false),
            "arn%3Aaws%3Abedrock%3Aus-west-2%3A1%3Ainference-profile%2Fx");
  EXPECT_EQ(awsUriEncode("a b/~c", true), "a%20b/~c");
}

TEST(SigV4, CanonicalPathRemovesDotAndEmptySegmentsAsBotocore) {
  EXPECT_EQ(sigV4CanonicalPath(""), "/");
  EXPECT_EQ(sigV4CanonicalPath("/a/./b/../c"), "/a/c");
  EXPECT_EQ(sigV4CanonicalPath("//a//b"), "/a/b");
  EXPECT_EQ(sigV4CanonicalPath("/a/b/"), "/a/b/");
  EXPECT_EQ(sigV4CanonicalPath("/.."), "/");
  EXPECT_EQ(sigV4CanonicalPath("/./"), "/");
}

TEST(SigV4, RepeatedHeadersAreJoinedUnderOneName) {
  // Same request twice: a header given twice signs as one "name:v1,v2" line, so the two
  // spellings below must sign alike.
  const std::vector<SigV4Header> twice = {{"X-Test", "a"}, {"x-test", "b"}};
  const std::vector<SigV4Header> joined = {{"x-test", "a,b"}};
  SigV4Request r{"GET", "/", "", "example.amazonaws.com", ""};
  r.headers = twice;
  const std::string a = signSigV4(r, kSuite, "us-east-1", "service", kSuiteTime).authorization;
  r.headers = joined;
  const std::string b = signSigV4(r, kSuite, "us-east-1", "service", kSuiteTime).authorization;
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("SignedHeaders=host;x-amz-date;x-test,"), std::string::npos) << a;
}

}  // namespace
}  // namespace aigw::upstream
