// Bedrock Converse answers <-> OpenAI chat.completion (decodeBedrockConverse for the provider,
// encodeBedrockConverse for the mock), and Bedrock errors in OpenAI's shape.
#include <gtest/gtest.h>

#include <string>

#include "translate/bedrock_errors.h"
#include "translate/bedrock_response_decoder.h"
#include "translate/bedrock_response_encoder.h"

namespace aigw::translate {
namespace {

using nlohmann::json;

TEST(BedrockResponseDecoder, TextReasoningToolsStopReasonAndUsage) {
  const json converse = json::parse(R"({
    "output":{"message":{"role":"assistant","content":[
      {"reasoningContent":{"reasoningText":{"text":"think","signature":"sig"}}},
      {"text":"Hello "},{"text":"there"},
      {"toolUse":{"toolUseId":"tu1","name":"w","input":{"city":"Oslo"}}}]}},
    "stopReason":"tool_use",
    "usage":{"inputTokens":10,"outputTokens":5,"totalTokens":22,"cacheReadInputTokens":4,"cacheWriteInputTokens":3},
    "metrics":{"latencyMs":120}})");
  std::string out;
  TokenUsage usage;
  ASSERT_TRUE(decodeBedrockConverse(converse, 1700000000, "claude", out, &usage, "req-1").ok);
  EXPECT_EQ(json::parse(out), json::parse(R"({
    "id":"chatcmpl-req-1","object":"chat.completion","created":1700000000,"model":"claude",
    "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there","reasoning_content":"think",
      "tool_calls":[{"id":"tu1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Oslo\"}"}}]},
      "logprobs":null,"finish_reason":"tool_calls"}],
    "usage":{"prompt_tokens":17,"completion_tokens":5,"total_tokens":22,"prompt_tokens_details":{"cached_tokens":4},
      "cache_read_input_tokens":4,"cache_creation_input_tokens":3}})"))
      << out;
  EXPECT_EQ(usage.input, 10);
  EXPECT_EQ(usage.cache_creation, 3);
}

struct StopCase {
  const char* stop_reason;
  const char* finish_reason;
};

class BedrockStopReasons : public ::testing::TestWithParam<StopCase> {};

TEST_P(BedrockStopReasons, BecomeFinishReasons) {
  const json converse = {{"output", {{"message", {{"role", "assistant"}, {"content", json::array()}}}}},
                         {"stopReason", GetParam().stop_reason}};
  std::string out;
  ASSERT_TRUE(decodeBedrockConverse(converse, 1, "m", out).ok);
  const json doc = json::parse(out);
  EXPECT_EQ(doc["choices"][0]["finish_reason"], GetParam().finish_reason);
  EXPECT_TRUE(doc["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(doc["id"], "chatcmpl-bedrock");
}

INSTANTIATE_TEST_SUITE_P(Table, BedrockStopReasons,
                         ::testing::Values(StopCase{"end_turn", "stop"}, StopCase{"stop_sequence", "stop"},
                                           StopCase{"max_tokens", "length"},
                                           StopCase{"model_context_window_exceeded", "length"},
                                           StopCase{"tool_use", "tool_calls"},
                                           StopCase{"guardrail_intervened", "content_filter"},
                                           StopCase{"content_filtered", "content_filter"},
                                           StopCase{"malformed_model_output", "stop"},
                                           StopCase{"malformed_tool_use", "stop"}, StopCase{"newer_reason", "stop"}));

TEST(BedrockResponseDecoder, RefusesABodyThatIsNoConverseResponse) {
  std::string out;
  EXPECT_FALSE(decodeBedrockConverse(json::parse(R"({"message":"x"})"), 1, "m", out).ok);
  EXPECT_FALSE(decodeBedrockConverse(json::array(), 1, "m", out).ok);
}

TEST(BedrockResponseEncoder, ChatCompletionBecomesConverse) {
  const json openai = json::parse(R"({"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,
    "message":{"role":"assistant","content":"Hi","reasoning_content":"hmm",
      "tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
    "finish_reason":"tool_calls"}],
    "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":2}}})");
  std::string out;
  ASSERT_TRUE(encodeBedrockConverse(openai, out).ok);
  EXPECT_EQ(json::parse(out), json::parse(R"({
    "output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"hmm"}}},
      {"text":"Hi"},{"toolUse":{"toolUseId":"t","name":"f","input":{"a":1}}}]}},
    "stopReason":"tool_use",
    "usage":{"inputTokens":10,"outputTokens":3,"totalTokens":15,"cacheReadInputTokens":2,"cacheWriteInputTokens":0},
    "metrics":{"latencyMs":0}})"))
      << out;
}

