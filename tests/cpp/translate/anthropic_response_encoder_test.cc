// encodeAnthropicMessage: chat.completion bodies in, Anthropic answers out, compared whole.
#include "translate/anthropic_response_encoder.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct AnswerCase {
  const char* name;
  const char* openai;
  const char* anthropic;  // nullptr: refused
};

class AnthropicAnswerEncoding : public ::testing::TestWithParam<AnswerCase> {};

TEST_P(AnthropicAnswerEncoding, Translates) {
  const AnswerCase& c = GetParam();
  std::string out;
  const Translation t = encodeAnthropicMessage(json::parse(c.openai), out);
  if (c.anthropic == nullptr) {
    EXPECT_FALSE(t.ok) << out;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(json::parse(out), json::parse(c.anthropic)) << out;
}

const AnswerCase kCases[] = {
    {"TextStopAndCachedUsage",
     R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt","choices":[{"index":0,
        "message":{"role":"assistant","content":"Hi","refusal":null},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":130,"completion_tokens":5,"total_tokens":135,"prompt_tokens_details":{"cached_tokens":100}}})",
     R"({"id":"chatcmpl-1","type":"message","role":"assistant","model":"gpt","content":[{"type":"text","text":"Hi"}],
        "stop_reason":"end_turn","stop_sequence":null,
        "usage":{"input_tokens":30,"output_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":0}})"},
    {"ReasoningAndToolCalls",
     R"({"id":"c","model":"g","choices":[{"message":{"role":"assistant","content":null,"reasoning_content":"think",
        "tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
                      {"id":"t2","type":"function","function":{"name":"g","arguments":""}}]},"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":3,"completion_tokens":4}})",
     R"({"id":"c","type":"message","role":"assistant","model":"g","content":[
        {"type":"thinking","thinking":"think","signature":""},
        {"type":"tool_use","id":"t1","name":"f","input":{"a":1}},{"type":"tool_use","id":"t2","name":"g","input":{}}],
        "stop_reason":"tool_use","stop_sequence":null,
        "usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}})"},
    {"LengthAndContentFilter",
     R"({"id":"c","model":"g","choices":[{"message":{"role":"assistant","content":"","refusal":"no"},"finish_reason":"content_filter"}]})",
     R"({"id":"c","type":"message","role":"assistant","model":"g","content":[{"type":"text","text":"no"}],
        "stop_reason":"refusal","stop_sequence":null,
        "usage":{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}})"},
    {"LengthIsMaxTokens", R"({"id":"c","model":"g","choices":[{"message":{"content":"x"},"finish_reason":"length"}]})",
     R"({"id":"c","type":"message","role":"assistant","model":"g","content":[{"type":"text","text":"x"}],
        "stop_reason":"max_tokens","stop_sequence":null,
        "usage":{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}})"},
    {"RefusesNoChoices", R"({"id":"c","choices":[]})", nullptr},
    {"RefusesArgumentsThatAreNoObject",
     R"({"choices":[{"message":{"tool_calls":[{"id":"t","function":{"name":"f","arguments":"[1,"}}]}}]})", nullptr},
};

INSTANTIATE_TEST_SUITE_P(Cases, AnthropicAnswerEncoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace aigw::translate
