#include "client_api/client_answer_stage.h"

#include <nlohmann/json.hpp>

#include "client_api/anthropic_client_encoder.h"
#include "client_api/bedrock_client_encoder.h"
#include "client_api/gemini_client_encoder.h"
#include "core/json_parse.h"

namespace aigw {
namespace {

http::HeaderList jsonHead(const http::HeaderList& headers) {
  http::HeaderList out = headers;
  out.set("content-type", "application/json");
  return out;
}

}  // namespace

std::unique_ptr<ClientEncoder> clientEncoder(ApiShape client) {
  switch (client) {
    case ApiShape::OpenAi: return nullptr;
    case ApiShape::Anthropic: return std::make_unique<AnthropicClientEncoder>();
    case ApiShape::Gemini: return std::make_unique<GeminiClientEncoder>();
    case ApiShape::Bedrock: return std::make_unique<BedrockClientEncoder>();
  }
  return nullptr;
}

void ClientAnswerStage::badGateway(const http::HeaderList& headers, std::string_view message) {
  http::HeaderList head = jsonHead(headers);
  encoder_->addErrorHeaders(502, head);
  next_.respond(502, head, encoder_->errorBody(502, message));
}

void ClientAnswerStage::respond(int status, const http::HeaderList& headers, std::string_view body) {
  mode_ = Mode::Idle;
  if (native()) {
    next_.respond(status, headers, body);
    return;
  }
  respondTranslated(status, headers, body);
}

void ClientAnswerStage::respondTranslated(int status, const http::HeaderList& headers, std::string_view body) {
  if (status >= 400) {
    const translate::ApiError error = encoder_->error(status, body);
    http::HeaderList head = jsonHead(headers);
    encoder_->addErrorHeaders(error.status, head);
    next_.respond(error.status, head, error.body);
    return;
  }
  // Token counts (Anthropic's count_tokens) are the client's shape whoever answered them.
  if (endpoint_ == Endpoint::CountTokens) {
    next_.respond(status, headers, body);
    return;
  }
  const nlohmann::json doc = parseJson(body);
  std::string out;
  const translate::Translation t =
      doc.is_discarded() ? translate::Translation{false, {{}, {}, "the answer is no JSON"}, {}}
                         : encoder_->answer(doc, out);
  if (!t.ok) {
    badGateway(headers, "the upstream's answer could not be translated: " + t.error.message);
    return;
  }
  next_.respond(status, jsonHead(headers), out);
}

void ClientAnswerStage::writeHead(int status, const http::HeaderList& headers, int64_t content_length) {
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
  if (encoder_->streamType() == "text/event-stream") {
    next_.writeHead(status, headers, -1);
    return;
  }
  http::HeaderList head = headers;
  head.set("content-type", std::string(encoder_->streamType()));
  next_.writeHead(status, head, -1);
}

void ClientAnswerStage::beginStream() {
  encoder_->beginStream();
  sse_ = std::make_unique<http::SseDecoder>(&ClientAnswerStage::onSseEvent, this);
}

void ClientAnswerStage::onSseEvent(void* self, const http::SseDecoder::Event& event) {
  auto* stage = static_cast<ClientAnswerStage*>(self);
  if (!stage->encoder_->streamEnded()) stage->encoder_->streamEvent(event.data, stage->out_);
}

void ClientAnswerStage::writeBody(std::string_view data) {
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
        badGateway(headers_, "the answer is larger than the gateway translates");
        return;
      }
      body_.append(data);
      return;
    case Mode::Stream: break;
  }
  out_.clear();
  if (!encoder_->streamEnded()) sse_->feed(data);
  if (!out_.empty()) next_.writeBody(out_);
}

void ClientAnswerStage::endResponse() {
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
      encoder_->endStream(out_);
      if (!out_.empty()) next_.writeBody(out_);
      break;
    case Mode::Dropped: mode_ = Mode::Idle; return;
    default: break;
  }
  mode_ = Mode::Idle;
  next_.endResponse();
}

void ClientAnswerStage::onEvent(AnswerEvent e) {
  if (e == AnswerEvent::Restart && (mode_ == Mode::Stream || mode_ == Mode::Native)) {
    // The client has the stream's head, so no retry follows: the gateway ends the stream with
    // its own error event (a cut), which goes out in the client's shape like the events before
    // it. Only an event half-fed from the dropped attempt is forgotten.
    if (sse_) sse_ = std::make_unique<http::SseDecoder>(&ClientAnswerStage::onSseEvent, this);
  } else if (e == AnswerEvent::Restart) {
    mode_ = Mode::Idle;
    body_.clear();
    sse_.reset();
  }
  ResponseStage::onEvent(e);
}

}  // namespace aigw
