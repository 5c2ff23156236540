#include "translate/gemini_usage.h"

#include "core/json_text.h"
#include "translate/json_member.h"

namespace aigw::translate {

namespace {

int64_t count(const nlohmann::json& obj, std::string_view key, int64_t fallback) {
  const nlohmann::json& v = member(obj, key);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

}  // namespace

void readGeminiUsage(const nlohmann::json& m, TokenUsage& usage) {
  if (!m.is_object()) return;
  const int64_t prompt = count(m, "promptTokenCount", usage.input + usage.cache_read) + count(m, "toolUsePromptTokenCount", 0);
  usage.cache_read = count(m, "cachedContentTokenCount", usage.cache_read);
  usage.input = prompt > usage.cache_read ? prompt - usage.cache_read : 0;
  usage.reasoning = count(m, "thoughtsTokenCount", usage.reasoning);
  usage.output = count(m, "candidatesTokenCount", usage.output - usage.reasoning) + usage.reasoning;
}

void appendGeminiUsage(const TokenUsage& usage, std::string& out) {
  const int64_t prompt = usage.input + usage.cache_read + usage.cache_creation;
  out += "{\"promptTokenCount\":";
  appendJsonNumber(out, prompt);
  out += ",\"candidatesTokenCount\":";
  appendJsonNumber(out, usage.output - usage.reasoning);
  out += ",\"totalTokenCount\":";
  appendJsonNumber(out, prompt + usage.output);
  if (usage.cache_read > 0) {
    out += ",\"cachedContentTokenCount\":";
    appendJsonNumber(out, usage.cache_read);
  }
  if (usage.reasoning > 0) {
    out += ",\"thoughtsTokenCount\":";
    appendJsonNumber(out, usage.reasoning);
  }
  out += '}';
}

}  // namespace aigw::translate
