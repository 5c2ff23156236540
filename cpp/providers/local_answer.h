// Answers a provider (or the attempt loop) gives without calling anyone: a refusal, an endpoint
// the provider lacks, and Anthropic's /v1/messages/count_tokens for providers with no such
// endpoint (OpenAI-compatible ones, the mock), answered with the gateway's estimate.
#pragma once

#include <string>
#include <string_view>

#include "providers/provider.h"

namespace aigw {

// A JSON answer heard whole (head, body, end) before this returns; returns no call.
ProviderCallPtr answerNow(CallObserver& observer, int status, std::string_view body, http::HeaderList headers = {});

// The 400 body of a request the provider's API cannot express (`message` names the field).
std::string refusalBody(std::string_view message, std::string_view field);
// The 400 body for an endpoint the provider's API does not have.
std::string unsupportedEndpointBody(const Provider& provider, Endpoint endpoint);

// {"input_tokens": N} (providers/usage.h's estimate) with "x-aigw-token-count: estimate".
ProviderCallPtr answerTokenEstimate(const CallRequest& request, CallObserver& observer);

}  // namespace aigw
