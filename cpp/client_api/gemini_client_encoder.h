// Answers for Gemini API clients (generateContent, streamGenerateContent?alt=sse): Gemini's
// responses, its SSE chunks and Google's errors, from OpenAI's shape (translate/gemini_*).
#pragma once

#include "client_api/client_encoder.h"
#include "translate/gemini_stream_encoder.h"

namespace aigw {

class GeminiClientEncoder final : public StreamingClientEncoder<translate::GeminiStreamEncoder> {
 public:
  translate::ApiError error(int status, std::string_view openai_body) const override;
  std::string errorBody(int status, std::string_view message) const override;
  translate::Translation answer(const nlohmann::json& openai, std::string& out) const override;
};

}  // namespace aigw
