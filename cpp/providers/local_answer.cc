#include "providers/local_answer.h"

#include "http/response.h"
#include "providers/usage.h"

namespace aigw {

ProviderCallPtr answerNow(CallObserver& observer, int status, std::string_view body, http::HeaderList headers) {
  headers.add("content-type", "application/json");
  observer.onCallHead(status, std::move(headers), static_cast<int64_t>(body.size()));
  observer.onCallBody(body);
  observer.onCallEnd(CallUsage{});
  return nullptr;
}

std::string refusalBody(std::string_view message, std::string_view field) {
  return http::openAiErrorBody(message, "invalid_request_error", "unsupported_parameter", field);
}

std::string unsupportedEndpointBody(const Provider& provider, Endpoint endpoint) {
  return http::openAiErrorBody("provider '" + provider.name() + "' (kind " + provider.kind() + ") has no " +
                                   endpointName(endpoint) + " endpoint",
                               "invalid_request_error", "unsupported_endpoint", {});
}

ProviderCallPtr answerTokenEstimate(const CallRequest& request, CallObserver& observer) {
  const int64_t tokens = estimatePromptTokens(Endpoint::CountTokens, request.body.get());
  http::HeaderList headers;
  headers.add("x-aigw-token-count", "estimate");
  return answerNow(observer, 200, "{\"input_tokens\":" + std::to_string(tokens) + "}", std::move(headers));
}

}  // namespace aigw
