// A Gemini generateContent answer (non-streamed) -> an OpenAI chat.completion: what an OpenAI
// client gets from a kind: gemini provider. docs/providers-gemini.md has the table.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "translate/token_usage.h"
#include "translate/translation.h"

namespace aigw::translate {

// Appends to `openai` the chat.completion for the answer `gemini`: candidates[i] becomes
// choices[i] (text parts joined into content, thought parts into reasoning_content,
// functionCall parts into tool_calls with ids call_<n>), finishReason becomes finish_reason,
// usageMetadata becomes usage. A prompt blocked before any candidate (promptFeedback.blockReason)
// is one empty choice ending content_filter. `created` and `model` (the route's model; Gemini's
// modelVersion when empty) fill what Gemini does not send. Sets `usage` when given. Fails on a
// body that is no generateContent answer (the caller answers 502).
Translation decodeGeminiResponse(const nlohmann::json& gemini, int64_t created, std::string_view model,
                                 std::string& openai, TokenUsage* usage = nullptr);

// One functionCall part as an OpenAI tool call, {"id":"call_<n>","type":"function","function":
// {"name","arguments"}} (args as a JSON string), its thoughtSignature kept where Google's own
// OpenAI-compatible endpoint puts it: "extra_content":{"google":{"thought_signature"}}. `index`
// (>= 0) adds the "index" a stream's tool call delta has. Shared by the whole and streamed
// decoders.
void appendGeminiToolCall(std::string& out, const nlohmann::json& part, int64_t call_number, int64_t index = -1);

}  // namespace aigw::translate
