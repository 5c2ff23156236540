// The Anthropic Messages endpoints (POST /v1/messages and /v1/messages/count_tokens): the body
// checked the way Anthropic checks it (Anthropic's statuses and error shape), its model resolved
// to a route, and the request decoded into OpenAI's shape for the stages after this one, the
// client's own bytes kept for same-API attempts (pipeline/api_call.h).
#pragma once

#include "pipeline/request_stage.h"

namespace aigw {

class GatewayConfig;

// Fills the request's ApiCall, or answers the error and returns StopIteration.
FilterStatus acceptMessages(RequestContext& ex, const GatewayConfig& config, bool count_tokens);

}  // namespace aigw
