// GeminiRequestDecoder: generateContent bodies in, chat-completions bodies out; and OpenAI
// requests through GeminiRequestEncoder and back.
#include "translate/gemini_request_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "translate/gemini_request_encoder.h"

namespace aigw::translate {
namespace {

using nlohmann::json;

TEST(GeminiRequestDecoding, ReadsAWholeRequest) {
  const json gemini = json::parse(R"({
    "systemInstruction":{"parts":[{"text":"be brief"}]},
    "contents":[{"role":"user","parts":[{"text":"look"},{"inlineData":{"mimeType":"image/png","data":"QUJD"}}]},
      {"role":"model","parts":[{"text":"hmm","thought":true},{"text":"ok"},
        {"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"s"}]},
      {"role":"user","parts":[{"functionResponse":{"name":"f","response":{"content":"done"}}}]}],
    "tools":[{"functionDeclarations":[{"name":"f","description":"d","parametersJsonSchema":{"type":"object"}}]}],
    "toolConfig":{"functionCallingConfig":{"mode":"ANY"}},
    "generationConfig":{"temperature":0.5,"maxOutputTokens":9,"stopSequences":["x"],"responseMimeType":"application/json",
      "thinkingConfig":{"thinkingBudget":8192}}})");
  json out;
  const Translation t = GeminiRequestDecoder(RequestOptions{}).decode(gemini, "m", true, out);
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(out, json::parse(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},
    "messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,QUJD"}}]},
      {"role":"assistant","content":"ok","tool_calls":[{"id":"call_0","type":"function",
        "function":{"name":"f","arguments":"{\"a\":1}"},"extra_content":{"google":{"thought_signature":"s"}}}]},
      {"role":"tool","tool_call_id":"call_0","content":"done"}],
    "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],
    "tool_choice":"required","temperature":0.5,"max_tokens":9,"stop":["x"],
    "response_format":{"type":"json_object"},"reasoning_effort":"medium"})"))
      << out.dump();
}

TEST(GeminiRequestDecoding, RefusesWhatItCannotExpress) {
  json out;
  Translation t = GeminiRequestDecoder(RequestOptions{}).decode(
      json::parse(R"({"contents":[],"safetySettings":[{"category":"x"}]})"), "m", false, out);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error.field, "safetySettings");
  t = GeminiRequestDecoder(RequestOptions{}).decode(
      json::parse(R"({"contents":[{"role":"user","parts":[{"functionResponse":{"name":"g","response":{}}}]}]})"), "m",
      false, out);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error.field, "contents[0].parts[0].functionResponse.name");
  RequestOptions dropping;
  dropping.drop_params = {"safetySettings"};
  EXPECT_TRUE(GeminiRequestDecoder(dropping)
                  .decode(json::parse(R"({"contents":[],"safetySettings":[]})"), "m", false, out)
                  .ok);
}

TEST(GeminiRequestDecoding, RoundTripsWhatTheEncoderWrites) {
  const json openai = json::parse(R"({"model":"m","temperature":0.2,"max_tokens":5,"stop":["s"],
    "messages":[{"role":"system","content":"sys"},{"role":"user","content":[{"type":"text","text":"q"}]},
      {"role":"assistant","content":"a","tool_calls":[{"id":"call_0","type":"function",
        "function":{"name":"f","arguments":"{\"x\":1}"},"extra_content":{"google":{"thought_signature":"sig"}}}]},
      {"role":"tool","tool_call_id":"call_0","content":"r"}],
    "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto"})");
  json gemini, back;
  ASSERT_TRUE(GeminiRequestEncoder(RequestOptions{}).encode(openai, gemini).ok);
  ASSERT_TRUE(GeminiRequestDecoder(RequestOptions{}).decode(gemini, "m", false, back).ok);
  EXPECT_EQ(back, openai) << back.dump();
}

}  // namespace
}  // namespace aigw::translate
