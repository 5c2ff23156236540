#include "providers/bedrock_answer_decoder.h"

#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "translate/bedrock_errors.h"
#include "translate/bedrock_response_decoder.h"

namespace aigw {

bool BedrockAnswerDecoder::streams(const http::HeaderList& headers) const {
  const std::string* type = headers.find("content-type");
  return type != nullptr && type->find("application/vnd.amazon.eventstream") != std::string::npos;
}

void BedrockAnswerDecoder::onMessage(void* self, const http::AwsEventStreamMessage& m) {
  auto* d = static_cast<BedrockAnswerDecoder*>(self);
  std::string& out = *d->out_;
  if (m.message_type == "event") {
    d->stream_.onEvent(m.event_type, m.payload, out);
  } else if (m.message_type == "exception") {
    d->stream_.onException(m.exception_type, m.payload, out);
  } else {
    std::string payload = "{\"message\":";
    appendJsonString(payload, m.error_message.empty() ? std::string_view("upstream error") : m.error_message);
    payload += "}";
    d->stream_.onException(m.error_code.empty() ? std::string_view("internalServerException") : m.error_code, payload,
                           out);
  }
}

void BedrockAnswerDecoder::broken(std::string_view why, std::string& out) {
  std::string payload = "{\"message\":";
  appendJsonString(payload, std::string("the upstream's event stream is broken: ") + std::string(why));
  payload += "}";
  stream_.onException("internalServerException", payload, out);
}

void BedrockAnswerDecoder::feed(std::string_view data, std::string& out) {
  if (stream_.ended() || frames_.failed()) return;
  out_ = &out;
  if (!frames_.feed(data)) broken(frames_.error(), out);
  out_ = nullptr;
}

void BedrockAnswerDecoder::finish(std::string& out) {
  if (!stream_.ended() && !frames_.failed() && !frames_.idle()) {
    broken("it ended inside a message", out);
    return;
  }
  stream_.finish(out);
}

bool BedrockAnswerDecoder::decode(std::string_view body, std::string& out, std::string* why) {
  const nlohmann::json doc = parseJson(body);
  if (doc.is_discarded()) {
    *why = "the body is no JSON";
    return false;
  }
  whole_ = true;
  const translate::Translation t = translate::decodeBedrockConverse(doc, created_, model_, out, &usage_, id_);
  if (!t.ok) *why = t.error.message;
  return t.ok;
}

translate::ApiError BedrockAnswerDecoder::error(int status, const http::HeaderList& headers, std::string_view body) {
  const std::string* type = headers.find("x-amzn-errortype");
  return translate::openAiErrorFromBedrock(status, body, type != nullptr ? std::string_view(*type) : std::string_view());
}

}  // namespace aigw
