#include "client_api/bedrock_client_encoder.h"

#include "translate/bedrock_errors.h"
#include "translate/bedrock_response_encoder.h"

namespace aigw {

translate::ApiError BedrockClientEncoder::error(int status, std::string_view openai_body) const {
  return translate::bedrockErrorFromOpenAi(status, openai_body);
}

std::string BedrockClientEncoder::errorBody(int, std::string_view message) const {
  return translate::bedrockErrorBody(message);
}

void BedrockClientEncoder::addErrorHeaders(int status, http::HeaderList& headers) const {
  // AWS's SDKs read the exception's name from this header (botocore: Error.Code).
  headers.set("x-amzn-errortype", std::string(translate::bedrockExceptionForStatus(status)));
}

translate::Translation BedrockClientEncoder::answer(const nlohmann::json& openai, std::string& out) const {
  return translate::encodeBedrockConverse(openai, out);
}

}  // namespace aigw
