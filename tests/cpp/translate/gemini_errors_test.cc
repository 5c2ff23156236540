// Gemini error answers: Google's error shape to OpenAI's and back.
#include "translate/gemini_errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct ErrorCase {
  const char* name;
  int status;
  const char* gemini;
  const char* openai;
};

class GeminiErrorTranslation : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(GeminiErrorTranslation, KeepsStatusAndMessage) {
  const ErrorCase& c = GetParam();
  const ApiError e = openAiErrorFromGemini(c.status, c.gemini);
  EXPECT_EQ(e.status, c.status);
  EXPECT_EQ(json::parse(e.body), json::parse(c.openai)) << e.body;
}

const ErrorCase kCases[] = {
    {"InvalidArgument", 400,
     R"({"error":{"code":400,"message":"bad field","status":"INVALID_ARGUMENT","details":[]}})",
     R"({"error":{"message":"bad field","type":"invalid_request_error","param":null,"code":"INVALID_ARGUMENT"}})"},
    {"ResourceExhausted", 429, R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})",
     R"({"error":{"message":"quota","type":"rate_limit_error","param":null,"code":"RESOURCE_EXHAUSTED"}})"},
    {"ListForm", 503, R"([{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}])",
     R"({"error":{"message":"overloaded","type":"service_unavailable_error","param":null,"code":"UNAVAILABLE"}})"},
    {"PermissionDenied", 403, R"({"error":{"code":403,"message":"no key","status":"PERMISSION_DENIED"}})",
     R"({"error":{"message":"no key","type":"permission_error","param":null,"code":"PERMISSION_DENIED"}})"},
    {"NotJson", 502, "<html>bad gateway</html>",
     R"({"error":{"message":"<html>bad gateway</html>","type":"server_error","param":null,"code":null}})"},
};

INSTANTIATE_TEST_SUITE_P(Cases, GeminiErrorTranslation, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(GeminiErrorTranslation, OpenAiErrorsBecomeGoogleErrors) {
  const ApiError e = geminiErrorFromOpenAi(404, R"({"error":{"message":"no model","type":"invalid_request_error"}})");
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(json::parse(e.body), json::parse(R"({"error":{"code":404,"message":"no model","status":"NOT_FOUND"}})"));
  EXPECT_STREQ(googleStatusForHttpStatus(500), "INTERNAL");
  EXPECT_STREQ(googleStatusForHttpStatus(422), "FAILED_PRECONDITION");
}

}  // namespace
}  // namespace aigw::translate