TEST(BedrockResponseEncoder, RoundTripsThroughTheDecoder) {
  const json openai = json::parse(R"({"choices":[{"message":{"role":"assistant","content":"x"},
    "finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1}})");
  std::string converse, back;
  ASSERT_TRUE(encodeBedrockConverse(openai, converse).ok);
  ASSERT_TRUE(decodeBedrockConverse(json::parse(converse), 5, "m", back).ok);
  const json doc = json::parse(back);
  EXPECT_EQ(doc["choices"][0]["message"]["content"], "x");
  EXPECT_EQ(doc["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(doc["usage"]["prompt_tokens"], 3);
}

TEST(BedrockResponseEncoder, RefusesWhatIsNoChatCompletion) {
  std::string out;
  EXPECT_FALSE(encodeBedrockConverse(json::parse(R"({"error":{}})"), out).ok);
  const json bad_args = json::parse(R"({"choices":[{"message":{"tool_calls":[{"function":{"arguments":"[1]"}}]}}]})");
  EXPECT_FALSE(encodeBedrockConverse(bad_args, out).ok);
}

struct ErrorCase {
  int status;
  const char* body;
  const char* header;
  int want_status;
  const char* want_type;
  const char* want_code;
  const char* want_message;
};

class BedrockErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(BedrockErrors, BecomeOpenAiErrors) {
  const ErrorCase& c = GetParam();
  const ApiError e = openAiErrorFromBedrock(c.status, c.body, c.header);
  EXPECT_EQ(e.status, c.want_status);
  const json doc = json::parse(e.body);
  EXPECT_EQ(doc["error"]["type"], c.want_type);
  if (c.want_code == nullptr)
    EXPECT_TRUE(doc["error"]["code"].is_null());
  else
    EXPECT_EQ(doc["error"]["code"], c.want_code);
  EXPECT_EQ(doc["error"]["message"], c.want_message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BedrockErrors,
    ::testing::Values(
        ErrorCase{400, R"({"message":"bad input"})", "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                  400, "invalid_request_error", "ValidationException", "bad input"},
        ErrorCase{429, R"({"message":"Too many requests"})", "ThrottlingException", 429, "rate_limit_error",
                  "ThrottlingException", "Too many requests"},
        ErrorCase{403, R"({"Message":"denied"})", "AccessDeniedException", 403, "permission_error",
                  "AccessDeniedException", "denied"},
        ErrorCase{429, R"({"message":"loading"})", "ModelNotReadyException", 503, "service_unavailable_error",
                  "ModelNotReadyException", "loading"},
        ErrorCase{503, R"({"message":"later"})", "ServiceUnavailableException", 503, "service_unavailable_error",
                  "ServiceUnavailableException", "later"},
        ErrorCase{424, R"({"message":"model failed"})", "ModelErrorException", 502, "server_error",
                  "ModelErrorException", "model failed"},
        ErrorCase{408, R"({"message":"slow"})", "ModelTimeoutException", 504, "server_error",
                  "ModelTimeoutException", "slow"},
        ErrorCase{404, R"({"__type":"com.amazon.coral#ResourceNotFoundException","message":"no model"})", "", 404,
                  "invalid_request_error", "ResourceNotFoundException", "no model"},
        ErrorCase{403, R"({"message":"The security token included in the request is invalid."})",
                  "UnrecognizedClientException", 403, "permission_error", "UnrecognizedClientException",
                  "The security token included in the request is invalid."},
        ErrorCase{502, "<html>bad gateway</html>", "", 502, "server_error", nullptr, "<html>bad gateway</html>"}));

}  // namespace
}  // namespace aigw::translate
