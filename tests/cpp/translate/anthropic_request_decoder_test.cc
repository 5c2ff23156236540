// AnthropicRequestDecoder: Anthropic Messages bodies in, OpenAI chat-completions bodies out. Each
// case is one request; an expected body is compared whole, so a field that goes missing fails.
#include "translate/anthropic_request_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct DecodeCase {
  const char* name;
  const char* anthropic;
  const char* openai;  // the expected body, or nullptr when the request is refused
  std::vector<std::string> drop_params = {};
  const char* refused_field = "";
  std::vector<std::string> dropped = {};
};

class AnthropicRequestDecoding : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(AnthropicRequestDecoding, Translates) {
  const DecodeCase& c = GetParam();
  RequestOptions options;
  options.drop_params = c.drop_params;
  const AnthropicRequestDecoder decoder(options);
  json out;
  const Translation t = decoder.decode(json::parse(c.anthropic), out);
  if (c.openai == nullptr) {
    ASSERT_FALSE(t.ok) << out.dump();
    EXPECT_EQ(t.error.field, c.refused_field);
    EXPECT_NE(t.error.message.find(c.refused_field), std::string::npos) << t.error.message;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(out, json::parse(c.openai)) << out.dump();
  EXPECT_EQ(t.dropped, c.dropped);
}

const DecodeCase kCases[] = {
    {"Minimal", R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})",
     R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})"},
    {"SystemSamplingStopStreamUser",
     R"({"model":"m","max_tokens":10,"system":"be brief","temperature":0.5,"top_p":0.8,"stop_sequences":["X"],
        "stream":true,"metadata":{"user_id":"u"},"messages":[{"role":"user","content":"a"},
        {"role":"assistant","content":[{"type":"text","text":"b"}]},{"role":"user","content":"c"}]})",
     R"({"model":"m","max_tokens":10,"temperature":0.5,"top_p":0.8,"stop":["X"],"stream":true,
        "stream_options":{"include_usage":true},"user":"u","messages":[{"role":"system","content":"be brief"},
        {"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]})"},
    {"SystemBlocksAndCacheControl",
     R"({"model":"m","max_tokens":1,"system":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},
        {"type":"text","text":"b"}],"messages":[]})",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"system","content":[{"type":"text","text":"a"},
        {"type":"text","text":"b"}]}]})"},
    {"ImagesAndPdf",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"QQ=="}},
        {"type":"image","source":{"type":"url","url":"https://x/i.png"}},
        {"type":"document","title":"t.pdf","source":{"type":"base64","media_type":"application/pdf","data":"UA=="}},
        {"type":"text","text":"what?"}]}]})",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[
        {"type":"image_url","image_url":{"url":"data:image/png;base64,QQ=="}},
        {"type":"image_url","image_url":{"url":"https://x/i.png"}},
        {"type":"file","file":{"filename":"t.pdf","file_data":"data:application/pdf;base64,UA=="}},
        {"type":"text","text":"what?"}]}]})"},
    {"ToolUseAndResults",
     R"({"model":"m","max_tokens":1,"tool_choice":{"type":"any","disable_parallel_tool_use":true},
        "tools":[{"name":"f","description":"d","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}},
                 {"type":"custom","name":"g"}],
        "messages":[{"role":"user","content":"go"},
          {"role":"assistant","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"t1","name":"f","input":{"a":1}},
                                         {"type":"tool_use","id":"t2","name":"g","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r1"},
                                    {"type":"tool_result","tool_use_id":"t2","is_error":true,"content":[{"type":"text","text":"bad"}]},
                                    {"type":"text","text":"next"}]}]})",
     R"({"model":"m","max_tokens":1,"tool_choice":"required","parallel_tool_calls":false,
        "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}},
                 {"type":"function","function":{"name":"g","parameters":{"type":"object","properties":{}}}}],
        "messages":[{"role":"user","content":"go"},
          {"role":"assistant","content":"ok","tool_calls":[
            {"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
            {"id":"t2","type":"function","function":{"name":"g","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"t1","content":"r1"},
          {"role":"tool","tool_call_id":"t2","content":"Error: bad"},
          {"role":"user","content":"next"}]})"},
    {"ToolChoiceAutoNoneNamed",
     R"({"model":"m","max_tokens":1,"tool_choice":{"type":"tool","name":"f"},"messages":[]})",
     R"({"model":"m","max_tokens":1,"tool_choice":{"type":"function","function":{"name":"f"}},"messages":[]})"},
    {"ToolChoiceNone", R"({"model":"m","max_tokens":1,"tool_choice":{"type":"none"},"messages":[]})",
     R"({"model":"m","max_tokens":1,"tool_choice":"none","messages":[]})"},
    {"AssistantOnlyToolUseHasNullContent",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}]})",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":null,"tool_calls":[
        {"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]}]})"},
    {"ThinkingDropped",
     R"({"model":"m","max_tokens":1,"thinking":{"type":"enabled","budget_tokens":1024},"top_k":3,
        "messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"a"}]}]})",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":"a"}]})",
     {"thinking", "top_k"},
     "",
     {"thinking", "top_k"}},
    {"RefusesThinking",
     R"({"model":"m","max_tokens":1,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]})",
     nullptr,
     {},
     "thinking"},
    {"ThinkingDisabledIsTheDefault", R"({"model":"m","max_tokens":1,"thinking":{"type":"disabled"},"messages":[]})",
     R"({"model":"m","max_tokens":1,"messages":[]})"},
    {"RefusesTopK", R"({"model":"m","max_tokens":1,"top_k":5,"messages":[]})", nullptr, {}, "top_k"},
    {"RefusesServerTools",
     R"({"model":"m","max_tokens":1,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[]})",
     nullptr,
     {},
     "tools[0].type"},
    {"RefusesImagesInToolResults",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t",
        "content":[{"type":"image","source":{"type":"url","url":"https://i"}}]}]}]})",
     nullptr,
     {},
     "messages[0].content[0].content[0]"},
    {"RefusesUnknownMetadata",
     R"({"model":"m","max_tokens":1,"metadata":{"tenant":"x"},"messages":[]})",
     nullptr,
     {},
     "metadata.tenant"},
    {"RefusesUnknownBlocks",
     R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"search_result"}]}]})",
     nullptr,
     {},
     "messages[0].content[0]"},
    {"RefusesUnknownFields", R"({"model":"m","max_tokens":1,"container":"c","messages":[]})", nullptr, {}, "container"},
};

INSTANTIATE_TEST_SUITE_P(Cases, AnthropicRequestDecoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AnthropicRequestDecoder, CanWriteMaxCompletionTokens) {
  RequestOptions options;
  options.use_max_completion_tokens = true;
  json out;
  ASSERT_TRUE(
      AnthropicRequestDecoder(options).decode(json::parse(R"({"model":"m","max_tokens":5,"messages":[]})"), out).ok);
  EXPECT_EQ(out, json::parse(R"({"model":"m","max_completion_tokens":5,"messages":[]})"));
}

}  // namespace
}  // namespace aigw::translate
