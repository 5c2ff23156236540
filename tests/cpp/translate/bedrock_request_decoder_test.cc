// BedrockRequestDecoder: Converse bodies in (as botocore's bedrock-runtime client sends them),
// chat-completions bodies out; and OpenAI requests through BedrockRequestEncoder and back.
#include "translate/bedrock_request_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "translate/bedrock_request_encoder.h"

namespace aigw::translate {
namespace {

using nlohmann::json;

Translation decode(const char* converse, json& out, RequestOptions options = {}, bool stream = false) {
  return BedrockRequestDecoder(std::move(options)).decode(json::parse(converse), "m", stream, out);
}

TEST(BedrockRequestDecoding, ReadsAWholeRequest) {
  json out;
  const Translation t = decode(R"({
    "system":[{"text":"be brief"},{"cachePoint":{"type":"default"}}],
    "messages":[
      {"role":"user","content":[{"text":"look"},{"image":{"format":"png","source":{"bytes":"QUJD"}}},
        {"document":{"format":"pdf","name":"doc","source":{"bytes":"UERG"}}}]},
      {"role":"assistant","content":[{"text":"calling"},{"toolUse":{"toolUseId":"t1","name":"f","input":{"a":1}}}]},
      {"role":"user","content":[{"toolResult":{"toolUseId":"t1","content":[{"json":{"ok":true}}]}},{"text":"and?"}]}],
    "inferenceConfig":{"maxTokens":9,"temperature":0.5,"topP":0.9,"stopSequences":["x"]},
    "toolConfig":{"tools":[{"toolSpec":{"name":"f","description":"d","inputSchema":{"json":{"type":"object"}}}},
      {"cachePoint":{"type":"default"}}],"toolChoice":{"tool":{"name":"f"}}}})",
                               out, {}, true);
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(out, json::parse(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},
    "messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,QUJD"}},
        {"type":"file","file":{"filename":"doc","file_data":"data:application/pdf;base64,UERG"}}]},
      {"role":"assistant","content":"calling","tool_calls":[{"id":"t1","type":"function",
        "function":{"name":"f","arguments":"{\"a\":1}"}}]},
      {"role":"tool","tool_call_id":"t1","content":"{\"ok\":true}"},
      {"role":"user","content":"and?"}],
    "max_tokens":9,"temperature":0.5,"top_p":0.9,"stop":["x"],
    "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],
    "tool_choice":{"type":"function","function":{"name":"f"}}})"))
      << out.dump();
}

TEST(BedrockRequestDecoding, ToolChoicesAndFailedToolResults) {
  json out;
  ASSERT_TRUE(decode(R"({"messages":[{"role":"user","content":[{"toolResult":{"toolUseId":"t","status":"error",
      "content":[{"text":"boom"}]}}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"f"}}],"toolChoice":{"any":{}}}})",
                     out)
                  .ok);
  EXPECT_EQ(out["messages"][0], json::parse(R"({"role":"tool","tool_call_id":"t","content":"Error: boom"})"));
  EXPECT_EQ(out["tool_choice"], "required");
  EXPECT_EQ(out["tools"][0]["function"]["parameters"], json::parse(R"({"type":"object","properties":{}})"));
  ASSERT_TRUE(decode(R"({"messages":[],"toolConfig":{"toolChoice":{"auto":{}}}})", out).ok);
  EXPECT_EQ(out["tool_choice"], "auto");
  EXPECT_FALSE(out.contains("stream"));
}

TEST(BedrockRequestDecoding, UsesMaxCompletionTokensWhenTheRouteSaysSo) {
  json out;
  RequestOptions options;
  options.use_max_completion_tokens = true;
  ASSERT_TRUE(decode(R"({"messages":[],"inferenceConfig":{"maxTokens":5}})", out, options).ok);
  EXPECT_EQ(out["max_completion_tokens"], 5);
  EXPECT_FALSE(out.contains("max_tokens"));
}

struct Refusal {
  const char* body;
  const char* field;
  const char* drop_name;  // "" when nothing can drop it
};

class BedrockRequestRefusals : public ::testing::TestWithParam<Refusal> {};

