#include "translate/token_usage.h"

#include "core/json_text.h"
#include "translate/json_member.h"

namespace aigw::translate {

namespace {

void readCount(const nlohmann::json& obj, std::string_view key, int64_t& into) {
  const nlohmann::json& v = member(obj, key);
  if (v.is_number_integer()) into = v.get<int64_t>();
}

}  // namespace

void TokenUsage::readAnthropic(const nlohmann::json& usage) {
  readCount(usage, "input_tokens", input);
  readCount(usage, "output_tokens", output);
  readCount(usage, "cache_read_input_tokens", cache_read);
  readCount(usage, "cache_creation_input_tokens", cache_creation);
}

void TokenUsage::readBedrock(const nlohmann::json& usage) {
  readCount(usage, "inputTokens", input);
  readCount(usage, "outputTokens", output);
  readCount(usage, "cacheReadInputTokens", cache_read);
  readCount(usage, "cacheWriteInputTokens", cache_creation);
}

void TokenUsage::readOpenAi(const nlohmann::json& usage) {
  int64_t prompt = input + cache_read + cache_creation;
  readCount(usage, "prompt_tokens", prompt);
  readCount(usage, "completion_tokens", output);
  readCount(member(usage, "prompt_tokens_details"), "cached_tokens", cache_read);
  readCount(member(usage, "completion_tokens_details"), "reasoning_tokens", reasoning);
  // Our own translation wrote these beside OpenAI's numbers; an Anthropic upstream behind
  // another aigw keeps its cache writes that way.
  readCount(usage, "cache_read_input_tokens", cache_read);
  readCount(usage, "cache_creation_input_tokens", cache_creation);
  input = prompt - cache_read - cache_creation;
  if (input < 0) input = 0;
}

void TokenUsage::appendOpenAi(std::string& out) const {
  const int64_t prompt = input + cache_read + cache_creation;
  out += "{\"prompt_tokens\":";
  appendJsonNumber(out, prompt);
  out += ",\"completion_tokens\":";
  appendJsonNumber(out, output);
  out += ",\"total_tokens\":";
  appendJsonNumber(out, prompt + output);
  out += ",\"prompt_tokens_details\":{\"cached_tokens\":";
  appendJsonNumber(out, cache_read);
  out += '}';
  if (reasoning > 0) {
    out += ",\"completion_tokens_details\":{\"reasoning_tokens\":";
    appendJsonNumber(out, reasoning);
    out += '}';
  }
  out += ",\"cache_read_input_tokens\":";
  appendJsonNumber(out, cache_read);
  out += ",\"cache_creation_input_tokens\":";
  appendJsonNumber(out, cache_creation);
  out += '}';
}

void TokenUsage::appendAnthropic(std::string& out) const {
  out += "{\"input_tokens\":";
  appendJsonNumber(out, input);
  out += ",\"output_tokens\":";
  appendJsonNumber(out, output);
  out += ",\"cache_read_input_tokens\":";
  appendJsonNumber(out, cache_read);
  out += ",\"cache_creation_input_tokens\":";
  appendJsonNumber(out, cache_creation);
  out += '}';
}

void TokenUsage::appendBedrock(std::string& out) const {
  out += "{\"inputTokens\":";
  appendJsonNumber(out, input);
  out += ",\"outputTokens\":";
  appendJsonNumber(out, output);
  out += ",\"totalTokens\":";
  appendJsonNumber(out, input + output + cache_read + cache_creation);
  out += ",\"cacheReadInputTokens\":";
  appendJsonNumber(out, cache_read);
  out += ",\"cacheWriteInputTokens\":";
  appendJsonNumber(out, cache_creation);
  out += '}';
}

}  // namespace aigw::translate
