// Token counts of one answer in Anthropic's terms (input excludes cache reads and writes), read
// from and written in both APIs' usage objects, so cached tokens survive either way.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace aigw::translate {

struct TokenUsage {
  int64_t input = 0;  // Anthropic input_tokens: not read from or written to the cache
  int64_t output = 0;
  int64_t cache_read = 0;      // Anthropic cache_read_input_tokens = OpenAI cached_tokens
  int64_t cache_creation = 0;  // Anthropic cache_creation_input_tokens (OpenAI has none)
  int64_t reasoning = 0;  // OpenAI reasoning_tokens, Gemini thoughtsTokenCount: a part of output

  // Anthropic usage (message, message_start or message_delta): sets the counts it has.
  void readAnthropic(const nlohmann::json& usage);
  // Bedrock Converse usage (inputTokens, outputTokens, cacheReadInputTokens,
  // cacheWriteInputTokens): the same split as Anthropic's, in camelCase.
  void readBedrock(const nlohmann::json& usage);
  // OpenAI usage: prompt_tokens includes cached_tokens, so input = prompt - cached.
  void readOpenAi(const nlohmann::json& usage);

  // {"prompt_tokens": input + cache read + cache creation, "completion_tokens", "total_tokens",
  //  "prompt_tokens_details":{"cached_tokens"}, and the raw cache_read_input_tokens and
  //  cache_creation_input_tokens}: what OpenAI clients and aigw's cost stage read, plus Anthropic's numbers;
  //  "completion_tokens_details":{"reasoning_tokens"} too when there were any.
  void appendOpenAi(std::string& out) const;
  // {"input_tokens","output_tokens","cache_read_input_tokens","cache_creation_input_tokens"}
  void appendAnthropic(std::string& out) const;
  // {"inputTokens","outputTokens","totalTokens" (all four counts),"cacheReadInputTokens","cacheWriteInputTokens"}
  void appendBedrock(std::string& out) const;
};

}  // namespace aigw::translate
