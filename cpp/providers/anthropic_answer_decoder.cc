#include "providers/anthropic_answer_decoder.h"

#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "translate/anthropic_response_decoder.h"

namespace aigw {

void AnthropicAnswerDecoder::onEvent(void* self, const http::SseDecoder::Event& event) {
  auto* d = static_cast<AnthropicAnswerDecoder*>(self);
  d->stream_.onEvent(event.event, event.data, *d->out_);
}

void AnthropicAnswerDecoder::feed(std::string_view data, std::string& out) {
  if (stream_.ended()) return;
  out_ = &out;
  if (!sse_.feed(data) && !stream_.ended()) {
    stream_.onEvent("error", R"({"type":"error","error":{"type":"api_error","message":"the upstream sent an event larger than the gateway takes"}})", out);
  }
  out_ = nullptr;
}

bool AnthropicAnswerDecoder::decode(std::string_view body, std::string& out, std::string* why) {
  const nlohmann::json doc = parseJson(body);
  if (doc.is_discarded()) {
    *why = "the body is no JSON";
    return false;
  }
  whole_ = true;
  const translate::Translation t = translate::decodeAnthropicMessage(doc, created_, out, &usage_);
  if (!t.ok) *why = t.error.message;
  return t.ok;
}

translate::ApiError AnthropicAnswerDecoder::error(int status, const http::HeaderList&, std::string_view body) {
  return translate::openAiErrorFromAnthropic(status, body);
}

bool extractAnthropicUsage(std::string_view json, CallUsage* usage) {
  const nlohmann::json doc = parseJson(json);
  if (!doc.is_object()) return false;
  const nlohmann::json* u = nullptr;
  if (auto it = doc.find("usage"); it != doc.end() && it->is_object()) {
    u = &*it;
  } else if (auto m = doc.find("message"); m != doc.end() && m->is_object()) {
    if (auto mu = m->find("usage"); mu != m->end() && mu->is_object()) u = &*mu;
  }
  if (u == nullptr) return false;
  translate::TokenUsage t;
  // Counts a message_delta leaves out stay as an earlier event set them.
  t.input = usage->prompt_tokens >= 0 ? usage->prompt_tokens - std::max<int64_t>(usage->cached_tokens, 0) : 0;
  t.cache_read = std::max<int64_t>(usage->cached_tokens, 0);
  t.output = std::max<int64_t>(usage->completion_tokens, 0);
  t.readAnthropic(*u);
  *usage = callUsage(t);
  return true;
}

}  // namespace aigw
