// Anthropic -> OpenAI translation on arbitrary input, read three ways: as a Messages request
// (AnthropicRequestDecoder), as a message answer (decodeAnthropicMessage) and as an Anthropic
// event stream (AnthropicStreamDecoder). Properties:
//  - a request is translated or refused naming a field; with every field droppable it is never
//    refused for a field drop_params names; a translated one has messages;
//  - an answer is translated into a chat.completion with one choice, or refused;
//  - the stream output is SSE whose data are JSON chunks (or one error chunk) sharing one id,
//    and nothing follows "[DONE]" or an error chunk.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/sse.h"
#include "translate/anthropic_request_decoder.h"
#include "translate/anthropic_response_decoder.h"
#include "translate/anthropic_stream_decoder.h"
#include "translate_checks.h"

namespace {

using nlohmann::json;
using namespace aigw::translate;

const std::vector<std::string> kEveryDrop = {"top_k",
                                             "thinking",
                                             "metadata",
                                             "service_tier",
                                             "tools.type",
                                             "messages.content.content",
                                             "messages.content.document",
                                             "messages.content.search_result",
                                             "container",
                                             "mcp_servers"};

void checkRequest(const json& body) {
  for (bool drop_all : {false, true}) {
    RequestOptions options;
    if (drop_all) options.drop_params = kEveryDrop;
    json out;
    const Translation t = AnthropicRequestDecoder(options).decode(body, out);
    if (!t.ok) {
      aigw::fuzz::checkRefusal(t, drop_all, kEveryDrop);
      continue;
    }
    FUZZ_CHECK(out.is_object() && out["messages"].is_array(), "a translated request without messages");
    aigw::fuzz::parsedOutput(out.dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

void checkAnswer(const json& body) {
  std::string out;
  if (!decodeAnthropicMessage(body, 1, out).ok) return;
  const json completion = aigw::fuzz::parsedOutput(out);
  FUZZ_CHECK(completion["choices"].is_array() && completion["choices"].size() == 1, "not one choice: %.200s",
             out.c_str());
}

void checkStream(std::string_view input, bool include_usage) {
  struct Feed {
    AnthropicStreamDecoder decoder{1, false};
    std::string out;
  } feed;
  feed.decoder = AnthropicStreamDecoder(1, include_usage);
  aigw::http::SseDecoder sse(
      [](void* ctx, const aigw::http::SseDecoder::Event& e) {
        auto* f = static_cast<Feed*>(ctx);
        f->decoder.onEvent(e.event, e.data, f->out);
      },
      &feed, 1 << 16);
  sse.feed(input);
  const auto events = aigw::fuzz::outputEvents(feed.out);
  std::string id;
  for (size_t i = 0; i < events.size(); ++i) {
    const bool last = i + 1 == events.size();
    if (events[i].data.is_null()) {
      FUZZ_CHECK(last && feed.decoder.ended() && !feed.decoder.failed(), "[DONE] not last, or the decoder not ended");
      continue;
    }
    if (events[i].data.contains("error")) {
      FUZZ_CHECK(last && feed.decoder.failed(), "an error chunk not last");
      continue;
    }
    FUZZ_CHECK(events[i].data["object"] == "chat.completion.chunk", "not a chunk");
    const std::string chunk_id = events[i].data["id"].get<std::string>();
    if (i == 0) id = chunk_id;
    FUZZ_CHECK(chunk_id == id, "chunks of one stream with two ids");
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
  checkStream(input, size % 2 == 0);
  return 0;
}
