#include "client_api/anthropic_answer_stage.h"

#include <nlohmann/json.hpp>

#include "translate/anthropic_response_encoder.h"
#include "translate/api_errors.h"

namespace aigw {
namespace {

http::HeaderList jsonHead(const http::HeaderList& headers) {
  http::HeaderList out = headers;
  out.set("content-type", "application/json");
  return out;
}

}  // namespace

void AnthropicAnswerStage::respond(int status, const http::HeaderList& headers, std::string_view body) {
  mode_ = Mode::Idle;
  if (native()) {
    next_.respond(status, headers, body);
    return;
  }
  respondTranslated(status, headers, body);
}

void AnthropicAnswerStage::respondTranslated(int status, const http::HeaderList& headers, std::string_view body) {
  if (status >= 400) {
    const translate::ApiError error = translate::anthropicErrorFromOpenAi(status, body);
    next_.respond(error.status, jsonHead(headers), error.body);
    return;
  }
  // Token counts are Anthropic's shape whoever answered them.
  if (endpoint_ == Endpoint::CountTokens) {
    next_.respond(status, headers, body);
    return;
  }
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  std::string out;
  const translate::Translation t =
      doc.is_discarded() ? translate::Translation{false, {{}, {}, "the answer is no JSON"}, {}}
                         : translate::encodeAnthropicMessage(doc, out);
  if (!t.ok) {
    next_.respond(502, jsonHead(headers),
                  translate::anthropicErrorBody("api_error", "the upstream's answer could not be translated: " + t.error.message));
    return;
  }
  next_.respond(status, jsonHead(headers), out);
}

void AnthropicAnswerStage::writeHead(int status, const http::HeaderList& headers, int64_t content_length) {
  if (native()) {
    mode_ = Mode::Native;
    next_.writeHead(status, headers, content_length);
    return;
  }
  if (status >= 400 || !http::isEventStream(headers)) {
    // Held whole: an answer's shape changes with its length, and errors are small.
    mode_ = Mode::Whole;
    status_ = status;
    headers_ = headers;
    body_.clear();
    return;
  }
  mode_ = Mode::Stream;
  beginStream();
  next_.writeHead(status, headers, -1);
}

void AnthropicAnswerStage::beginStream() {
  encoder_ = std::make_unique<translate::AnthropicStreamEncoder>();
  sse_ = std::make_unique<http::SseDecoder>(&AnthropicAnswerStage::onSseEvent, this);
}

void AnthropicAnswerStage::onSseEvent(void* self, const http::SseDecoder::Event& event) {
  auto* stage = static_cast<AnthropicAnswerStage*>(self);
  stage->encoder_->onEvent(event.data, stage->out_);
}

void AnthropicAnswerStage::writeBody(std::string_view data) {
  switch (mode_) {
    case Mode::Idle: next_.writeBody(data); return;
    case Mode::Dropped: return;
    case Mode::Native:
      if (native()) {
        next_.writeBody(data);
        return;
      }
      // The gateway ends a same-API stream with its own (OpenAI-shaped) error event.
      mode_ = Mode::Stream;
      beginStream();
      break;
    case Mode::Whole:
      if (body_.size() + data.size() > kMaxWholeAnswer) {
        mode_ = Mode::Dropped;
        body_.clear();
        next_.respond(502, jsonHead(headers_),
                      translate::anthropicErrorBody("api_error", "the answer is larger than the gateway translates"));
        return;
      }
      body_.append(data);
      return;
    case Mode::Stream: break;
  }
  out_.clear();
  if (!encoder_->ended()) sse_->feed(data);
  if (!out_.empty()) next_.writeBody(out_);
}

void AnthropicAnswerStage::endResponse() {
  switch (mode_) {
    case Mode::Whole: {
      mode_ = Mode::Idle;
      std::string body;
      body.swap(body_);
      respondTranslated(status_, headers_, body);
      return;
    }
    case Mode::Stream:
      out_.clear();
      if (!encoder_->ended()) encoder_->finish(out_);
      if (!out_.empty()) next_.writeBody(out_);
      break;
    case Mode::Dropped: mode_ = Mode::Idle; return;
    default: break;
  }
  mode_ = Mode::Idle;
  next_.endResponse();
}

void AnthropicAnswerStage::onEvent(AnswerEvent e) {
  if (e == AnswerEvent::Restart) {
    mode_ = Mode::Idle;
    body_.clear();
    encoder_.reset();
    sse_.reset();
  }
  ResponseStage::onEvent(e);
}

}  // namespace aigw
