#include "providers/gemini_answer_decoder.h"

#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "translate/gemini_embeddings.h"
#include "translate/gemini_errors.h"
#include "translate/gemini_response_decoder.h"

namespace aigw {

void GeminiAnswerDecoder::onEvent(void* self, const http::SseDecoder::Event& event) {
  auto* d = static_cast<GeminiAnswerDecoder*>(self);
  d->stream_.onEvent(event.data, *d->out_);
}

void GeminiAnswerDecoder::feed(std::string_view data, std::string& out) {
  if (stream_.ended()) return;
  out_ = &out;
  if (!sse_.feed(data) && !stream_.ended()) {
    stream_.onEvent(R"({"error":{"code":502,"message":"the upstream sent an event larger than the gateway takes","status":"UNAVAILABLE"}})", out);
  }
  out_ = nullptr;
}

bool GeminiAnswerDecoder::decode(std::string_view body, std::string& out, std::string* why) {
  const nlohmann::json doc = parseJson(body);
  if (doc.is_discarded()) {
    *why = "the body is no JSON";
    return false;
  }
  whole_ = true;
  const translate::Translation t =
      options_.embeddings ? translate::decodeGeminiEmbeddings(doc, model_, out, &usage_, options_.base64)
                          : translate::decodeGeminiResponse(doc, options_.created, model_, out, &usage_);
  if (!t.ok) *why = t.error.message;
  return t.ok;
}

translate::ApiError GeminiAnswerDecoder::error(int status, const http::HeaderList&, std::string_view body) {
  return translate::openAiErrorFromGemini(status, body);
}

}  // namespace aigw
