// An OpenAI chat.completion -> a Gemini generateContent answer (non-streamed): what the mock
// answers a Gemini client with, the inverse of decodeGeminiResponse.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "translate/token_usage.h"
#include "translate/translation.h"

namespace aigw::translate {

// Appends to `gemini` the answer for `openai`: choices[i] becomes candidates[i] with role model
// (reasoning_content a thought part, content and refusal text parts, tool_calls functionCall
// parts with args parsed and any extra_content.google.thought_signature kept), finish_reason
// becomes finishReason, usage becomes usageMetadata, the id (less "chatcmpl-") responseId and
// the model modelVersion. Fails on a body that is no chat.completion or on tool arguments that
// are no JSON object (Gemini's args is one).
Translation encodeGeminiResponse(const nlohmann::json& openai, std::string& gemini, TokenUsage* usage = nullptr);

// A part list's functionCall part for one OpenAI tool call: {"functionCall":{"name","args"}} and
// its thoughtSignature. False, with nothing written, when `arguments` is no JSON object. Shared
// by the whole and streamed encoders.
bool appendGeminiFunctionCall(std::string& out, std::string_view name, std::string_view arguments,
                              std::string_view thought_signature);

// The id Gemini gets for an OpenAI id: "chatcmpl-" taken off, as decodeGeminiResponse puts it on.
std::string_view geminiResponseId(std::string_view openai_id);

}  // namespace aigw::translate
