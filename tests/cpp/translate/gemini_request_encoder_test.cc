// GeminiRequestEncoder: OpenAI chat-completions bodies in, Gemini generateContent bodies out. Each
// case is one request; an expected body is compared whole, so a field that goes missing fails.
#include "translate/gemini_request_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct EncodeCase {
  const char* name;
  const char* openai;
  const char* gemini;  // the expected body, or nullptr when the request is refused
  std::vector<std::string> drop_params = {};
  const char* refused_field = "";         // when refused: the path named
  std::vector<std::string> dropped = {};  // when translated: what drop_params dropped
};

class GeminiRequestEncoding : public ::testing::TestWithParam<EncodeCase> {};

TEST_P(GeminiRequestEncoding, Translates) {
  const EncodeCase& c = GetParam();
  RequestOptions options;
  options.drop_params = c.drop_params;
  json out;
  const Translation t = GeminiRequestEncoder(options).encode(json::parse(c.openai), out);
  if (c.gemini == nullptr) {
    ASSERT_FALSE(t.ok) << out.dump();
    EXPECT_EQ(t.error.field, c.refused_field);
    EXPECT_NE(t.error.message.find(c.refused_field), std::string::npos) << t.error.message;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(out, json::parse(c.gemini)) << out.dump();
  EXPECT_EQ(t.dropped, c.dropped);
}

const EncodeCase kCases[] = {
    {"ModelAndStreamStayInTheUrl",
     R"({"model":"gemini-2.5-flash","stream":true,"stream_options":{"include_usage":true},
        "messages":[{"role":"user","content":"hi"}]})",
     R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})"},
    {"SystemAndDeveloperMessagesBecomeTheSystemInstruction",
     R"({"messages":[{"role":"system","content":"a"},{"role":"user","content":"q"},
        {"role":"developer","content":[{"type":"text","text":"b"}]}]})",
     R"({"systemInstruction":{"parts":[{"text":"a"},{"text":"b"}]},
        "contents":[{"role":"user","parts":[{"text":"q"}]}]})"},
    {"AssistantTurnsAreModelTurns",
     R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},
        {"role":"assistant","content":null},{"role":"user","content":"c"}]})",
     R"({"contents":[{"role":"user","parts":[{"text":"a"}]},{"role":"model","parts":[{"text":"b"}]},
        {"role":"user","parts":[{"text":"c"}]}]})"},
    {"SamplingFieldsGoToGenerationConfig",
     R"({"temperature":0.2,"top_p":0.9,"top_k":40,"max_tokens":50,"stop":"END","n":2,"seed":7,
        "presence_penalty":0.5,"frequency_penalty":-0.5,"messages":[]})",
     R"({"contents":[],"generationConfig":{"temperature":0.2,"topP":0.9,"topK":40,"maxOutputTokens":50,
        "stopSequences":["END"],"candidateCount":2,"seed":7,"presencePenalty":0.5,"frequencyPenalty":-0.5}})"},
    {"MaxCompletionTokensWinsInEitherOrder",
     R"({"max_completion_tokens":7,"max_tokens":9,"stop":["x","y"],"messages":[]})",
     R"({"contents":[],"generationConfig":{"maxOutputTokens":7,"stopSequences":["x","y"]}})"},
    {"MaxCompletionTokensWinsAfterMaxTokens", R"({"max_tokens":9,"max_completion_tokens":7,"messages":[]})",
     R"({"contents":[],"generationConfig":{"maxOutputTokens":7}})"},
    {"DefaultValuedFieldsSayNothing",
     R"({"logprobs":false,"store":false,"metadata":{},"logit_bias":{},"parallel_tool_calls":true,
        "service_tier":"auto","user":null,"messages":[]})",
     R"({"contents":[]})"},
    {"ImagesFilesAndAudio",
     R"({"messages":[{"role":"user","content":[{"type":"text","text":"what"},
        {"type":"image_url","image_url":{"url":"https://x/y.PNG?s=1","detail":"auto"}},
        {"type":"image_url","image_url":{"url":"https://x/photo"}},
        {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,QUJD"}},
        {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,UERG"}},
        {"type":"input_audio","input_audio":{"data":"V0FW","format":"wav"}}]}]})",
     R"({"contents":[{"role":"user","parts":[{"text":"what"},
        {"fileData":{"fileUri":"https://x/y.PNG?s=1","mimeType":"image/png"}},
        {"fileData":{"fileUri":"https://x/photo"}},
        {"inlineData":{"mimeType":"image/jpeg","data":"QUJD"}},
        {"inlineData":{"mimeType":"application/pdf","data":"UERG"}},
        {"inlineData":{"mimeType":"audio/wav","data":"V0FW"}}]}]})"},
    {"ToolsCallsAndMergedResults",
     R"({"tool_choice":"required",
        "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object",
          "properties":{"a":{"type":"string"}},"additionalProperties":false}}},
          {"type":"function","function":{"name":"g"}}],
        "messages":[{"role":"user","content":"go"},
          {"role":"assistant","content":"calling","tool_calls":[
            {"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":\"1\"}"}},
            {"id":"c2","type":"function","function":{"name":"g","arguments":""},
             "extra_content":{"google":{"thought_signature":"sig2"}}}]},
          {"role":"tool","tool_call_id":"c1","content":"{\"ok\":true}"},
          {"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"plain"}]},
          {"role":"user","content":"thanks"}]})",
     R"({"tools":[{"functionDeclarations":[{"name":"f","description":"d","parametersJsonSchema":{"type":"object",
          "properties":{"a":{"type":"string"}},"additionalProperties":false}},{"name":"g"}]}],
        "toolConfig":{"functionCallingConfig":{"mode":"ANY"}},
        "contents":[{"role":"user","parts":[{"text":"go"}]},
          {"role":"model","parts":[{"text":"calling"},
            {"functionCall":{"name":"f","args":{"a":"1"}},"thoughtSignature":"skip_thought_signature_validator"},
            {"functionCall":{"name":"g","args":{}},"thoughtSignature":"sig2"}]},
          {"role":"user","parts":[{"functionResponse":{"name":"f","response":{"ok":true}}},
            {"functionResponse":{"name":"g","response":{"content":"plain"}}}]},
          {"role":"user","parts":[{"text":"thanks"}]}]})"},
    {"ToolResultNamedByItsMessage",
     R"({"messages":[{"role":"tool","tool_call_id":"x","name":"lookup","content":"42"}]})",
     R"({"contents":[{"role":"user","parts":[{"functionResponse":{"name":"lookup","response":{"content":"42"}}}]}]})"},
    {"ToolChoiceNoneAutoAndNamed", R"({"tool_choice":{"type":"function","function":{"name":"f"}},"messages":[]})",
     R"({"contents":[],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}})"},
    {"ToolChoiceNone", R"({"tool_choice":"none","messages":[]})",
     R"({"contents":[],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}})"},
    {"ToolChoiceAuto", R"({"tool_choice":"auto","messages":[]})",
     R"({"contents":[],"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}}})"},
    {"JsonObjectMode", R"({"response_format":{"type":"json_object"},"messages":[]})",
     R"({"contents":[],"generationConfig":{"responseMimeType":"application/json"}})"},
    {"JsonSchemaMode",
     R"({"response_format":{"type":"json_schema","json_schema":{"name":"n","strict":true,
        "schema":{"type":"object","properties":{"x":{"type":"integer"}}}}},"messages":[]})",
     R"({"contents":[],"generationConfig":{"responseMimeType":"application/json",
        "responseJsonSchema":{"type":"object","properties":{"x":{"type":"integer"}}}}})"},
    {"TextResponseFormatSaysNothing", R"({"response_format":{"type":"text"},"messages":[]})", R"({"contents":[]})"},
    {"ReasoningEffortIsAThinkingBudget", R"({"reasoning_effort":"medium","messages":[]})",
     R"({"contents":[],"generationConfig":{"thinkingConfig":{"thinkingBudget":8192,"includeThoughts":true}}})"},
    {"ReasoningEffortNoneTurnsThinkingOff", R"({"reasoning_effort":"none","messages":[]})",
     R"({"contents":[],"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}})"},
    {"SafetySettingsPassThrough",
     R"({"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"messages":[]})",
     R"({"contents":[],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]})"},
    {"DroppedFieldsAreNamedOnce",
     R"({"user":"u","logprobs":true,"top_logprobs":2,"parallel_tool_calls":false,
        "tools":[{"type":"custom","custom":{"name":"c"}},{"type":"function","function":{"name":"f","strict":true}}],
        "messages":[{"role":"user","name":"ann","content":[{"type":"text","text":"a"},
          {"type":"image_url","image_url":{"url":"https://x/a.gif","detail":"high"}},
          {"type":"file","file":{"file_id":"file-1"}}]}]})",
     R"({"tools":[{"functionDeclarations":[{"name":"f"}]}],
        "contents":[{"role":"user","parts":[{"text":"a"},{"fileData":{"fileUri":"https://x/a.gif","mimeType":"image/gif"}}]}]})",
     {"user", "logprobs", "top_logprobs", "parallel_tool_calls", "tools.type", "tools.function.strict", "messages.name",
      "messages.content.image_url.detail", "messages.content.file"},
     "",
     {"logprobs", "messages.name", "messages.content.image_url.detail", "messages.content.file", "parallel_tool_calls",
      "tools.type", "tools.function.strict", "top_logprobs", "user"}},
    {"UnknownFieldRefused", R"({"messages":[],"prediction":{"type":"content"}})", nullptr, {}, "prediction"},
    {"UserRefusedUnlessDropped", R"({"messages":[],"user":"u"})", nullptr, {}, "user"},
    {"ImageDetailRefusedUnlessDropped",
     R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"low"}}]}]})",
     nullptr, {}, "messages[0].content[0].image_url.detail"},
    {"ArgumentsThatAreNoObjectRefused",
     R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"[1]"}}]}]})",
     nullptr, {}, "messages[0].tool_calls[0].function.arguments"},
    {"ToolResultForNoCallRefused", R"({"messages":[{"role":"tool","tool_call_id":"nope","content":"x"}]})", nullptr,
     {}, "messages[0].tool_call_id"},
    {"UnknownRoleRefused", R"({"messages":[{"role":"function","content":"x"}]})", nullptr, {}, "messages[0].role"},
    {"ImageInSystemRefused",
     R"({"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]})",
     nullptr, {}, "messages[0].content"},
    {"NonNumericTemperatureRefused", R"({"temperature":"hot","messages":[]})", nullptr, {}, "temperature"},
    {"UnknownReasoningEffortRefused", R"({"reasoning_effort":"max","messages":[]})", nullptr, {}, "reasoning_effort"},
    {"FileIdRefused",
     R"({"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]})", nullptr, {},
     "messages[0].content[0]"},
    {"BodyThatIsNoObjectRefused", R"([1,2])", nullptr, {}, ""},
};

