// Answers for clients of the gateway's Bedrock Converse API (/model/{id}/converse and
// /converse-stream): Converse answers, ConverseStream event-stream frames and Bedrock's errors
// (x-amzn-errortype), from OpenAI's shape (translate/bedrock_*).
#pragma once

#include "client_api/client_encoder.h"
#include "translate/bedrock_stream_encoder.h"

namespace aigw {

class BedrockClientEncoder final : public StreamingClientEncoder<translate::BedrockStreamEncoder> {
 public:
  translate::ApiError error(int status, std::string_view openai_body) const override;
  std::string errorBody(int status, std::string_view message) const override;
  void addErrorHeaders(int status, http::HeaderList& headers) const override;
  translate::Translation answer(const nlohmann::json& openai, std::string& out) const override;
  std::string_view streamType() const override { return "application/vnd.amazon.eventstream"; }
};

}  // namespace aigw
