// An OpenAI chat.completion -> an Anthropic Messages answer (non-streamed): what an Anthropic
// client (/v1/messages) gets from an OpenAI-compatible provider. docs/providers.md has the table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "translate/token_usage.h"
#include "translate/translation.h"

namespace aigw::translate {

// Appends to `anthropic` the message for the first choice of `openai`: reasoning_content as a
// thinking block (empty signature), content and refusal as text blocks, tool_calls as tool_use
// blocks (arguments parsed), finish_reason as stop_reason, usage with cached tokens. Fails on a
// body that is no chat.completion or on tool arguments that are no JSON object (Anthropic's
// input is one); the caller answers 502.
Translation encodeAnthropicMessage(const nlohmann::json& openai, std::string& anthropic, TokenUsage* usage = nullptr);

}  // namespace aigw::translate
