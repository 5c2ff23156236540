// OpenAI <-> Gemini translation on arbitrary input, read every way the gateway reads it: as a
// chat-completions or embeddings request (GeminiRequestEncoder, GeminiEmbeddingsEncoder), as a
// Gemini answer (decodeGeminiResponse, decodeGeminiEmbeddings), as an OpenAI answer for the mock
// (encodeGeminiResponse, encodeGeminiEmbeddings), and as an event stream both ways
// (GeminiStreamDecoder, GeminiStreamEncoder). Properties:
//  - a request is translated into a JSON object or refused naming a field with a message; with
//    every field droppable it is never refused for a field that drop_params could drop;
//  - an answer is translated into a chat.completion with at least one choice, or refused; what
//    the mock encodes decodes back with as many choices;
//  - the decoded stream is SSE with JSON data: it ends exactly once, with [DONE] or an error
//    chunk, as its last event, and every chunk before carries choices or usage;
//  - the mock's Gemini stream is SSE with JSON data, and unless it failed, decodes without error.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/sse.h"
#include "translate/gemini_embeddings.h"
#include "translate/gemini_request_encoder.h"
#include "translate/gemini_response_decoder.h"
#include "translate/gemini_response_encoder.h"
#include "translate/gemini_stream_decoder.h"
#include "translate/gemini_stream_encoder.h"
#include "translate_checks.h"

namespace {

using nlohmann::json;
using namespace aigw::translate;

const std::vector<std::string> kEveryDrop = {"parallel_tool_calls",
                                             "logprobs",
                                             "top_logprobs",
                                             "store",
                                             "logit_bias",
                                             "metadata",
                                             "service_tier",
                                             "user",
                                             "response_format",
                                             "reasoning_effort",
                                             "tool_choice",
                                             "tools.type",
                                             "tools.function.strict",
                                             "messages.name",
                                             "messages.reasoning_content",
                                             "messages.content.image_url.detail",
                                             "messages.content.file",
                                             "messages.content.input_file"};

void checkRequest(const json& body) {
  for (bool drop_all : {false, true}) {
    RequestOptions options;
    if (drop_all) options.drop_params = kEveryDrop;
    json out;
    const Translation t = GeminiRequestEncoder(options).encode(body, out);
    if (!t.ok) {
      aigw::fuzz::checkRefusal(t, drop_all, kEveryDrop);
    } else {
      FUZZ_CHECK(!out.contains("model") && !out.contains("stream"), "model or stream written into the body");
      aigw::fuzz::parsedOutput(out.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    json embed;
    const Translation e = GeminiEmbeddingsEncoder(options).encode(body, "m", embed);
    if (!e.ok) {
      aigw::fuzz::checkRefusal(e, drop_all, kEveryDrop);
    } else {
      FUZZ_CHECK(embed["requests"].is_array() && !embed["requests"].empty(), "an embeddings body without requests");
    }
  }
}

void checkAnswer(const json& body) {
  std::string out;
  if (decodeGeminiResponse(body, 1, "m", out).ok) {
    const json completion = aigw::fuzz::parsedOutput(out);
    FUZZ_CHECK(completion["object"] == "chat.completion" && !completion["choices"].empty(), "not a completion: %.200s",
               out.c_str());
  }
  std::string gemini;
  if (encodeGeminiResponse(body, gemini).ok) {
    const json answer = aigw::fuzz::parsedOutput(gemini);
    std::string back;
    FUZZ_CHECK(decodeGeminiResponse(answer, 1, "m", back).ok, "the mock's answer does not decode: %.200s",
               gemini.c_str());
    FUZZ_CHECK(json::parse(back)["choices"].size() == body.at("choices").size(), "choices lost in a round trip");
  }
  std::string list;
  if (decodeGeminiEmbeddings(body, "m", list, nullptr, body.size() % 2 == 1).ok) aigw::fuzz::parsedOutput(list);
  std::string embeddings;
  if (encodeGeminiEmbeddings(body, embeddings).ok) aigw::fuzz::parsedOutput(embeddings);
}

template <typename Translator>
std::string feedStream(std::string_view input, Translator& translator) {
  struct Feed {
    Translator* translator;
    std::string out;
  } feed{&translator, {}};
  aigw::http::SseDecoder decoder(
      [](void* ctx, const aigw::http::SseDecoder::Event& e) {
        auto* f = static_cast<Feed*>(ctx);
        f->translator->onEvent(e.data, f->out);
      },
      &feed, 1 << 16);
  decoder.feed(input);
  translator.finish(feed.out);
  return std::move(feed.out);
}

void checkDecodedStream(const std::string& out, const GeminiStreamDecoder& decoder) {
  const auto events = aigw::fuzz::outputEvents(out);
  FUZZ_CHECK(!events.empty() && decoder.ended(), "finish() left the stream open");
  for (size_t i = 0; i < events.size(); ++i) {
    const json& data = events[i].data;
    const bool ending = data.is_null() || data.contains("error");
    FUZZ_CHECK(ending == (i + 1 == events.size()), "an ending at %zu of %zu", i, events.size());
    FUZZ_CHECK(ending || data["choices"].is_array(), "a chunk without choices");
  }
  FUZZ_CHECK(decoder.failed() == !events.back().data.is_null(), "failed() disagrees with the last event");
}

void checkStreams(std::string_view input) {
  GeminiStreamDecoder decoder(1, "m", input.size() % 2 == 0);
  checkDecodedStream(feedStream(input, decoder), decoder);

  GeminiStreamEncoder encoder;
  const std::string gemini = feedStream(input, encoder);
  FUZZ_CHECK(encoder.ended(), "finish() left the mock's stream open");
  const auto events = aigw::fuzz::outputEvents(gemini);
  if (encoder.failed() || events.empty()) return;
  GeminiStreamDecoder back(1, "m", true);
  checkDecodedStream(feedStream(gemini, back), back);
  FUZZ_CHECK(!back.failed(), "the mock's stream does not decode: %.300s", gemini.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const json body = json::parse(input, nullptr, false);
  if (!body.is_discarded()) {
    checkRequest(body);
    checkAnswer(body);
  }
  checkStreams(input);
  return 0;
}
