// encodeGeminiResponse (the mock's direction): chat.completion bodies in, Gemini answers out, and
// back through decodeGeminiResponse to what the mock was given.
#include "translate/gemini_response_encoder.h"

#include <gtest/gtest.h>

#include <string>

#include "translate/gemini_response_decoder.h"

namespace aigw::translate {
namespace {

using nlohmann::json;

const char* kCompletion = R"({"id":"chatcmpl-abc","object":"chat.completion","created":7,"model":"gemini-x",
  "choices":[{"index":0,"message":{"role":"assistant","content":"Hi","reasoning_content":"think",
    "tool_calls":[{"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\":1}"},
      "extra_content":{"google":{"thought_signature":"sig"}}}]},"logprobs":null,"finish_reason":"tool_calls"},
    {"index":1,"message":{"role":"assistant","content":"cut"},"logprobs":null,"finish_reason":"length"}],
  "usage":{"prompt_tokens":100,"completion_tokens":27,"total_tokens":127,"prompt_tokens_details":{"cached_tokens":40},
    "completion_tokens_details":{"reasoning_tokens":20},"cache_read_input_tokens":40,"cache_creation_input_tokens":0}})";

TEST(GeminiResponseEncoding, WritesCandidatesAndUsageMetadata) {
  std::string out;
  ASSERT_TRUE(encodeGeminiResponse(json::parse(kCompletion), out).ok);
  EXPECT_EQ(json::parse(out), json::parse(R"({"candidates":[
      {"content":{"role":"model","parts":[{"text":"think","thought":true},{"text":"Hi"},
        {"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"sig"}]},"finishReason":"STOP","index":0},
      {"content":{"role":"model","parts":[{"text":"cut"}]},"finishReason":"MAX_TOKENS","index":1}],
    "usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":7,"totalTokenCount":127,
      "cachedContentTokenCount":40,"thoughtsTokenCount":20},
    "modelVersion":"gemini-x","responseId":"abc"})"))
      << out;
}

TEST(GeminiResponseEncoding, RoundTripsThroughTheDecoder) {
  std::string gemini, openai;
  ASSERT_TRUE(encodeGeminiResponse(json::parse(kCompletion), gemini).ok);
  ASSERT_TRUE(decodeGeminiResponse(json::parse(gemini), 7, "gemini-x", openai).ok);
  EXPECT_EQ(json::parse(openai), json::parse(kCompletion)) << openai;
}

TEST(GeminiResponseEncoding, RefusesWhatIsNoCompletion) {
  std::string out;
  EXPECT_FALSE(encodeGeminiResponse(json::parse(R"({"choices":[]})"), out).ok);
  EXPECT_FALSE(encodeGeminiResponse(json::parse(R"({"choices":[{"message":{"tool_calls":[
      {"function":{"name":"f","arguments":"[1]"}}]}}]})"),
                                    out)
                   .ok);
}

}  // namespace
}  // namespace aigw::translate
