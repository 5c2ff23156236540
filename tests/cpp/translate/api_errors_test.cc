// Error answers across APIs: status and type tables, and bodies rewritten both ways.
#include "translate/api_errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct StatusCase {
  int status;
  const char* anthropic_type;
};

class AnthropicErrorTypes : public ::testing::TestWithParam<StatusCase> {};

TEST_P(AnthropicErrorTypes, FollowTheStatus) {
  EXPECT_STREQ(anthropicErrorTypeForStatus(GetParam().status), GetParam().anthropic_type);
}

INSTANTIATE_TEST_SUITE_P(Statuses, AnthropicErrorTypes,
                         ::testing::Values(StatusCase{400, "invalid_request_error"},
                                           StatusCase{401, "authentication_error"}, StatusCase{402, "billing_error"},
                                           StatusCase{403, "permission_error"}, StatusCase{404, "not_found_error"},
                                           StatusCase{413, "request_too_large"},
                                           StatusCase{422, "invalid_request_error"},
                                           StatusCase{429, "rate_limit_error"}, StatusCase{500, "api_error"},
                                           StatusCase{502, "api_error"}, StatusCase{504, "timeout_error"},
                                           StatusCase{529, "overloaded_error"}));

TEST(AnthropicErrorTypes, StatusOfATypeIsTheInverse) {
  for (int status : {400, 401, 402, 403, 404, 413, 429, 529}) {
    EXPECT_EQ(statusForAnthropicErrorType(anthropicErrorTypeForStatus(status)), status);
  }
  EXPECT_EQ(statusForAnthropicErrorType("api_error"), 500);
  EXPECT_EQ(statusForAnthropicErrorType("something_new"), 500);
}

struct RewriteCase {
  const char* name;
  int status;
  const char* body;
  int want_status;
  const char* want_body;
};

class OpenAiToAnthropicErrors : public ::testing::TestWithParam<RewriteCase> {};
TEST_P(OpenAiToAnthropicErrors, Rewrite) {
  const RewriteCase& c = GetParam();
  const ApiError e = anthropicErrorFromOpenAi(c.status, c.body);
  EXPECT_EQ(e.status, c.want_status);
  EXPECT_EQ(json::parse(e.body), json::parse(c.want_body)) << e.body;
}
INSTANTIATE_TEST_SUITE_P(
    Cases, OpenAiToAnthropicErrors,
    ::testing::Values(
        RewriteCase{"RateLimit", 429,
                    R"({"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}})", 429,
                    R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})"},
        RewriteCase{"BadKey", 401,
                    R"({"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}})", 401,
                    R"({"type":"error","error":{"type":"authentication_error","message":"bad key"}})"},
        RewriteCase{"UnavailableIsOverloaded", 503, R"({"error":{"message":"busy"}})", 529,
                    R"({"type":"error","error":{"type":"overloaded_error","message":"busy"}})"},
        RewriteCase{"NotJsonKeepsTheText", 502, "<html>bad gateway</html>", 502,
                    R"({"type":"error","error":{"type":"api_error","message":"<html>bad gateway</html>"}})"}),
    [](const auto& info) { return std::string(info.param.name); });

class AnthropicToOpenAiErrors : public ::testing::TestWithParam<RewriteCase> {};
TEST_P(AnthropicToOpenAiErrors, Rewrite) {
  const RewriteCase& c = GetParam();
  const ApiError e = openAiErrorFromAnthropic(c.status, c.body);
  EXPECT_EQ(e.status, c.want_status);
  EXPECT_EQ(json::parse(e.body), json::parse(c.want_body)) << e.body;
}
INSTANTIATE_TEST_SUITE_P(
    Cases, AnthropicToOpenAiErrors,
    ::testing::Values(
        RewriteCase{
            "Invalid", 400, R"({"type":"error","error":{"type":"invalid_request_error","message":"bad"}})", 400,
            R"({"error":{"message":"bad","type":"invalid_request_error","param":null,"code":"invalid_request_error"}})"},
        RewriteCase{
            "Overloaded", 529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", 503,
            R"({"error":{"message":"Overloaded","type":"service_unavailable_error","param":null,"code":"overloaded_error"}})"},
        RewriteCase{
            "TooLarge", 413, R"({"type":"error","error":{"type":"request_too_large","message":"big"}})", 413,
            R"({"error":{"message":"big","type":"invalid_request_error","param":null,"code":"request_too_large"}})"},
        RewriteCase{"Permission", 403, R"({"type":"error","error":{"type":"permission_error","message":"no"}})", 403,
                    R"({"error":{"message":"no","type":"permission_error","param":null,"code":"permission_error"}})"},
        RewriteCase{
            "NotFound", 404, R"({"type":"error","error":{"type":"not_found_error","message":"nope"}})", 404,
            R"({"error":{"message":"nope","type":"invalid_request_error","param":null,"code":"not_found_error"}})"},
        RewriteCase{"ServerError", 500, R"({"type":"error","error":{"type":"api_error","message":"oops"}})", 500,
                    R"({"error":{"message":"oops","type":"server_error","param":null,"code":"api_error"}})"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace aigw::translate
