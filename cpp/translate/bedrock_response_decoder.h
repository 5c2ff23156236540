// A Bedrock Converse answer (non-streamed) -> an OpenAI chat.completion: what an OpenAI client
// gets from a kind: bedrock provider. docs/providers-bedrock.md has the table.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "translate/token_usage.h"
#include "translate/translation.h"

namespace aigw::translate {

// Appends to `openai` the chat.completion for the Converse response `converse`: text blocks
// joined into content, toolUse blocks as tool_calls (input as a JSON string), reasoningContent
// as reasoning_content, stopReason as finish_reason, usage with cached tokens. Converse sends
// no id, model or time: `created` (unix seconds), `model` (the client's name for it) and `id`
// (the x-amzn-requestid, prefixed "chatcmpl-"; "chatcmpl-bedrock" when empty) fill them. Sets
// `usage` when given. Fails on a body that is no Converse response (the caller answers 502).
Translation decodeBedrockConverse(const nlohmann::json& converse, int64_t created, std::string_view model,
                                  std::string& openai, TokenUsage* usage = nullptr, std::string_view id = {});

// The chat.completion id for a Bedrock request id (shared with the stream decoder).
std::string bedrockCompletionId(std::string_view request_id);

}  // namespace aigw::translate
