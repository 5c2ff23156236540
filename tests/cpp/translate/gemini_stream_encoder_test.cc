// GeminiStreamEncoder (the mock's direction): OpenAI chunk streams in, Gemini alt=sse events out,
// and back through GeminiStreamDecoder to the chunks the mock was given.
#include "translate/gemini_stream_encoder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "translate/gemini_stream_decoder.h"
#include "translate/sse_events.h"

namespace aigw::translate {
namespace {

using nlohmann::json;
using testing::SseEvent;

#define HEAD R"("id":"chatcmpl-r1","object":"chat.completion.chunk","created":7,"model":"gemini-x")"
#define CHUNK(delta, finish) \
  "{" HEAD R"(,"choices":[{"index":0,"delta":)" delta R"(,"logprobs":null,"finish_reason":)" finish "}]}"

const std::vector<std::string> kOpenAi = {
    CHUNK(R"({"role":"assistant","content":""})", "null"),
    CHUNK(R"({"reasoning_content":"plan"})", "null"),
    CHUNK(R"({"content":"Hi"})", "null"),
    CHUNK(R"({"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\""}}]})",
          "null"),
    CHUNK(R"({"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]})", "null"),
    CHUNK("{}", R"("tool_calls")"),
    "{" HEAD R"(,"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,)"
    R"("prompt_tokens_details":{"cached_tokens":4},"cache_read_input_tokens":4,"cache_creation_input_tokens":0}})",
    "[DONE]"};

std::vector<std::string> datas(const std::string& sse) {
  std::vector<std::string> out;
  for (const SseEvent& e : testing::sseEvents(sse)) out.push_back(e.data);
  return out;
}

TEST(GeminiStreamEncoding, WritesGeminiEvents) {
  GeminiStreamEncoder encoder;
  std::string out;
  for (const std::string& data : kOpenAi) encoder.onEvent(data, out);
  EXPECT_TRUE(encoder.ended());
  EXPECT_FALSE(encoder.failed());
  EXPECT_NE(out.find("}\r\n\r\ndata: "), std::string::npos) << "Gemini frames events with CRLF";
  const std::vector<std::string> got = datas(out);
  const std::vector<const char*> want = {
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"plan","thought":true}]},"index":0}],"modelVersion":"gemini-x","responseId":"r1"})",
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"index":0}],"modelVersion":"gemini-x","responseId":"r1"})",
      R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP","index":0}],"modelVersion":"gemini-x","responseId":"r1"})",
      R"({"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15,"cachedContentTokenCount":4},"modelVersion":"gemini-x","responseId":"r1"})"};
  ASSERT_EQ(got.size(), want.size()) << out;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(json::parse(got[i]), json::parse(want[i])) << i << ": " << got[i];
}

TEST(GeminiStreamEncoding, RoundTripsThroughTheDecoder) {
  GeminiStreamEncoder encoder;
  std::string gemini;
  for (const std::string& data : kOpenAi) encoder.onEvent(data, gemini);
  GeminiStreamDecoder decoder(7, "gemini-x", true);
  std::string openai;
  for (const std::string& data : datas(gemini)) decoder.onEvent(data, openai);
  decoder.finish(openai);
  // The tool call comes back whole (Gemini has no argument fragments) and without the role
  // chunk's empty content twice; everything else as it was.
  const std::vector<std::string> want = {
      CHUNK(R"({"role":"assistant","content":""})", "null"),
      CHUNK(R"({"reasoning_content":"plan"})", "null"),
      CHUNK(R"({"content":"Hi"})", "null"),
      CHUNK(R"({"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]})",
            "null"),
      CHUNK("{}", R"("tool_calls")"),
      kOpenAi[6],
      "[DONE]"};
  const std::vector<std::string> got = datas(openai);
  ASSERT_EQ(got.size(), want.size()) << openai;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(testing::sameEvent({"message", got[i]}, {"message", want[i]})) << i << ": " << got[i];
}

TEST(GeminiStreamEncoding, ErrorsBecomeGoogleErrors) {
  GeminiStreamEncoder encoder;
  std::string out;
  encoder.onEvent(R"({"error":{"message":"boom","type":"server_error","code":503}})", out);
  EXPECT_TRUE(encoder.failed());
  EXPECT_EQ(json::parse(datas(out).at(0)),
            json::parse(R"({"error":{"code":503,"message":"boom","status":"UNAVAILABLE"}})"));
}

TEST(GeminiStreamEncoding, UnfinishedToolCallsGoOutAtTheEnd) {
  GeminiStreamEncoder encoder;
  std::string out;
  encoder.onEvent(CHUNK(R"({"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]})", "null"), out);
  EXPECT_TRUE(out.empty());
  encoder.finish(out);
  EXPECT_NE(out.find(R"("functionCall":{"name":"f","args":{}})"), std::string::npos) << out;
  EXPECT_TRUE(encoder.ended());
}

TEST(GeminiStreamEncoding, ArgumentsThatAreNoObjectFail) {
  GeminiStreamEncoder encoder;
  std::string out;
  encoder.onEvent(CHUNK(R"({"tool_calls":[{"index":0,"function":{"name":"f","arguments":"[1]"}}]})", R"("tool_calls")"),
                  out);
  EXPECT_TRUE(encoder.failed());
  EXPECT_NE(out.find("INTERNAL"), std::string::npos) << out;
}

}  // namespace
}  // namespace aigw::translate