TEST_P(BedrockRequestRefusals, NamesTheFieldAndDropsItOnlyWhenDropParamsSays) {
  const Refusal& r = GetParam();
  json out;
  const Translation t = decode(r.body, out);
  ASSERT_FALSE(t.ok);
  EXPECT_EQ(t.error.field, r.field);
  EXPECT_EQ(t.error.drop_name, r.drop_name);
  EXPECT_NE(t.error.message.find(r.field), std::string::npos) << t.error.message;
  if (*r.drop_name == '\0') return;
  EXPECT_NE(t.error.message.find("drop_params"), std::string::npos);
  RequestOptions dropping;
  dropping.drop_params = {r.drop_name};
  const Translation dropped = decode(r.body, out, dropping);
  EXPECT_TRUE(dropped.ok) << dropped.error.message;
  EXPECT_EQ(dropped.dropped, std::vector<std::string>{r.drop_name});
}

INSTANTIATE_TEST_SUITE_P(
    Table, BedrockRequestRefusals,
    ::testing::Values(
        Refusal{R"({"messages":[],"additionalModelRequestFields":{"top_k":5}})", "additionalModelRequestFields",
                "additionalModelRequestFields"},
        Refusal{R"({"messages":[],"guardrailConfig":{"guardrailIdentifier":"g"}})", "guardrailConfig", "guardrailConfig"},
        Refusal{R"({"messages":[],"inferenceConfig":{"topK":5}})", "inferenceConfig.topK", "inferenceConfig.topK"},
        Refusal{R"({"messages":[{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"t"}}}]}]})",
                "messages[0].content[0]", "messages.content.reasoningContent"},
        Refusal{R"({"messages":[{"role":"user","content":[{"video":{"format":"mp4"}}]}]})", "messages[0].content[0]",
                "messages.content.video"},
        Refusal{R"({"messages":[{"role":"user","content":[{"image":{"format":"png","source":{"s3Location":{"uri":"s3://b/k"}}}}]}]})",
                "messages[0].content[0].image.source", "messages.content.image"},
        Refusal{R"({"messages":[{"role":"user","content":[{"document":{"format":"csv","name":"d","source":{"bytes":"YQ=="}}}]}]})",
                "messages[0].content[0].document.format", "messages.content.document"},
        Refusal{R"({"messages":[{"role":"user","content":[{"toolResult":{"toolUseId":"t","content":[{"image":{}}]}}]}]})",
                "messages[0].content[0].toolResult.content[0]", "messages.content.toolResult.content"},
        Refusal{R"({"messages":[],"toolConfig":{"tools":[{"systemTool":{"name":"x"}}]}})", "toolConfig.tools[0]",
                "toolConfig.tools.systemTool"},
        Refusal{R"({"messages":[],"toolConfig":{"toolChoice":{"tool":{}}}})", "toolConfig.toolChoice",
                "toolConfig.toolChoice"},
        Refusal{R"({"messages":[],"system":[{"guardContent":{"text":{"text":"x"}}}]})", "system[0]", "system.guardContent"},
        // Malformed: nothing to drop.
        Refusal{R"({"messages":{}})", "messages", ""},
        Refusal{R"({"messages":[{"role":"system","content":[]}]})", "messages[0].role", ""},
        Refusal{R"({"messages":[{"role":"user","content":"hi"}]})", "messages[0].content", ""},
        Refusal{R"({"messages":[{"role":"user","content":[7]}]})", "messages[0].content[0]", ""},
        Refusal{R"({"messages":[{"role":"user","content":[{"image":{"format":"bmp","source":{"bytes":"QQ=="}}}]}]})",
                "messages[0].content[0].image.format", ""},
        Refusal{R"({"messages":[{"role":"assistant","content":[{"toolUse":{"name":"f"}}]}]})",
                "messages[0].content[0].toolUse", ""},
        Refusal{R"({"messages":[],"inferenceConfig":{"maxTokens":"9"}})", "inferenceConfig.maxTokens", ""}));

TEST(BedrockRequestDecoding, EmptyOptionalFieldsSayNothing) {
  json out;
  EXPECT_TRUE(decode(R"({"messages":[],"additionalModelRequestFields":{},"requestMetadata":null})", out).ok);
}

TEST(BedrockRequestDecoding, RoundTripsWhatTheEncoderWrites) {
  const json openai = json::parse(R"({"model":"m",
    "messages":[{"role":"system","content":"sys"},{"role":"user","content":"hi"},
      {"role":"assistant","content":"ok","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":2}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"done"},{"role":"user","content":"thanks"}],
    "max_tokens":20,"temperature":0.2,"stop":["END"],
    "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"required"})");
  json converse;
  ASSERT_TRUE(BedrockRequestEncoder(RequestOptions{}).encode(openai, converse).ok);
  json back;
  const Translation t = BedrockRequestDecoder(RequestOptions{}).decode(converse, "m", false, back);
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(back, openai) << back.dump();
}

}  // namespace
}  // namespace aigw::translate
