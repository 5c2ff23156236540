// GeminiStreamDecoder: Gemini streamGenerateContent?alt=sse events in, OpenAI chunk streams out,
// each compared event by event (data as JSON).
#include "translate/gemini_stream_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "translate/sse_events.h"

namespace aigw::translate {
namespace {

using testing::SseEvent;

struct StreamCase {
  const char* name;
  bool include_usage;
  std::vector<std::string> gemini;  // each event's data
  std::vector<SseEvent> openai;
  bool failed = false;
};

#define HEAD R"("id":"chatcmpl-r1","object":"chat.completion.chunk","created":7,"model":"gemini-x")"
#define CHUNK_AT(i, delta, finish) \
  "{" HEAD R"(,"choices":[{"index":)" #i R"(,"delta":)" delta R"(,"logprobs":null,"finish_reason":)" finish "}]}"
#define CHUNK(delta, finish) CHUNK_AT(0, delta, finish)
#define ROLE R"({"role":"assistant","content":""})"

const StreamCase kCases[] = {
    {"TextThenFinishThenUsage",
     true,
     {R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],
         "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":1},"responseId":"r1"})",
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"lo \"you\""}]},"finishReason":"STOP","index":0}],
         "usageMetadata":{"promptTokenCount":10,"cachedContentTokenCount":4,"candidatesTokenCount":3,"thoughtsTokenCount":2},
         "responseId":"r1"})"},
     {{"message", CHUNK(ROLE, "null")},
      {"message", CHUNK(R"({"content":"Hel"})", "null")},
      {"message", CHUNK(R"({"content":"lo \"you\""})", "null")},
      {"message", CHUNK("{}", R"("stop")")},
      {"message", "{" HEAD R"(,"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,)"
           R"("prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2},)"
           R"("cache_read_input_tokens":4,"cache_creation_input_tokens":0}})"},
      {"message", "[DONE]"}}},
    {"ThoughtsAndWholeToolCalls",
     false,
     {R"({"candidates":[{"content":{"parts":[{"text":"plan","thought":true}]}}],"responseId":"r1"})",
      R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"s"},
          {"functionCall":{"name":"g","args":{}}}]},"finishReason":"STOP"}],"responseId":"r1"})"},
     {{"message", CHUNK(ROLE, "null")},
      {"message", CHUNK(R"({"reasoning_content":"plan"})", "null")},
      {"message", CHUNK(R"({"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\":1}"},)"
                 R"("extra_content":{"google":{"thought_signature":"s"}}}]})",
                 "null")},
      {"message", CHUNK(R"({"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"g","arguments":"{}"}}]})",
                 "null")},
      {"message", CHUNK("{}", R"("tool_calls")")},
      {"message", "[DONE]"}}},
    {"TwoCandidates",
     false,
     {R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0},{"content":{"parts":[{"text":"b"}]},"index":1}],
         "responseId":"r1"})",
      R"({"candidates":[{"finishReason":"STOP","index":0},{"finishReason":"MAX_TOKENS","index":1}],"responseId":"r1"})"},
     {{"message", CHUNK_AT(0, ROLE, "null")},
      {"message", CHUNK_AT(0, R"({"content":"a"})", "null")},
      {"message", CHUNK_AT(1, ROLE, "null")},
      {"message", CHUNK_AT(1, R"({"content":"b"})", "null")},
      {"message", CHUNK_AT(0, "{}", R"("stop")")},
      {"message", CHUNK_AT(1, "{}", R"("length")")},
      {"message", "[DONE]"}}},
    {"BlockedPrompt",
     false,
     {R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"responseId":"r1"})"},
     {{"message", CHUNK(ROLE, "null")}, {"message", CHUNK("{}", R"("content_filter")")}, {"message", "[DONE]"}}},
    {"ErrorMidStream",
     false,
     {R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}],"responseId":"r1"})",
      R"({"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}})",
      R"({"candidates":[{"content":{"parts":[{"text":"ignored"}]}}]})"},
     {{"message", CHUNK(ROLE, "null")},
      {"message", CHUNK(R"({"content":"a"})", "null")},
      {"message", R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"RESOURCE_EXHAUSTED"}})"}},
     true},
    {"NotJson",
     false,
     {"{oops"},
     {{"message", R"({"error":{"message":"the upstream sent an event that is no JSON object","type":"server_error","param":null,)"
           R"("code":"upstream_error"}})"}},
     true},
    {"CandidateIndexOutOfRange",
     false,
     {R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"index":9}]})"},
     {{"message", R"({"error":{"message":"the upstream sent a candidate index out of range","type":"server_error","param":null,)"
           R"("code":"upstream_error"}})"}},
     true},
};

class GeminiStreamDecoding : public ::testing::TestWithParam<StreamCase> {};

TEST_P(GeminiStreamDecoding, Transcodes) {
  const StreamCase& c = GetParam();
  GeminiStreamDecoder decoder(7, "gemini-x", c.include_usage);
  std::string out;
  for (const std::string& data : c.gemini) decoder.onEvent(data, out);
  decoder.finish(out);
  const std::vector<SseEvent> got = testing::sseEvents(out);
  ASSERT_EQ(got.size(), c.openai.size()) << testing::show(got);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(testing::sameEvent(got[i], c.openai[i])) << i << "\n" << testing::show(got);
  EXPECT_EQ(decoder.failed(), c.failed);
  EXPECT_TRUE(decoder.ended());
}

INSTANTIATE_TEST_SUITE_P(Cases, GeminiStreamDecoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(GeminiStreamDecoding, AnEmptyStreamIsAnError) {
  GeminiStreamDecoder decoder(7, "m", true);
  std::string out;
  decoder.finish(out);
  EXPECT_TRUE(decoder.failed());
  EXPECT_NE(out.find("ended without an answer"), std::string::npos) << out;
}

}  // namespace
}  // namespace aigw::translate
