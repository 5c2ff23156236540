// AnthropicRequestEncoder: OpenAI chat-completions bodies in, Anthropic Messages bodies out. Each
// case is one request; an expected body is compared whole, so a field that goes missing fails.
#include "translate/anthropic_request_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct EncodeCase {
  const char* name;
  const char* openai;
  const char* anthropic;  // the expected body, or nullptr when the request is refused
  std::vector<std::string> drop_params = {};
  const char* refused_field = "";         // when refused: the path named
  std::vector<std::string> dropped = {};  // when translated: what drop_params dropped
};

class AnthropicRequestEncoding : public ::testing::TestWithParam<EncodeCase> {};

TEST_P(AnthropicRequestEncoding, Translates) {
  const EncodeCase& c = GetParam();
  RequestOptions options;
  options.drop_params = c.drop_params;
  options.default_max_tokens = 4096;
  const AnthropicRequestEncoder encoder(options);
  json out;
  const Translation t = encoder.encode(json::parse(c.openai), out);
  if (c.anthropic == nullptr) {
    ASSERT_FALSE(t.ok) << out.dump();
    EXPECT_EQ(t.error.field, c.refused_field);
    EXPECT_NE(t.error.message.find(c.refused_field), std::string::npos) << t.error.message;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(out, json::parse(c.anthropic)) << out.dump();
  EXPECT_EQ(t.dropped, c.dropped);
}

const EncodeCase kCases[] = {
    {"MinimalGetsTheDefaultMaxTokens", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
     R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]})"},
    {"SystemAndDeveloperMessagesBecomeSystemBlocks",
     R"({"model":"m","messages":[{"role":"system","content":"a"},{"role":"user","content":"q"},
        {"role":"developer","content":[{"type":"text","text":"b"}]}]})",
     R"({"model":"m","max_tokens":4096,"system":[{"type":"text","text":"a"},{"type":"text","text":"b"}],
        "messages":[{"role":"user","content":"q"}]})"},
    {"OneSystemMessageIsAString",
     R"({"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"q"}]})",
     R"({"model":"m","max_tokens":4096,"system":"be brief","messages":[{"role":"user","content":"q"}]})"},
    {"MultiTurnAndSamplingFields",
     R"({"model":"m","temperature":0.2,"top_p":0.9,"max_tokens":50,"stream":true,"stop":"END","user":"u1",
        "stream_options":{"include_usage":true},"n":1,"presence_penalty":0,"logprobs":false,
        "messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]})",
     R"({"model":"m","temperature":0.2,"top_p":0.9,"max_tokens":50,"stream":true,"stop_sequences":["END"],
        "metadata":{"user_id":"u1"},
        "messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]})"},
    {"MaxCompletionTokensWinsOverMaxTokens",
     R"({"model":"m","max_completion_tokens":7,"max_tokens":9,"stop":["x","y"],"messages":[]})",
     R"({"model":"m","max_tokens":7,"stop_sequences":["x","y"],"messages":[]})"},
    {"ImagesByUrlAndDataUrl",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what"},
        {"type":"image_url","image_url":{"url":"https://x/y.png","detail":"auto"}},
        {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,QUJD"}}]}]})",
     R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"what"},
        {"type":"image","source":{"type":"url","url":"https://x/y.png"}},
        {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"QUJD"}}]}]})"},
    {"PdfFileDataBecomesADocument",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf",
        "file_data":"data:application/pdf;base64,UERG"}}]}]})",
     R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"document","title":"a.pdf",
        "source":{"type":"base64","media_type":"application/pdf","data":"UERG"}}]}]})"},
    {"ToolsChoiceCallsAndMergedResults",
     R"({"model":"m","tool_choice":"required","parallel_tool_calls":false,
        "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}},
                 {"type":"function","function":{"name":"g"}}],
        "messages":[{"role":"user","content":"go"},
          {"role":"assistant","content":null,"refusal":null,"tool_calls":[
            {"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
            {"id":"c2","type":"function","function":{"name":"g","arguments":""}}]},
          {"role":"tool","tool_call_id":"c1","content":"r1"},
          {"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"r2"}]},
          {"role":"user","content":"and?"}]})",
     R"({"model":"m","max_tokens":4096,"tool_choice":{"type":"any","disable_parallel_tool_use":true},
        "tools":[{"name":"f","description":"d","input_schema":{"type":"object"}},
                 {"name":"g","input_schema":{"type":"object","properties":{}}}],
        "messages":[{"role":"user","content":"go"},
          {"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},
                                         {"type":"tool_use","id":"c2","name":"g","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"r1"},
                                    {"type":"tool_result","tool_use_id":"c2","content":[{"type":"text","text":"r2"}]}]},
          {"role":"user","content":"and?"}]})"},
    {"AssistantTextBeforeToolCallsIsKept",
     R"({"model":"m","messages":[{"role":"assistant","content":"let me","tool_calls":[
        {"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]})",
     R"({"model":"m","max_tokens":4096,"messages":[{"role":"assistant","content":[{"type":"text","text":"let me"},
        {"type":"tool_use","id":"c","name":"f","input":{}}]}]})"},
    {"ToolChoiceAutoNoneAndNamed",
     R"({"model":"m","tool_choice":{"type":"function","function":{"name":"f"}},"messages":[]})",
     R"({"model":"m","max_tokens":4096,"tool_choice":{"type":"tool","name":"f"},"messages":[]})"},
    {"ToolChoiceNone", R"({"model":"m","tool_choice":"none","parallel_tool_calls":false,"messages":[]})",
     R"({"model":"m","max_tokens":4096,"tool_choice":{"type":"none"},"messages":[]})"},
    {"ToolChoiceAuto", R"({"model":"m","tool_choice":"auto","messages":[]})",
     R"({"model":"m","max_tokens":4096,"tool_choice":{"type":"auto"},"messages":[]})"},
    {"AnthropicOwnFieldsPassThrough",
     R"({"model":"m","top_k":5,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]})",
     R"({"model":"m","max_tokens":4096,"top_k":5,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]})"},
    {"DroppedFieldsAreReported",
     R"({"model":"m","n":2,"seed":3,"logprobs":true,"response_format":{"type":"json_object"},
        "messages":[{"role":"user","name":"bob","content":[{"type":"image_url","image_url":{"url":"https://i","detail":"high"}}]}]})",
     R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://i"}}]}]})",
     {"n", "seed", "logprobs", "response_format", "messages.name", "messages.content.image_url.detail"},
     "",
     {"logprobs", "messages.name", "messages.content.image_url.detail", "n", "response_format", "seed"}},
    {"ResponseFormatTextIsTheDefault", R"({"model":"m","response_format":{"type":"text"},"messages":[]})",
     R"({"model":"m","max_tokens":4096,"messages":[]})"},
    // Refusals: each names the field and the drop_params entry.
    {"RefusesNAboveOne", R"({"model":"m","n":3,"messages":[]})", nullptr, {}, "n"},
    {"RefusesSeed", R"({"model":"m","seed":1,"messages":[]})", nullptr, {}, "seed"},
    {"RefusesLogprobs", R"({"model":"m","logprobs":true,"messages":[]})", nullptr, {}, "logprobs"},
    {"RefusesPenalties", R"({"model":"m","frequency_penalty":0.5,"messages":[]})", nullptr, {}, "frequency_penalty"},
    {"RefusesJsonSchema",
     R"({"model":"m","response_format":{"type":"json_schema","json_schema":{}},"messages":[]})",
     nullptr,
     {},
     "response_format"},
    {"RefusesUnknownFields",
     R"({"model":"m","reasoning_effort":"low","messages":[]})",
     nullptr,
     {},
     "reasoning_effort"},
    {"RefusesMessageName",
     R"({"model":"m","messages":[{"role":"user","content":"x","name":"n"}]})",
     nullptr,
     {},
     "messages[0].name"},
    {"RefusesImageDetail",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://i","detail":"low"}}]}]})",
     nullptr,
     {},
     "messages[0].content[0].image_url.detail"},
    {"RefusesAudioParts",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})",
     nullptr,
     {},
     "messages[0].content[0]"},
    {"RefusesUnknownRoles",
     R"({"model":"m","messages":[{"role":"function","content":"x"}]})",
     nullptr,
     {},
     "messages[0].role"},
    {"RefusesArgumentsThatAreNotAnObject",
     R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"[1"}}]}]})",
     nullptr,
     {},
     "messages[0].tool_calls[0].function.arguments"},
    {"RefusesStrictTools",
     R"({"model":"m","tools":[{"type":"function","function":{"name":"f","strict":true}}],"messages":[]})",
     nullptr,
     {},
     "tools[0].function.strict"},
    {"RefusesNonUrlImages",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///x"}}]}]})",
     nullptr,
     {},
     "messages[0].content[0].image_url.url"},
    {"RefusesABodyThatIsNoObject", R"([1])", nullptr, {}, ""},
};

INSTANTIATE_TEST_SUITE_P(Cases, AnthropicRequestEncoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AnthropicRequestEncoder, RefusalMessageSaysWhichDropParamsEntryDropsIt) {
  const AnthropicRequestEncoder encoder(RequestOptions{});
  json out;
  const Translation t = encoder.encode(json::parse(R"({"model":"m","seed":1,"messages":[]})"), out);
  ASSERT_FALSE(t.ok);
  EXPECT_EQ(t.error.drop_name, "seed");
  EXPECT_EQ(t.error.message,
            "'seed' cannot be expressed for an Anthropic upstream; add \"seed\" to the route's drop_params to drop it");
}

}  // namespace
}  // namespace aigw::translate
