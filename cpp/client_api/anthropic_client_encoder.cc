#include "client_api/anthropic_client_encoder.h"

#include "translate/anthropic_response_encoder.h"

namespace aigw {

translate::ApiError AnthropicClientEncoder::error(int status, std::string_view openai_body) const {
  return translate::anthropicErrorFromOpenAi(status, openai_body);
}

std::string AnthropicClientEncoder::errorBody(int status, std::string_view message) const {
  return translate::anthropicErrorBody(translate::anthropicErrorTypeForStatus(status), message);
}

translate::Translation AnthropicClientEncoder::answer(const nlohmann::json& openai, std::string& out) const {
  return translate::encodeAnthropicMessage(openai, out);
}

}  // namespace aigw
