// ConverseStream <-> OpenAI chunk streams: BedrockStreamDecoder (the provider's direction) fed
// event by event and from event-stream bytes split anywhere, and BedrockStreamEncoder (the
// mock's) read back through both decoders.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "http/aws_event_stream.h"
#include "translate/bedrock_stream_decoder.h"
#include "translate/bedrock_stream_encoder.h"
#include "translate/sse_events.h"

namespace aigw::translate {
namespace {

using nlohmann::json;
using testing::sseEvents;

struct Event {
  const char* type;
  const char* payload;
};

// A Converse stream as Bedrock sends it (payloads carry a "p" padding field).
const std::vector<Event> kToolStream = {
    {"messageStart", R"({"p":"abcdefgh","role":"assistant"})"},
    {"contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"think"}},"p":"ab"})"},
    {"contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig"}},"p":"ab"})"},
    {"contentBlockStop", R"({"contentBlockIndex":0,"p":"abc"})"},
    {"contentBlockDelta", R"({"contentBlockIndex":1,"delta":{"text":"Let me check"},"p":"ab"})"},
    {"contentBlockStop", R"({"contentBlockIndex":1,"p":"abc"})"},
    {"contentBlockStart", R"({"contentBlockIndex":2,"start":{"toolUse":{"name":"w","toolUseId":"tu1"}},"p":"a"})"},
    {"contentBlockDelta", R"({"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"city\":"}},"p":"ab"})"},
    {"contentBlockDelta", R"({"contentBlockIndex":2,"delta":{"toolUse":{"input":"\"Oslo\"}"}},"p":"ab"})"},
    {"contentBlockStop", R"({"contentBlockIndex":2,"p":"abc"})"},
    {"messageStop", R"({"p":"abc","stopReason":"tool_use"})"},
    {"metadata", R"({"metrics":{"latencyMs":812},"p":"ab","usage":{"inputTokens":20,"outputTokens":9,"totalTokens":31,"cacheReadInputTokens":2}})"},
};

const char* const kHead = R"("id":"chatcmpl-r1","object":"chat.completion.chunk","created":7,"model":"claude")";

std::string chunk(const std::string& delta, const char* finish = nullptr) {
  return std::string("{") + kHead + R"(,"choices":[{"index":0,"delta":)" + delta +
         R"(,"logprobs":null,"finish_reason":)" + (finish ? std::string("\"") + finish + "\"" : "null") + "}]}";
}

std::vector<std::string> expectedToolStream(bool include_usage) {
  std::vector<std::string> want = {
      chunk(R"({"role":"assistant","content":""})"),
      chunk(R"({"reasoning_content":"think"})"),
      chunk(R"({"content":"Let me check"})"),
      chunk(R"({"tool_calls":[{"index":0,"id":"tu1","type":"function","function":{"name":"w","arguments":""}}]})"),
      chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})"),
      chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]})"),
      chunk("{}", "tool_calls"),
  };
  if (include_usage) {
    want.push_back(std::string("{") + kHead +
                   R"(,"choices":[],"usage":{"prompt_tokens":22,"completion_tokens":9,"total_tokens":31,)"
                   R"("prompt_tokens_details":{"cached_tokens":2},"cache_read_input_tokens":2,"cache_creation_input_tokens":0}})");
  }
  want.push_back("[DONE]");
  return want;
}

void expectData(const std::string& sse, const std::vector<std::string>& want) {
  const auto events = sseEvents(sse);
  ASSERT_EQ(events.size(), want.size()) << sse;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(testing::sameEvent(events[i], {"message", want[i]})) << i << ": " << events[i].data;
  }
}

TEST(BedrockStreamDecoder, ToolStreamWithUsage) {
  BedrockStreamDecoder d(7, "claude", true, "r1");
  std::string out;
  for (const Event& e : kToolStream) d.onEvent(e.type, e.payload, out);
  EXPECT_TRUE(d.ended());
  EXPECT_FALSE(d.failed());
  expectData(out, expectedToolStream(true));
  EXPECT_EQ(d.usage().input, 20);
  EXPECT_EQ(d.usage().output, 9);
}

TEST(BedrockStreamDecoder, FromEventStreamBytesInRandomSplits) {
  std::string wire;
  for (const Event& e : kToolStream) http::appendEventStreamEvent(wire, e.type, e.payload);
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    struct Feed {
      BedrockStreamDecoder decoder{7, "claude", false, "r1"};
      std::string out;
    } feed;
    http::AwsEventStreamDecoder frames(
        [](void* ctx, const http::AwsEventStreamMessage& m) {
          auto* f = static_cast<Feed*>(ctx);
          f->decoder.onEvent(m.event_type, m.payload, f->out);
        },
        &feed);
    for (size_t pos = 0; pos < wire.size();) {
      const size_t n = std::min<size_t>(wire.size() - pos, 1 + rng() % 64);
      ASSERT_TRUE(frames.feed(std::string_view(wire).substr(pos, n)));
      pos += n;
    }
    expectData(feed.out, expectedToolStream(false));
  }
}

TEST(BedrockStreamDecoder, StreamWithoutMetadataEndsAtFinish) {
  BedrockStreamDecoder d(7, "claude", false, "r1");
  std::string out;
  d.onEvent("messageStart", R"({"role":"assistant"})", out);
  d.onEvent("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})", out);
  d.onEvent("messageStop", R"({"stopReason":"max_tokens"})", out);
  EXPECT_FALSE(d.ended());
  d.finish(out);
  EXPECT_TRUE(d.ended());
  EXPECT_FALSE(d.failed());
  expectData(out, {chunk(R"({"role":"assistant","content":""})"), chunk(R"({"content":"Hi"})"), chunk("{}", "length"),
                   "[DONE]"});
}

