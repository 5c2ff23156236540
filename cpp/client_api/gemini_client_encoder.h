// Answers for Gemini API clients (generateContent, streamGenerateContent?alt=sse): Gemini's
// responses, its SSE chunks and Google's errors, from OpenAI's shape (translate/gemini_*).
#pragma once

#include <optional>

#include "client_api/client_encoder.h"
#include "translate/gemini_stream_encoder.h"

namespace aigw {

class GeminiClientEncoder final : public ClientEncoder {
 public:
  translate::ApiError error(int status, std::string_view openai_body) const override;
  std::string errorBody(int status, std::string_view message) const override;
  translate::Translation answer(const nlohmann::json& openai, std::string& out) const override;
  void beginStream() override { stream_.emplace(); }
  void streamEvent(std::string_view data, std::string& out) override { stream_->onEvent(data, out); }
  void endStream(std::string& out) override {
    if (!stream_->ended()) stream_->finish(out);
  }
  bool streamEnded() const override { return stream_->ended(); }

 private:
  std::optional<translate::GeminiStreamEncoder> stream_;
};

}  // namespace aigw
