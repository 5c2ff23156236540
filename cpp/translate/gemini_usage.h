// Gemini's usageMetadata read into and written from TokenUsage, so an answer's counts (cached
// prompt tokens, thinking tokens) reach OpenAI's usage object and back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "translate/token_usage.h"

namespace aigw::translate {

// promptTokenCount includes cachedContentTokenCount; candidatesTokenCount excludes
// thoughtsTokenCount, which OpenAI counts in completion_tokens (as reasoning_tokens);
// toolUsePromptTokenCount is prompt too. Sets only the counts that are present.
void readGeminiUsage(const nlohmann::json& usage_metadata, TokenUsage& usage);

// {"promptTokenCount","candidatesTokenCount","totalTokenCount"} plus cachedContentTokenCount and
// thoughtsTokenCount when not zero: the inverse of the above, for the mock.
void appendGeminiUsage(const TokenUsage& usage, std::string& out);

}  // namespace aigw::translate
