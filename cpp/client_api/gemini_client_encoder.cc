#include "client_api/gemini_client_encoder.h"

#include "translate/gemini_errors.h"
#include "translate/gemini_response_encoder.h"

namespace aigw {

translate::ApiError GeminiClientEncoder::error(int status, std::string_view openai_body) const {
  return translate::geminiErrorFromOpenAi(status, openai_body);
}

std::string GeminiClientEncoder::errorBody(int status, std::string_view message) const {
  return translate::geminiErrorBody(status, message);
}

translate::Translation GeminiClientEncoder::answer(const nlohmann::json& openai, std::string& out) const {
  return translate::encodeGeminiResponse(openai, out);
}

}  // namespace aigw
