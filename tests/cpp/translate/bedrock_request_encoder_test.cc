// BedrockRequestEncoder: OpenAI chat-completions bodies in, Converse bodies out. Each case is one
// request; an expected body is compared whole, so a field that goes missing fails.
#include "translate/bedrock_request_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct EncodeCase {
  const char* name;
  const char* openai;
  const char* converse;  // the expected body, or nullptr when the request is refused
  std::vector<std::string> drop_params = {};
  const char* refused_field = "";         // when refused: the path named
  std::vector<std::string> dropped = {};  // when translated: what drop_params dropped
};

class BedrockRequestEncoding : public ::testing::TestWithParam<EncodeCase> {};

TEST_P(BedrockRequestEncoding, Translates) {
  const EncodeCase& c = GetParam();
  RequestOptions options;
  options.drop_params = c.drop_params;
  const BedrockRequestEncoder encoder(options);
  json out;
  const Translation t = encoder.encode(json::parse(c.openai), out);
  if (c.converse == nullptr) {
    ASSERT_FALSE(t.ok) << out.dump();
    EXPECT_EQ(t.error.field, c.refused_field);
    EXPECT_NE(t.error.message.find(c.refused_field), std::string::npos) << t.error.message;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(out, json::parse(c.converse)) << out.dump();
  EXPECT_EQ(t.dropped, c.dropped);
}

const EncodeCase kCases[] = {
    {"MinimalHasNoModelAndTextBlocks", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
     R"({"messages":[{"role":"user","content":[{"text":"hi"}]}]})"},
    {"SystemAndDeveloperMessagesBecomeSystemBlocks",
     R"({"model":"m","messages":[{"role":"system","content":"a"},{"role":"user","content":"q"},
        {"role":"developer","content":[{"type":"text","text":"b"}]}]})",
     R"({"system":[{"text":"a"},{"text":"b"}],"messages":[{"role":"user","content":[{"text":"q"}]}]})"},
    {"SamplingFieldsBecomeInferenceConfig",
     R"({"model":"m","temperature":0.2,"top_p":0.9,"max_tokens":50,"stream":true,"stop":"END",
        "stream_options":{"include_usage":true},"n":1,"presence_penalty":0,"logprobs":false,
        "messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]})",
     R"({"inferenceConfig":{"temperature":0.2,"topP":0.9,"maxTokens":50,"stopSequences":["END"]},
        "messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"text":"b"}]},
                    {"role":"user","content":[{"text":"c"}]}]})"},
    {"MaxCompletionTokensWinsAndStopListPasses",
     R"({"model":"m","max_completion_tokens":70,"max_tokens":10,"stop":["x","y"],
        "messages":[{"role":"user","content":"q"}]})",
     R"({"inferenceConfig":{"maxTokens":70,"stopSequences":["x","y"]},"messages":[{"role":"user","content":[{"text":"q"}]}]})"},
    {"ConsecutiveSameRoleTurnsMerge",
     R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},
        {"role":"assistant","content":"c"},{"role":"assistant","content":"d"}]})",
     R"({"messages":[{"role":"user","content":[{"text":"a"},{"text":"b"}]},
                     {"role":"assistant","content":[{"text":"c"},{"text":"d"}]}]})"},
    {"EmptyTextSaysNothing",
     R"({"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":""},
        {"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"r"}]}]})",
     R"({"messages":[{"role":"user","content":[{"text":"q"},{"text":"r"}]}]})"},
    {"DataUrlImagesBecomeBytes",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"auto"}},
        {"type":"image_url","image_url":{"url":"data:image/jpg;base64,/9j/"}}]}]})",
     R"({"messages":[{"role":"user","content":[{"text":"what?"},
        {"image":{"format":"png","source":{"bytes":"iVBORw0KGgo="}}},
        {"image":{"format":"jpeg","source":{"bytes":"/9j/"}}}]}]})"},
    {"ImageUrlIsRefused",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})",
     nullptr, {}, "messages[0].content[0].image_url.url"},
    {"ImageUrlDroppedOnRequest",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"t"},
        {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})",
     R"({"messages":[{"role":"user","content":[{"text":"t"}]}]})", {"messages.content.image_url"}, "",
     {"messages.content.image_url"}},
    {"UnknownImageFormatIsRefused",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AA"}}]}]})",
     nullptr, {}, "messages[0].content[0].image_url.url"},
    {"ToolRoundTrip",
     R"({"model":"m","messages":[{"role":"user","content":"weather?"},
        {"role":"assistant","content":"checking","tool_calls":[
          {"id":"t1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Oslo\"}"}},
          {"id":"t2","type":"function","function":{"name":"w","arguments":""}}]},
        {"role":"tool","tool_call_id":"t1","content":"cold"},
        {"role":"tool","tool_call_id":"t2","content":[{"type":"text","text":"warm"}]},
        {"role":"user","content":"thanks"}],
        "tools":[{"type":"function","function":{"name":"w","description":"weather","strict":true,
          "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
        "tool_choice":"required"})",
     R"({"messages":[{"role":"user","content":[{"text":"weather?"}]},
        {"role":"assistant","content":[{"text":"checking"},
          {"toolUse":{"toolUseId":"t1","name":"w","input":{"city":"Oslo"}}},
          {"toolUse":{"toolUseId":"t2","name":"w","input":{}}}]},
        {"role":"user","content":[{"toolResult":{"toolUseId":"t1","content":[{"text":"cold"}]}},
          {"toolResult":{"toolUseId":"t2","content":[{"text":"warm"}]}},{"text":"thanks"}]}],
        "toolConfig":{"tools":[{"toolSpec":{"name":"w","description":"weather","strict":true,
          "inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}],
          "toolChoice":{"any":{}}}})"},
    {"ToolChoiceAutoAndNamedAndDefaultSchema",
     R"({"model":"m","messages":[{"role":"user","content":"q"}],
        "tools":[{"type":"function","function":{"name":"f"}}],
        "tool_choice":{"type":"function","function":{"name":"f"}}})",
     R"({"messages":[{"role":"user","content":[{"text":"q"}]}],
        "toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object","properties":{}}}}}],
          "toolChoice":{"tool":{"name":"f"}}}})"},
    {"ToolChoiceNoneWithoutToolHistoryLeavesToolsOut",
     R"({"model":"m","messages":[{"role":"user","content":"q"}],
        "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"})",
     R"({"messages":[{"role":"user","content":[{"text":"q"}]}]})"},
    {"ToolChoiceNoneWithToolHistoryIsRefused",
     R"({"model":"m","messages":[{"role":"user","content":"q"},
        {"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"t","content":"r"}],
        "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"})",
     nullptr, {}, "tool_choice"},
    {"BadToolArgumentsAreRefused",
     R"({"model":"m","messages":[{"role":"assistant","tool_calls":[
        {"id":"t","type":"function","function":{"name":"f","arguments":"[1]"}}]}]})",
     nullptr, {}, "messages[0].tool_calls[0].function.arguments"},
    {"CacheControlBecomesCachePoint",
     R"({"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"long","cache_control":{"type":"ephemeral"}}]},
        {"role":"user","content":"q"}]})",
     R"({"system":[{"text":"long"},{"cachePoint":{"type":"default"}}],"messages":[{"role":"user","content":[{"text":"q"}]}]})"},
    {"AnthropicExtrasGoToAdditionalModelRequestFields",
     R"({"model":"m","top_k":5,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"q"}]})",
     R"({"additionalModelRequestFields":{"top_k":5,"thinking":{"type":"enabled","budget_tokens":1024}},
        "messages":[{"role":"user","content":[{"text":"q"}]}]})"},
    {"SeedIsRefused", R"({"model":"m","seed":1,"messages":[{"role":"user","content":"q"}]})", nullptr, {}, "seed"},
    {"UserIsRefused", R"({"model":"m","user":"u","messages":[{"role":"user","content":"q"}]})", nullptr, {}, "user"},
    {"ParallelToolCallsOffIsRefused",
     R"({"model":"m","parallel_tool_calls":false,"messages":[{"role":"user","content":"q"}]})", nullptr, {},
     "parallel_tool_calls"},
    {"DroppedFieldsAreListedOnce",
     R"({"model":"m","seed":1,"n":2,"response_format":{"type":"json_object"},
        "messages":[{"role":"user","name":"ann","content":"q"},{"role":"user","name":"bob","content":"r"}]})",
     R"({"messages":[{"role":"user","content":[{"text":"q"},{"text":"r"}]}]})",
     {"seed", "n", "response_format", "messages.name"}, "", {"messages.name", "n", "response_format", "seed"}},
    {"InputAudioPartIsRefused",
     R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]})",
     nullptr, {}, "messages[0].content[0]"},
    {"UnknownRoleIsRefused", R"({"model":"m","messages":[{"role":"critic","content":"q"}]})", nullptr, {},
     "messages[0].role"},
    {"TemperatureMustBeANumber", R"({"model":"m","temperature":"hot","messages":[]})", nullptr, {}, "temperature"},
};

