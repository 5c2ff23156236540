#include "providers/local_answer.h"

#include "providers/usage.h"

namespace aigw {

ProviderCallPtr answerNow(CallObserver& observer, int status, std::string_view body, http::HeaderList headers) {
  headers.add("content-type", "application/json");
  observer.onCallHead(status, std::move(headers), static_cast<int64_t>(body.size()));
  observer.onCallBody(body);
  observer.onCallEnd(CallUsage{});
  return nullptr;
}

ProviderCallPtr answerTokenEstimate(const CallRequest& request, CallObserver& observer) {
  const int64_t tokens = estimatePromptTokens(Endpoint::CountTokens, request.body.get());
  http::HeaderList headers;
  headers.add("x-aigw-token-count", "estimate");
  return answerNow(observer, 200, "{\"input_tokens\":" + std::to_string(tokens) + "}", std::move(headers));
}

}  // namespace aigw
