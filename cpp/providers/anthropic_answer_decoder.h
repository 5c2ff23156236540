// Answers of the Anthropic Messages API in OpenAI's shape (the AnswerDecoder of kind: anthropic):
// the translate layer's message and stream decoders behind the provider seam.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "http/sse.h"
#include "providers/answer_decoder.h"
#include "translate/anthropic_stream_decoder.h"

namespace aigw {

class AnthropicAnswerDecoder final : public AnswerDecoder {
 public:
  AnthropicAnswerDecoder(int64_t created, bool include_usage)
      : created_(created), stream_(created, include_usage), sse_(&AnthropicAnswerDecoder::onEvent, this) {}

  bool streams(const http::HeaderList& headers) const override { return http::isEventStream(headers); }
  void feed(std::string_view data, std::string& out) override;
  void finish(std::string& out) override { stream_.finish(out); }
  bool decode(std::string_view body, std::string& out, std::string* why) override;
  translate::ApiError error(int status, const http::HeaderList& headers, std::string_view body) override;
  const translate::TokenUsage& usage() const override { return whole_ ? usage_ : stream_.usage(); }

 private:
  static void onEvent(void* self, const http::SseDecoder::Event& event);

  int64_t created_;
  translate::AnthropicStreamDecoder stream_;
  http::SseDecoder sse_;
  std::string* out_ = nullptr;  // where the event being decoded writes
  translate::TokenUsage usage_;  // a whole answer's
  bool whole_ = false;
};

// Anthropic usage in an answer or event (message, message_start, message_delta): the
// UsageReader of same-API attempts, which relay Anthropic's bytes as they are.
bool extractAnthropicUsage(std::string_view json, CallUsage* usage);

}  // namespace aigw
