// Token usage of OpenAI-shaped calls: what an answer reports (found in a JSON body or stream
// event without parsing the whole document), and a deterministic estimate of a request's input.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>

#include "core/call.h"

namespace aigw {

// Returns true when `json` has a non-null top-level-looking "usage" object with a token count,
// and sets the counts that object has (leaving the others as they were), cached prompt
// tokens included.
bool extractUsage(std::string_view json, CallUsage* usage);

// The request asks for a stream's last usage chunk (stream_options.include_usage: true).
bool asksForStreamUsage(const nlohmann::json& body);

// A deterministic token estimate of the request's input (about four bytes a token, plus 4 per
// chat message and 3 per request): the mock's prompt tokens and the `limits` guardrail's
// max_input_tokens. Far too rough to bill by.
int64_t estimatePromptTokens(Endpoint endpoint, const nlohmann::json& body);

}  // namespace aigw
