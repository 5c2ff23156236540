// The bottom response stage of a request that came in on another API than OpenAI's (Anthropic
// Messages, Gemini): what the stages above wrote in OpenAI's shape (answers, streams, errors, the
// gateway's own errors) goes to the client in its API's shape as it passes, through the API's
// ClientEncoder. A same-API attempt's answer, already in the client's shape, passes untouched.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "client_api/client_encoder.h"
#include "core/call.h"
#include "http/sse.h"
#include "pipeline/answer_source.h"
#include "pipeline/response_stage.h"

namespace aigw {

class ClientAnswerStage final : public ResponseStage {
 public:
  // A whole answer larger than this is answered as a bad gateway instead of being held.
  static constexpr size_t kMaxWholeAnswer = 32 << 20;

  ClientAnswerStage(ResponseStage& next, std::unique_ptr<ClientEncoder> encoder)
      : ResponseStage(next), encoder_(std::move(encoder)) {}

  // Who writes the answer, once the request is dispatched (before: only the gateway's own
  // errors, OpenAI-shaped). count_tokens answers are Anthropic-shaped from every provider.
  void attach(const AnswerSource& source, Endpoint endpoint) {
    source_ = &source;
    endpoint_ = endpoint;
  }

  void respond(int status, const http::HeaderList& headers, std::string_view body) override;
  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override;
  void writeBody(std::string_view data) override;
  void endResponse() override;
  bool headSent() const override { return mode_ == Mode::Whole ? false : ResponseStage::headSent(); }
  void onEvent(AnswerEvent e) override;

 private:
  // Dropped: the answer was replaced (too large to translate); the rest of it goes nowhere.
  enum class Mode { Idle, Native, Whole, Stream, Dropped };

  bool native() const { return source_ != nullptr && source_->answerShape() != ApiShape::OpenAi; }
  // An OpenAI-shaped whole answer (or error), in the client's shape.
  void respondTranslated(int status, const http::HeaderList& headers, std::string_view body);
  void badGateway(const http::HeaderList& headers, std::string_view message);
  void beginStream();
  static void onSseEvent(void* self, const http::SseDecoder::Event& event);

  std::unique_ptr<ClientEncoder> encoder_;
  const AnswerSource* source_ = nullptr;
  Endpoint endpoint_ = Endpoint::ChatCompletions;
  Mode mode_ = Mode::Idle;
  int status_ = 0;
  http::HeaderList headers_;               // Whole: the head, until the end
  std::string body_;                       // Whole: the body, until the end
  std::unique_ptr<http::SseDecoder> sse_;  // Stream
  std::string out_;                        // Stream: the client's bytes for one write
};

}  // namespace aigw