INSTANTIATE_TEST_SUITE_P(Table, BedrockRequestEncoding, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<EncodeCase>& info) { return std::string(info.param.name); });

// Every OpenAI request field, each with a value that says something: the translation must
// either carry it into the Converse body (the body differs from the one without it), or
// refuse naming it. Only the fields whose place is the URL or the stream decoder may vanish.
TEST(BedrockRequestEncoder, AFieldTheClientSentIsNeverSilentlyLost) {
  const json base = json::parse(R"({"model":"m","messages":[{"role":"user","content":"q"}]})");
  const json fields = json::parse(R"({
    "temperature":0.5,"top_p":0.5,"max_tokens":9,"max_completion_tokens":9,"stop":"s","n":2,
    "presence_penalty":1,"frequency_penalty":1,"logprobs":true,"top_logprobs":2,"logit_bias":{"1":1},
    "seed":3,"user":"u","metadata":{"a":"b"},"store":true,"response_format":{"type":"json_object"},
    "service_tier":"flex","reasoning_effort":"low","modalities":["text","audio"],"audio":{"voice":"x"},
    "prediction":{"type":"content","content":"x"},"functions":[{"name":"f"}],"function_call":"auto",
    "parallel_tool_calls":false,"tools":[{"type":"function","function":{"name":"f"}}],
    "tool_choice":"required","top_k":3,"thinking":{"type":"enabled"},"web_search_options":{},
    "some_future_field":1})");
  const BedrockRequestEncoder encoder(RequestOptions{});
  json plain;
  ASSERT_TRUE(encoder.encode(base, plain).ok);
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    json request = base;
    request[it.key()] = it.value();
    json out;
    const Translation t = encoder.encode(request, out);
    if (it.key() == "tool_choice") continue;  // says something only with tools (checked in the table)
    if (t.ok) {
      EXPECT_NE(out, plain) << it.key() << " vanished";
    } else {
      EXPECT_EQ(t.error.field, it.key());
    }
  }
  for (const char* consumed : {"stream", "stream_options"}) {
    json request = base;
    request[consumed] = consumed == std::string("stream") ? json(true) : json{{"include_usage", true}};
    json out;
    EXPECT_TRUE(encoder.encode(request, out).ok);
    EXPECT_EQ(out, plain);
  }
}

TEST(BedrockRequestEncoder, RefusalMessageSaysWhichDropParamsEntryDropsIt) {
  const BedrockRequestEncoder encoder(RequestOptions{});
  json out;
  const Translation t = encoder.encode(json::parse(R"({"model":"m","seed":1,"messages":[]})"), out);
  ASSERT_FALSE(t.ok);
  EXPECT_EQ(t.error.drop_name, "seed");
  EXPECT_EQ(t.error.message,
            "'seed' cannot be expressed for a Bedrock upstream; add \"seed\" to the route's drop_params to drop it");
}

TEST(BedrockRequestEncoder, BodyThatIsNoObjectIsRefused) {
  json out;
  EXPECT_FALSE(BedrockRequestEncoder(RequestOptions{}).encode(json::array(), out).ok);
}

}  // namespace
}  // namespace aigw::translate
