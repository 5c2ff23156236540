// decodeAnthropicMessage: Anthropic answers in, chat.completion bodies out, compared whole.
#include "translate/anthropic_response_decoder.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct AnswerCase {
  const char* name;
  const char* anthropic;
  const char* openai;  // nullptr: refused
};

class AnthropicAnswerDecoding : public ::testing::TestWithParam<AnswerCase> {};

TEST_P(AnthropicAnswerDecoding, Translates) {
  const AnswerCase& c = GetParam();
  std::string out;
  const Translation t = decodeAnthropicMessage(json::parse(c.anthropic), 1700000000, out);
  if (c.openai == nullptr) {
    EXPECT_FALSE(t.ok) << out;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(json::parse(out), json::parse(c.openai)) << out;
}

const AnswerCase kCases[] = {
    {"TextEndTurnAndCachedUsage",
     R"({"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Hel"},
        {"type":"text","text":"lo"}],"stop_reason":"end_turn","stop_sequence":null,
        "usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":20}})",
     R"({"id":"msg_1","object":"chat.completion","created":1700000000,"model":"claude","choices":[{"index":0,
        "message":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":"stop"}],
        "usage":{"prompt_tokens":130,"completion_tokens":5,"total_tokens":135,"prompt_tokens_details":{"cached_tokens":100},
        "cache_read_input_tokens":100,"cache_creation_input_tokens":20}})"},
    {"ToolUseThinkingAndToolCallsReason",
     R"({"id":"m","type":"message","model":"c","content":[{"type":"thinking","thinking":"hmm","signature":"s"},
        {"type":"tool_use","id":"t1","name":"f","input":{"a":"b"}},{"type":"tool_use","id":"t2","name":"g","input":{}}],
        "stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}})",
     R"({"id":"m","object":"chat.completion","created":1700000000,"model":"c","choices":[{"index":0,
        "message":{"role":"assistant","content":null,"reasoning_content":"hmm","tool_calls":[
          {"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":\"b\"}"}},
          {"id":"t2","type":"function","function":{"name":"g","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0},
        "cache_read_input_tokens":0,"cache_creation_input_tokens":0}})"},
    {"MaxTokensIsLength",
     R"({"id":"m","type":"message","model":"c","content":[{"type":"text","text":"x"}],"stop_reason":"max_tokens","usage":{}})",
     R"({"id":"m","object":"chat.completion","created":1700000000,"model":"c","choices":[{"index":0,
        "message":{"role":"assistant","content":"x"},"logprobs":null,"finish_reason":"length"}],
        "usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0},
        "cache_read_input_tokens":0,"cache_creation_input_tokens":0}})"},
    {"RefusesWhatIsNoMessage", R"({"type":"error","error":{"type":"api_error","message":"x"}})", nullptr},
    {"RefusesContentThatIsNoArray", R"({"type":"message","content":"x"})", nullptr},
};

INSTANTIATE_TEST_SUITE_P(Cases, AnthropicAnswerDecoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace aigw::translate
