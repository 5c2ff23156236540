// OpenAI -> Anthropic translation on arbitrary input, read three ways: as a chat-completions
// request (AnthropicRequestEncoder), as a chat.completion answer (encodeAnthropicMessage) and as
// an OpenAI chunk stream (AnthropicStreamEncoder). Properties:
//  - a request is translated or refused naming a field; with every field droppable it is never
//    refused for a field that drop_params could drop; a translated one has max_tokens;
//  - an answer is translated into a message with content, or refused;
//  - the stream output is SSE with JSON data: message_start first (or an error alone), blocks
//    opened once each with increasing indices, deltas only to opened blocks, and after finish()
//    exactly one ending, message_stop or error, as the last event.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/sse.h"
#include "translate/anthropic_request_encoder.h"
#include "translate/anthropic_response_encoder.h"
#include "translate/anthropic_stream_encoder.h"
#include "translate_checks.h"

namespace {

using nlohmann::json;
using namespace aigw::translate;

const std::vector<std::string> kEveryDrop = {"n",
                                             "seed",
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
                                             "tool_choice",
                                             "messages.name",
                                             "messages.content.image_url.detail",
                                             "messages.content.file",
                                             "messages.content.input_audio",
                                             "tools.type",
                                             "tools.function.strict",
                                             "messages.reasoning_content"};

void checkRequest(const json& body) {
  for (bool drop_all : {false, true}) {
    RequestOptions options;
    if (drop_all) options.drop_params = kEveryDrop;
    json out;
    const Translation t = AnthropicRequestEncoder(options).encode(body, out);
    if (!t.ok) {
      aigw::fuzz::checkRefusal(t, drop_all, kEveryDrop);
      continue;
    }
    FUZZ_CHECK(out.is_object() && out.contains("max_tokens"), "a translated request without max_tokens");
    aigw::fuzz::parsedOutput(out.dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

void checkAnswer(const json& body) {
  std::string out;
  if (!encodeAnthropicMessage(body, out).ok) return;
  const json message = aigw::fuzz::parsedOutput(out);
  FUZZ_CHECK(message["type"] == "message" && message["content"].is_array(), "not a message: %.200s", out.c_str());
}

void checkStream(std::string_view input) {
  struct Feed {
    AnthropicStreamEncoder encoder;
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
  const auto events = aigw::fuzz::outputEvents(feed.out);
  FUZZ_CHECK(!events.empty() && feed.encoder.ended(), "finish() left the stream open");
  const std::string& first = events.front().event;
  FUZZ_CHECK(first == "message_start" || (first == "error" && events.size() == 1), "first event: %s", first.c_str());
  std::set<int64_t> open, opened;
  int64_t last_index = -1;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& name = events[i].event;
    const bool last = i + 1 == events.size();
    FUZZ_CHECK(events[i].data.value("type", "") == name, "event %s says type %s", name.c_str(),
               events[i].data.value("type", "").c_str());
    FUZZ_CHECK((name == "message_stop" || name == "error") == last, "%s at %zu of %zu", name.c_str(), i, events.size());
    if (name == "content_block_start") {
      const int64_t index = events[i].data["index"].get<int64_t>();
      FUZZ_CHECK(index > last_index && open.empty(), "block %lld opened out of order", static_cast<long long>(index));
      last_index = index;
      open.insert(index);
      opened.insert(index);
    } else if (name == "content_block_delta") {
      FUZZ_CHECK(opened.count(events[i].data["index"].get<int64_t>()) == 1, "a delta to a block never opened");
    } else if (name == "content_block_stop") {
      FUZZ_CHECK(open.erase(events[i].data["index"].get<int64_t>()) == 1, "a block closed that was not open");
    } else if (name == "message_delta") {
      FUZZ_CHECK(open.empty(), "message_delta with a block open");
    }
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
