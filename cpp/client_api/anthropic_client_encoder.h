// Answers for Anthropic Messages clients (/v1/messages): messages, the Messages event stream and
// Anthropic's errors, from OpenAI's shape (translate/anthropic_*).
#pragma once

#include "client_api/client_encoder.h"
#include "translate/anthropic_stream_encoder.h"

namespace aigw {

class AnthropicClientEncoder final : public StreamingClientEncoder<translate::AnthropicStreamEncoder> {
 public:
  translate::ApiError error(int status, std::string_view openai_body) const override;
  std::string errorBody(int status, std::string_view message) const override;
  translate::Translation answer(const nlohmann::json& openai, std::string& out) const override;
};

}  // namespace aigw
