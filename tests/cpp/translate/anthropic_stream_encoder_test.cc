// AnthropicStreamEncoder: OpenAI chunk streams in, Anthropic event streams out, each compared
// event by event (data as JSON).
#include "translate/anthropic_stream_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "translate/sse_events.h"

namespace aigw::translate {
namespace {

using testing::SseEvent;

struct StreamCase {
  const char* name;
  std::vector<std::string> openai;  // data of each event
  std::vector<SseEvent> anthropic;
  bool failed = false;
  bool call_finish = false;  // end with finish() instead of [DONE]
};

#define CHUNK(delta, finish)                                                                                      \
  R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":)" delta \
  R"(,"finish_reason":)" finish "}]}"
#define START                                                                                                  \
  SseEvent {                                                                                                   \
    "message_start",                                                                                           \
        R"({"type":"message_start","message":{"id":"c1","type":"message","role":"assistant","model":"gpt",)"   \
        R"("content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,)" \
        R"("cache_read_input_tokens":0,"cache_creation_input_tokens":0}}})"                                    \
  }
#define BLOCK_START(i, block)                                                                              \
  SseEvent {                                                                                               \
    "content_block_start", R"({"type":"content_block_start","index":)" #i R"(,"content_block":)" block "}" \
  }
#define BLOCK_DELTA(i, delta)                                                                      \
  SseEvent {                                                                                       \
    "content_block_delta", R"({"type":"content_block_delta","index":)" #i R"(,"delta":)" delta "}" \
  }
#define BLOCK_STOP(i)                                                       \
  SseEvent {                                                                \
    "content_block_stop", R"({"type":"content_block_stop","index":)" #i "}" \
  }
#define STOP                                     \
  SseEvent {                                     \
    "message_stop", R"({"type":"message_stop"})" \
  }

class AnthropicStreamEncoding : public ::testing::TestWithParam<StreamCase> {};

TEST_P(AnthropicStreamEncoding, Transcodes) {
  const StreamCase& c = GetParam();
  AnthropicStreamEncoder encoder;
  std::string out;
  for (const std::string& data : c.openai) encoder.onEvent(data, out);
  if (c.call_finish) encoder.finish(out);
  const std::vector<SseEvent> got = testing::sseEvents(out);
  ASSERT_EQ(got.size(), c.anthropic.size()) << testing::show(got);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(testing::sameEvent(got[i], c.anthropic[i])) << i << "\n" << testing::show(got);
  EXPECT_EQ(encoder.failed(), c.failed);
  EXPECT_TRUE(encoder.ended());
}

const StreamCase kCases[] = {
    {"TextThenUsage",
     {CHUNK(R"({"role":"assistant","content":""})", "null"), CHUNK(R"({"content":"Hel"})", "null"),
      CHUNK(R"({"content":"lo"})", "null"), CHUNK("{}", R"("stop")"),
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[],
          "usage":{"prompt_tokens":30,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":20}}})",
      "[DONE]"},
     {START, BLOCK_START(0, R"({"type":"text","text":""})"), BLOCK_DELTA(0, R"({"type":"text_delta","text":"Hel"})"),
      BLOCK_DELTA(0, R"({"type":"text_delta","text":"lo"})"), BLOCK_STOP(0),
      SseEvent{"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
        "usage":{"input_tokens":10,"output_tokens":2,"cache_read_input_tokens":20,"cache_creation_input_tokens":0}})"},
      STOP}},
    {"ReasoningTextAndTwoToolCalls",
     {CHUNK(R"({"role":"assistant","reasoning_content":"hm"})", "null"), CHUNK(R"({"content":"ok"})", "null"),
      CHUNK(R"({"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":""}}]})",
            "null"),
      CHUNK(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]})", "null"),
      CHUNK(R"({"tool_calls":[{"index":1,"id":"t2","type":"function","function":{"name":"g","arguments":"{}"}}]})",
            "null"),
      CHUNK("{}", R"("tool_calls")"), "[DONE]"},
     {START, BLOCK_START(0, R"({"type":"thinking","thinking":"","signature":""})"),
      BLOCK_DELTA(0, R"({"type":"thinking_delta","thinking":"hm"})"), BLOCK_STOP(0),
      BLOCK_START(1, R"({"type":"text","text":""})"), BLOCK_DELTA(1, R"({"type":"text_delta","text":"ok"})"),
      BLOCK_STOP(1), BLOCK_START(2, R"({"type":"tool_use","id":"t1","name":"f","input":{}})"),
      BLOCK_DELTA(2, R"({"type":"input_json_delta","partial_json":"{\"a\":1}"})"), BLOCK_STOP(2),
      BLOCK_START(3, R"({"type":"tool_use","id":"t2","name":"g","input":{}})"),
      BLOCK_DELTA(3, R"({"type":"input_json_delta","partial_json":"{}"})"), BLOCK_STOP(3),
      SseEvent{"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},
        "usage":{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}})"},
      STOP}},
    {"FinishWithoutDone",
     {CHUNK(R"({"content":"x"})", R"("length")")},
     {START, BLOCK_START(0, R"({"type":"text","text":""})"), BLOCK_DELTA(0, R"({"type":"text_delta","text":"x"})"),
      BLOCK_STOP(0),
      SseEvent{"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},
        "usage":{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}})"},
      STOP},
     false,
     true},
    {"ErrorChunk",
     {CHUNK(R"({"content":"x"})", "null"), R"({"error":{"message":"boom","type":"server_error"}})",
      CHUNK(R"({"content":"y"})", "null")},
     {START, BLOCK_START(0, R"({"type":"text","text":""})"), BLOCK_DELTA(0, R"({"type":"text_delta","text":"x"})"),
      SseEvent{"error", R"({"type":"error","error":{"type":"api_error","message":"boom"}})"}},
     true},
    {"NothingButDone",
     {"[DONE]"},
     {SseEvent{
         "error",
         R"({"type":"error","error":{"type":"api_error","message":"the upstream stream ended without an answer"}})"}},
     true},
    {"ToolIndexOutOfRange",
     {CHUNK(R"({"tool_calls":[{"index":100000,"id":"t","function":{"name":"f"}}]})", "null")},
     {START,
      SseEvent{
          "error",
          R"({"type":"error","error":{"type":"api_error","message":"the upstream sent a tool call index out of range"}})"}},
     true},
};

INSTANTIATE_TEST_SUITE_P(Cases, AnthropicStreamEncoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace aigw::translate
