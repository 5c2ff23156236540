// AnthropicStreamDecoder: Anthropic event streams in, OpenAI chunk streams out, each compared
// event by event (data as JSON).
#include "translate/anthropic_stream_decoder.h"

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
  std::string anthropic;  // SSE text
  std::vector<SseEvent> openai;
  bool failed = false;
};

std::string ev(const char* name, const char* data) {
  return std::string("event: ") + name + "\ndata: " + data + "\n\n";
}

#define HEAD R"("id":"msg_1","object":"chat.completion.chunk","created":7,"model":"claude")"
#define CHUNK(delta, finish) \
  "{" HEAD R"(,"choices":[{"index":0,"delta":)" delta R"(,"logprobs":null,"finish_reason":)" finish "}]}"

const char* kStart =
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],)"
    R"("stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":4,"cache_creation_input_tokens":2}}})";

class AnthropicStreamDecoding : public ::testing::TestWithParam<StreamCase> {};

TEST_P(AnthropicStreamDecoding, Transcodes) {
  const StreamCase& c = GetParam();
  AnthropicStreamDecoder decoder(7, c.include_usage);
  std::string out;
  for (const SseEvent& e : testing::sseEvents(c.anthropic)) decoder.onEvent(e.event, e.data, out);
  const std::vector<SseEvent> got = testing::sseEvents(out);
  ASSERT_EQ(got.size(), c.openai.size()) << testing::show(got);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(testing::sameEvent(got[i], c.openai[i])) << i << "\n" << testing::show(got);
  EXPECT_EQ(decoder.failed(), c.failed);
  EXPECT_TRUE(decoder.ended());
}

const StreamCase kCases[] = {
    {"TextWithUsageChunk",
     true,
     ev("message_start", kStart) + ev("ping", R"({"type":"ping"})") +
         ev("content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
         ev("content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"you\""}})") +
         ev("content_block_stop", R"({"type":"content_block_stop","index":0})") +
         ev("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}})") +
         ev("message_stop", R"({"type":"message_stop"})"),
     {{"message", CHUNK(R"({"role":"assistant","content":""})", "null")},
      {"message", CHUNK(R"({"content":"Hi \"you\""})", "null")},
      {"message", CHUNK("{}", R"("stop")")},
      {"message", "{" HEAD R"(,"choices":[],"usage":{"prompt_tokens":16,"completion_tokens":9,"total_tokens":25,
         "prompt_tokens_details":{"cached_tokens":4},"cache_read_input_tokens":4,"cache_creation_input_tokens":2}})"},
      {"message", "[DONE]"}}},
    {"ToolUseAndThinking",
     false,
     ev("message_start", kStart) +
         ev("content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})") +
         ev("content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}})") +
         ev("content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"x"}})") +
         ev("content_block_stop", R"({"type":"content_block_stop","index":0})") +
         ev("content_block_start",
            R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}})") +
         ev("content_block_delta",
            R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}})") +
         ev("content_block_delta",
            R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}})") +
         ev("content_block_stop", R"({"type":"content_block_stop","index":1})") +
         ev("content_block_start",
            R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t2","name":"g","input":{}}})") +
         ev("content_block_stop", R"({"type":"content_block_stop","index":2})") +
         ev("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}})") +
         ev("message_stop", R"({"type":"message_stop"})"),
     {{"message", CHUNK(R"({"role":"assistant","content":""})", "null")},
      {"message", CHUNK(R"({"reasoning_content":"hm"})", "null")},
      {"message",
       CHUNK(R"({"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":""}}]})",
             "null")},
      {"message", CHUNK(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]})", "null")},
      {"message", CHUNK(R"({"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]})", "null")},
      {"message",
       CHUNK(R"({"tool_calls":[{"index":1,"id":"t2","type":"function","function":{"name":"g","arguments":""}}]})",
             "null")},
      {"message", CHUNK("{}", R"("tool_calls")")},
      {"message", "[DONE]"}}},
    {"MaxTokensIsLength",
     false,
     ev("message_start", kStart) +
         ev("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":3}})") +
         ev("message_stop", R"({"type":"message_stop"})"),
     {{"message", CHUNK(R"({"role":"assistant","content":""})", "null")},
      {"message", CHUNK("{}", R"("length")")},
      {"message", "[DONE]"}}},
    {"ErrorEventEndsTheStream",
     false,
     ev("message_start", kStart) +
         ev("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})") +
         ev("message_stop", R"({"type":"message_stop"})"),
     {{"message", CHUNK(R"({"role":"assistant","content":""})", "null")},
      {"message",
       R"({"error":{"message":"Overloaded","type":"service_unavailable_error","param":null,"code":"overloaded_error"}})"}},
     true},
    {"DataThatIsNoJsonFails",
     false,
     ev("message_start", "nope"),
     {{"message",
       R"({"error":{"message":"the upstream sent an event that is no JSON object","type":"server_error","param":null,"code":"api_error"}})"}},
     true},
};

INSTANTIATE_TEST_SUITE_P(Cases, AnthropicStreamDecoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AnthropicStreamDecoder, KeepsUsageForTheCaller) {
  AnthropicStreamDecoder decoder(0, false);
  std::string out;
  decoder.onEvent("message_start", kStart, out);
  decoder.onEvent("message_delta",
                  R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}})", out);
  EXPECT_EQ(decoder.usage().input, 10);
  EXPECT_EQ(decoder.usage().cache_read, 4);
  EXPECT_EQ(decoder.usage().cache_creation, 2);
  EXPECT_EQ(decoder.usage().output, 42);
  EXPECT_FALSE(decoder.ended());
}

}  // namespace
}  // namespace aigw::translate
