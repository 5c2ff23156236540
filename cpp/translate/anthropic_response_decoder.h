// An Anthropic Messages answer (non-streamed) -> an OpenAI chat.completion: what an OpenAI client
// gets from a kind: anthropic provider. docs/providers.md has the table.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "translate/token_usage.h"
#include "translate/translation.h"

namespace aigw::translate {

// Appends to `openai` the chat.completion for the message `anthropic`: text blocks joined into
// content, tool_use blocks as tool_calls (input as a JSON string), thinking as
// reasoning_content, stop_reason as finish_reason, usage with cached tokens. `created` (unix
// seconds) fills the field Anthropic does not send. Sets `usage` when given. Fails on a body
// that is no message (the caller answers 502).
Translation decodeAnthropicMessage(const nlohmann::json& anthropic, int64_t created, std::string& openai,
                                   TokenUsage* usage = nullptr);

}  // namespace aigw::translate
