// decodeGeminiResponse: Gemini generateContent answers in, chat.completion bodies out, each
// compared whole.
#include "translate/gemini_response_decoder.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct DecodeCase {
  const char* name;
  const char* gemini;
  const char* openai;  // nullptr: not a Gemini answer
  const char* model = "gemini-x";
};

class GeminiResponseDecoding : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(GeminiResponseDecoding, Translates) {
  const DecodeCase& c = GetParam();
  std::string out;
  const Translation t = decodeGeminiResponse(json::parse(c.gemini), 7, c.model, out);
  if (c.openai == nullptr) {
    EXPECT_FALSE(t.ok) << out;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(json::parse(out), json::parse(c.openai)) << out;
}

#define USAGE_10_5 \
  R"("usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},)" \
  R"("cache_read_input_tokens":0,"cache_creation_input_tokens":0})"

const DecodeCase kCases[] = {
    {"TextPartsJoined",
     R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"},{"text":"lo"}]},"finishReason":"STOP","index":0}],
        "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},
        "modelVersion":"gemini-2.5-flash-001","responseId":"r1"})",
     R"({"id":"chatcmpl-r1","object":"chat.completion","created":7,"model":"gemini-x","choices":[{"index":0,
        "message":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":"stop"}],)" USAGE_10_5 "}"},
    {"ModelVersionWhenNoModelGiven",
     R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"MAX_TOKENS"}],
        "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5},"modelVersion":"gemini-2.5-flash-001"})",
     R"({"id":"chatcmpl-","object":"chat.completion","created":7,"model":"gemini-2.5-flash-001","choices":[{"index":0,
        "message":{"role":"assistant","content":"x"},"logprobs":null,"finish_reason":"length"}],)" USAGE_10_5 "}",
     ""},
    {"ThoughtsToolCallsCachedAndReasoningTokens",
     R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hmm","thought":true},
          {"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"sig"},{"functionCall":{"name":"g"}}]},
          "finishReason":"STOP"}],
        "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":40,"candidatesTokenCount":7,
          "thoughtsTokenCount":20,"totalTokenCount":127},"responseId":"r"})",
     R"({"id":"chatcmpl-r","object":"chat.completion","created":7,"model":"gemini-x","choices":[{"index":0,
        "message":{"role":"assistant","content":null,"reasoning_content":"hmm","tool_calls":[
          {"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\":1}"},
           "extra_content":{"google":{"thought_signature":"sig"}}},
          {"id":"call_1","type":"function","function":{"name":"g","arguments":"{}"}}]},
        "logprobs":null,"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":100,"completion_tokens":27,"total_tokens":127,"prompt_tokens_details":{"cached_tokens":40},
          "completion_tokens_details":{"reasoning_tokens":20},"cache_read_input_tokens":40,"cache_creation_input_tokens":0}})"},
    {"SeveralCandidatesAndSafety",
     R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP","index":0},
        {"content":{"parts":[]},"finishReason":"SAFETY","index":1},{"finishReason":"PROHIBITED_CONTENT","index":2}],
        "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5}})",
     R"({"id":"chatcmpl-","object":"chat.completion","created":7,"model":"gemini-x","choices":[
        {"index":0,"message":{"role":"assistant","content":"a"},"logprobs":null,"finish_reason":"stop"},
        {"index":1,"message":{"role":"assistant","content":null},"logprobs":null,"finish_reason":"content_filter"},
        {"index":2,"message":{"role":"assistant","content":null},"logprobs":null,"finish_reason":"content_filter"}],)"
     USAGE_10_5 "}"},
    {"BlockedPromptIsAContentFilterAnswer",
     R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5}})",
     R"({"id":"chatcmpl-","object":"chat.completion","created":7,"model":"gemini-x","choices":[{"index":0,
        "message":{"role":"assistant","content":null},"logprobs":null,"finish_reason":"content_filter"}],)" USAGE_10_5 "}"},
    {"MaxTokensWithToolCallsStaysLength",
     R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]},"finishReason":"MAX_TOKENS"}],
        "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5}})",
     R"({"id":"chatcmpl-","object":"chat.completion","created":7,"model":"gemini-x","choices":[{"index":0,
        "message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function",
          "function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"length"}],)" USAGE_10_5 "}"},
    {"NoCandidatesNoFeedbackIsMalformed", R"({"candidates":[]})", nullptr},
    {"NotAnObject", R"([1])", nullptr},
    {"CandidatesNotAList", R"({"candidates":{"a":1}})", nullptr},
};

INSTANTIATE_TEST_SUITE_P(Cases, GeminiResponseDecoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(GeminiResponseDecoding, ReportsUsage) {
  std::string out;
  TokenUsage usage;
  ASSERT_TRUE(decodeGeminiResponse(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"x"}]}}],
      "usageMetadata":{"promptTokenCount":9,"cachedContentTokenCount":4,"candidatesTokenCount":2,"thoughtsTokenCount":3}})"),
                                   1, "m", out, &usage)
                  .ok);
  EXPECT_EQ(usage.input, 5);
  EXPECT_EQ(usage.cache_read, 4);
  EXPECT_EQ(usage.output, 5);
  EXPECT_EQ(usage.reasoning, 3);
}

}  // namespace
}  // namespace aigw::translate
