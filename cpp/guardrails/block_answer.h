// How a guardrail's block reaches the client in place of the answer: a clean OpenAI-shaped error
// response when nothing went out yet, else an error event that ends the stream. Shared by the
// during, output and stream stages.
#pragma once

#include <string_view>

#include "guardrails/request_guardrails.h"
#include "http/exchange_api.h"

namespace aigw::guardrails {

// The block as the whole response (x-aigw-request-id, x-aigw-guardrail).
void respondBlock(http::ResponseWriter& out, const BlockInfo& block, std::string_view request_id);
// The block as the stream's last event, then its end.
void endStreamWithBlock(http::ResponseWriter& out, const BlockInfo& block);

}  // namespace aigw::guardrails
