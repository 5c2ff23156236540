// An OpenAI chat.completion -> a Bedrock Converse answer (non-streamed): what the mock answers
// when it plays a kind: bedrock upstream.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "translate/token_usage.h"
#include "translate/translation.h"

namespace aigw::translate {

// Appends to `converse` the Converse response for the first choice of `openai`:
// reasoning_content as a reasoningContent block, content and refusal as text blocks,
// tool_calls as toolUse blocks (arguments parsed), finish_reason as stopReason, usage in
// Bedrock's counts, metrics.latencyMs 0. Fails on a body that is no chat.completion or on tool
// arguments that are no JSON object.
Translation encodeBedrockConverse(const nlohmann::json& openai, std::string& converse, TokenUsage* usage = nullptr);

}  // namespace aigw::translate
