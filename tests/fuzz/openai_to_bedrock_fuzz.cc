// OpenAI <-> Bedrock translation on arbitrary input, read four ways: as a chat-completions
// request (BedrockRequestEncoder), as a chat.completion answer (encodeBedrockConverse, the
// mock's), as a Converse answer (decodeBedrockConverse, the provider's) and as an OpenAI chunk
// stream (BedrockStreamEncoder, read back by the event-stream decoder). Properties:
//  - a request is translated or refused naming a field; with every field droppable it is never
//    refused for a field that drop_params could drop; a translated one has messages whose roles
//    alternate, and no model or stream;
//  - an answer is translated into a Converse response that decodes back, or refused;
//  - the stream output is well-framed event-stream messages: messageStart first (or an
//    exception alone), and after finish() exactly one ending, metadata or an exception, last.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/aws_event_stream.h"
#include "http/sse.h"
#include "translate/bedrock_request_encoder.h"
#include "translate/bedrock_response_decoder.h"
#include "translate/bedrock_response_encoder.h"
#include "translate/bedrock_stream_encoder.h"
#include "translate_checks.h"

namespace {

using nlohmann::json;
using namespace aigw::translate;

const std::vector<std::string> kEveryDrop = {"n",
                                             "seed",
                                             "user",
                                             "logprobs",
                                             "top_logprobs",
                                             "presence_penalty",
                                             "frequency_penalty",
                                             "logit_bias",
                                             "metadata",
                                             "store",
                                             "response_format",
                                             "service_tier",
                                             "reasoning_effort",
                                             "parallel_tool_calls",
                                             "tool_choice",
                                             "messages.name",
                                             "messages.content.image_url",
                                             "messages.content.image_url.detail",
                                             "messages.content.file",
                                             "messages.content.input_audio",
                                             "tools.type",
                                             "messages.reasoning_content"};

void checkRequest(const json& body) {
  for (bool drop_all : {false, true}) {
    RequestOptions options;
    if (drop_all) options.drop_params = kEveryDrop;
    json out;
    const Translation t = BedrockRequestEncoder(options).encode(body, out);
    if (!t.ok) {
      aigw::fuzz::checkRefusal(t, drop_all, kEveryDrop);
      continue;
    }
    FUZZ_CHECK(out.is_object() && out["messages"].is_array(), "a translated request without messages");
    FUZZ_CHECK(!out.contains("model") && !out.contains("stream"), "model or stream in a Converse body");
    std::string last_role;
    for (const json& turn : out["messages"]) {
      const std::string role = turn.value("role", "");
      FUZZ_CHECK(role == "user" || role == "assistant", "role %s", role.c_str());
      FUZZ_CHECK(role != last_role, "two %s turns in a row", role.c_str());
      FUZZ_CHECK(turn["content"].is_array() && !turn["content"].empty(), "a turn without content");
      last_role = role;
    }
    aigw::fuzz::parsedOutput(out.dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

void checkAnswer(const json& body) {
  std::string out;
  if (encodeBedrockConverse(body, out).ok) {
    const json converse = aigw::fuzz::parsedOutput(out);
    std::string back;
    FUZZ_CHECK(decodeBedrockConverse(converse, 1, "m", back).ok, "an encoded answer does not decode: %.200s",
               out.c_str());
    aigw::fuzz::parsedOutput(back);
  }
  std::string openai;
  if (decodeBedrockConverse(body, 1, "m", openai).ok) {
    const json completion = aigw::fuzz::parsedOutput(openai);
    FUZZ_CHECK(completion["choices"].is_array() && completion["choices"].size() == 1, "not a chat.completion");
  }
}

void checkStream(std::string_view input) {
  struct Feed {
    BedrockStreamEncoder encoder;
    std::string out;
  } feed;
  aigw::http::SseDecoder decoder(
      [](void* ctx, const aigw::http::SseDecoder::Event& e) {
        auto* f = static_cast<Feed*>(ctx);
        f->encoder.onEvent(e.data, f->out);
      },
      &feed, 1 << 16);
  decoder.feed(input);
  feed.encoder.finish(feed.out);
  FUZZ_CHECK(feed.encoder.ended(), "finish() left the stream open");

  struct Frame {
    std::string message_type, event_type;
  };
  std::vector<Frame> frames;
  aigw::http::AwsEventStreamDecoder reader(
      [](void* ctx, const aigw::http::AwsEventStreamMessage& m) {
        FUZZ_CHECK(json::parse(m.payload, nullptr, false).is_object(), "a payload that is no JSON object");
        static_cast<std::vector<Frame>*>(ctx)->push_back({std::string(m.message_type), std::string(m.event_type)});
      },
      &frames);
  FUZZ_CHECK(reader.feed(feed.out) && reader.idle(), "the encoder wrote a broken frame: %s", reader.error().c_str());
  FUZZ_CHECK(!frames.empty(), "no frames");
  const bool failed = frames.back().message_type == "exception";
  FUZZ_CHECK(failed ? frames.size() == 1 || frames.front().event_type == "messageStart"
                    : frames.front().event_type == "messageStart" && frames.back().event_type == "metadata",
             "first %s, last %s", frames.front().event_type.c_str(), frames.back().event_type.c_str());
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    FUZZ_CHECK(frames[i].message_type == "event" && frames[i].event_type != "metadata", "an ending at %zu", i);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const json body = json::parse(input, nullptr, false);
  if (!body.is_discarded()) {
    checkRequest(body);
    checkAnswer(body);
  }
  checkStream(input);
  return 0;
}
