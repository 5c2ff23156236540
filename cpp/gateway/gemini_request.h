// The Gemini API's generate endpoints (POST /v1beta/models/{model}:generateContent and
// :streamGenerateContent?alt=sse): the model resolved to a route and the request decoded into
// OpenAI's shape for the stages after this one; errors in Google's shape (the ClientAnswerStage).
// This is how `aigw mock` answers Gemini clients, and how any route serves them.
#pragma once

#include <string_view>

#include "pipeline/request_stage.h"

namespace aigw {

class GatewayConfig;

// Whether `path` is one of the Gemini API's model paths (/v1beta/models/...).
bool isGeminiPath(std::string_view path);

// Fills the request's ApiCall, or answers the error and returns StopIteration.
FilterStatus acceptGemini(RequestContext& ex, const GatewayConfig& config);

}  // namespace aigw