INSTANTIATE_TEST_SUITE_P(Cases, GeminiRequestEncoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

// A field the client sent is never silently lost: each OpenAI field, set to a value that means
// something, is mapped (the body changes), or refused naming it, and with drop_params naming it
// is dropped and reported.
struct FieldCase {
  const char* field;
  const char* value;
};

class GeminiFieldNeverLost : public ::testing::TestWithParam<FieldCase> {};

TEST_P(GeminiFieldNeverLost, IsMappedOrRefusedOrReportedDropped) {
  const FieldCase& c = GetParam();
  const json base = json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  json body = base;
  body[c.field] = json::parse(c.value);
  json plain, with;
  GeminiRequestEncoder(RequestOptions{}).encode(base, plain);
  json out;
  const Translation t = GeminiRequestEncoder(RequestOptions{}).encode(body, out);
  if (t.ok) {
    EXPECT_NE(out, plain) << c.field << " vanished: " << out.dump();
    return;
  }
  EXPECT_EQ(t.error.field, c.field) << t.error.message;
  RequestOptions dropping;
  dropping.drop_params = {c.field};
  const Translation d = GeminiRequestEncoder(dropping).encode(body, out);
  ASSERT_TRUE(d.ok) << d.error.message;
  EXPECT_EQ(d.dropped, std::vector<std::string>{c.field});
  EXPECT_EQ(out, plain);
}

const FieldCase kFields[] = {
    {"temperature", "0.5"},
    {"top_p", "0.5"},
    {"top_k", "3"},
    {"n", "2"},
    {"seed", "1"},
    {"presence_penalty", "1"},
    {"frequency_penalty", "1"},
    {"max_tokens", "5"},
    {"max_completion_tokens", "5"},
    {"stop", R"("x")"},
    {"tools", R"([{"type":"function","function":{"name":"f"}}])"},
    {"tool_choice", R"("none")"},
    {"response_format", R"({"type":"json_object"})"},
    {"reasoning_effort", R"("low")"},
    {"safety_settings", R"([])"},
    {"parallel_tool_calls", "false"},
    {"logprobs", "true"},
    {"top_logprobs", "2"},
    {"logit_bias", R"({"1":2})"},
    {"metadata", R"({"a":"b"})"},
    {"store", "true"},
    {"service_tier", R"("flex")"},
    {"user", R"("u")"},
    {"modalities", R"(["text","audio"])"},
    {"audio", R"({"voice":"x"})"},
    {"prediction", R"({"type":"content","content":"x"})"},
    {"web_search_options", R"({})"},
    {"functions", R"([{"name":"f"}])"},
    {"function_call", R"("auto")"},
    {"verbosity", R"("low")"},
    {"something_new", "1"},
};

INSTANTIATE_TEST_SUITE_P(Fields, GeminiFieldNeverLost, ::testing::ValuesIn(kFields),
                         [](const auto& info) { return std::string(info.param.field); });

}  // namespace
}  // namespace aigw::translate
