// The bottom response stage of a request that came in on the Anthropic Messages API: what the
// stages above wrote in OpenAI's shape (answers, streams, errors, the gateway's own errors)
// goes to the client in Anthropic's, as it passes. A same-API attempt's answer, already in
// Anthropic's shape, passes untouched.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/call.h"
#include "http/sse.h"
#include "pipeline/answer_source.h"
#include "pipeline/response_stage.h"
#include "translate/anthropic_stream_encoder.h"

namespace aigw {

class AnthropicAnswerStage final : public ResponseStage {
 public:
  // A whole answer larger than this is answered as a bad gateway instead of being held.
  static constexpr size_t kMaxWholeAnswer = 32 << 20;

  explicit AnthropicAnswerStage(ResponseStage& next) : ResponseStage(next) {}

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
  // An OpenAI-shaped whole answer (or error), in Anthropic's shape.
  void respondTranslated(int status, const http::HeaderList& headers, std::string_view body);
  void beginStream();
  static void onSseEvent(void* self, const http::SseDecoder::Event& event);

  const AnswerSource* source_ = nullptr;
  Endpoint endpoint_ = Endpoint::ChatCompletions;
  Mode mode_ = Mode::Idle;
  int status_ = 0;
  http::HeaderList headers_;                                // Whole: the head, until the end
  std::string body_;                                        // Whole: the body, until the end
  std::unique_ptr<translate::AnthropicStreamEncoder> encoder_;  // Stream
  std::unique_ptr<http::SseDecoder> sse_;                   // Stream
  std::string out_;                                         // Stream: the events for one write
};

}  // namespace aigw