TEST(BedrockStreamDecoder, CutBeforeMessageStopIsAnError) {
  BedrockStreamDecoder d(7, "claude", false);
  std::string out;
  d.onEvent("messageStart", R"({"role":"assistant"})", out);
  out.clear();
  d.finish(out);
  EXPECT_TRUE(d.failed());
  const auto events = sseEvents(out);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(json::parse(events[0].data)["error"]["type"], "server_error");
}

TEST(BedrockStreamDecoder, ExceptionBecomesAnErrorChunkAndEnds) {
  BedrockStreamDecoder d(7, "claude", true);
  std::string out;
  d.onEvent("messageStart", R"({"role":"assistant"})", out);
  out.clear();
  d.onException("throttlingException", R"({"message":"Too many tokens, please wait"})", out);
  EXPECT_TRUE(d.failed());
  EXPECT_FALSE(d.onEvent("metadata", "{}", out));
  EXPECT_EQ(json::parse(sseEvents(out).at(0).data), json::parse(R"({"error":{"message":"Too many tokens, please wait",
    "type":"rate_limit_error","param":null,"code":"ThrottlingException"}})"));
}

TEST(BedrockStreamDecoder, ErrorMessageWithPlainTextPayload) {
  BedrockStreamDecoder d(7, "claude", false);
  std::string out;
  d.onException("InternalFailure", "the service failed", out);
  const json doc = json::parse(sseEvents(out).at(0).data);
  EXPECT_EQ(doc["error"]["message"], "the service failed");
  EXPECT_EQ(doc["error"]["code"], "InternalFailure");
  EXPECT_EQ(doc["error"]["type"], "server_error");
}

TEST(BedrockStreamDecoder, PayloadThatIsNoJsonEndsTheStream) {
  BedrockStreamDecoder d(7, "claude", false);
  std::string out;
  EXPECT_FALSE(d.onEvent("contentBlockDelta", "not json", out));
  EXPECT_TRUE(d.failed());
}

// The mock's direction: OpenAI chunks -> event-stream frames, read back by the provider's
// decoders, give back what went in.
TEST(BedrockStreamEncoder, RoundTripsThroughTheDecoders) {
  const std::vector<std::string> openai = {
      R"({"id":"x","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})",
      R"({"id":"x","model":"m","choices":[{"index":0,"delta":{"reasoning_content":"think"}}]})",
      R"({"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"Let me check"}}]})",
      R"({"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"tu1","type":"function","function":{"name":"w","arguments":""}}]}}]})",
      R"({"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]})",
      R"({"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}}]})",
      R"({"id":"x","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
      R"({"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":22,"completion_tokens":9,"total_tokens":31,"prompt_tokens_details":{"cached_tokens":2}}})",
      "[DONE]"};
  BedrockStreamEncoder encoder;
  std::string wire;
  for (const std::string& data : openai) encoder.onEvent(data, wire);
  EXPECT_TRUE(encoder.ended());

  struct Feed {
    BedrockStreamDecoder decoder{7, "claude", true, "r1"};
    std::string out;
    std::vector<std::string> types;
  } feed;
  http::AwsEventStreamDecoder frames(
      [](void* ctx, const http::AwsEventStreamMessage& m) {
        auto* f = static_cast<Feed*>(ctx);
        EXPECT_EQ(m.message_type, "event");
        EXPECT_EQ(m.content_type, "application/json");
        f->types.emplace_back(m.event_type);
        f->decoder.onEvent(m.event_type, m.payload, f->out);
      },
      &feed);
  ASSERT_TRUE(frames.feed(wire)) << frames.error();
  EXPECT_EQ(feed.types, (std::vector<std::string>{"messageStart", "contentBlockDelta", "contentBlockStop",
                                                  "contentBlockDelta", "contentBlockStop", "contentBlockStart",
                                                  "contentBlockDelta", "contentBlockDelta", "contentBlockStop",
                                                  "messageStop", "metadata"}));
  expectData(feed.out, expectedToolStream(true));
}

TEST(BedrockStreamEncoder, ErrorChunkBecomesAnException) {
  BedrockStreamEncoder encoder;
  std::string wire;
  encoder.onEvent(R"({"error":{"message":"slow down","type":"rate_limit_error"}})", wire);
  EXPECT_TRUE(encoder.failed());
  std::vector<std::pair<std::string, std::string>> seen;
  http::AwsEventStreamDecoder frames(
      [](void* ctx, const http::AwsEventStreamMessage& m) {
        static_cast<std::vector<std::pair<std::string, std::string>>*>(ctx)->emplace_back(m.exception_type, m.payload);
      },
      &seen);
  ASSERT_TRUE(frames.feed(wire));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, "throttlingException");
  EXPECT_EQ(json::parse(seen[0].second), json::parse(R"({"message":"slow down"})"));
}

TEST(BedrockStreamEncoder, FinishWithoutDoneStillEndsWithMetadata) {
  BedrockStreamEncoder encoder;
  std::string wire;
  encoder.onEvent(R"({"choices":[{"index":0,"delta":{"content":"Hi"}}]})", wire);
  encoder.finish(wire);
  EXPECT_TRUE(encoder.ended());
  EXPECT_FALSE(encoder.failed());
  std::vector<std::string> types;
  http::AwsEventStreamDecoder frames(
      [](void* ctx, const http::AwsEventStreamMessage& m) {
        static_cast<std::vector<std::string>*>(ctx)->emplace_back(m.event_type);
      },
      &types);
  ASSERT_TRUE(frames.feed(wire));
  EXPECT_EQ(types, (std::vector<std::string>{"messageStart", "contentBlockDelta", "contentBlockStop", "messageStop",
                                             "metadata"}));
}

}  // namespace
}  // namespace aigw::translate
