#include "translate/anthropic_response_encoder.h"

#include <string_view>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "translate/json_member.h"
#include "translate/json_path.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

namespace {

void appendTextBlock(std::string& out, std::string_view text, bool& first) {
  out += first ? "" : ",";
  first = false;
  out += "{\"type\":\"text\",\"text\":";
  appendJsonString(out, text);
  out += '}';
}

}  // namespace

Translation encodeAnthropicMessage(const json& openai, std::string& out, TokenUsage* usage_out) {
  Translation outcome;
  FieldPolicy policy({}, "an Anthropic client", outcome);
  const json& choices = member(openai, "choices");
  // member() of a non-object is null: an answer without choices falls through to the refusal.
  const json& choice = choices.is_array() && !choices.empty() ? choices[0] : member(choices, "");
  const json& message = member(choice, "message");
  if (!message.is_object()) {
    policy.refuse("choices", "the upstream answer is no chat.completion");
    return outcome;
  }
  TokenUsage usage;
  usage.readOpenAi(member(openai, "usage"));
  if (usage_out != nullptr) *usage_out = usage;

  out += "{\"id\":";
  appendJsonString(out, memberString(openai, "id"));
  out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  appendJsonString(out, memberString(openai, "model"));
  out += ",\"content\":[";
  bool first = true;
  // reasoning_content: DeepSeek's and vLLM's name; reasoning: OpenRouter's and Ollama's.
  std::string_view reasoning = memberString(message, "reasoning_content", memberString(message, "reasoning"));
  if (!reasoning.empty()) {
    out += "{\"type\":\"thinking\",\"thinking\":";
    appendJsonString(out, reasoning);
    out += ",\"signature\":\"\"}";
    first = false;
  }
  const json& content = member(message, "content");
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty())
      appendTextBlock(out, content.get_ref<const std::string&>(), first);
  } else if (content.is_array()) {
    for (const json& part : content) appendTextBlock(out, memberString(part, "text"), first);
  }
  const std::string_view refusal = memberString(message, "refusal");
  if (!refusal.empty()) appendTextBlock(out, refusal, first);
  const json& calls = member(message, "tool_calls");
  for (size_t i = 0; calls.is_array() && i < calls.size(); ++i) {
    const json& fn = member(calls[i], "function");
    const std::string_view args = memberString(fn, "arguments");
    json input = args.empty() ? json::object() : parseJson(args);
    if (!input.is_object()) {
      policy.refuse(jsonPath("choices[0].message.tool_calls", i, "function", "arguments"),
                    "the upstream's tool arguments are no JSON object");
      return outcome;
    }
    out += first ? "" : ",";
    first = false;
    out += "{\"type\":\"tool_use\",\"id\":";
    appendJsonString(out, memberString(calls[i], "id"));
    out += ",\"name\":";
    appendJsonString(out, memberString(fn, "name"));
    out += ",\"input\":";
    out += input.dump(-1, ' ', false, json::error_handler_t::replace);
    out += '}';
  }
  out += "],\"stop_reason\":";
  const std::string_view finish = memberString(choice, "finish_reason");
  if (finish.empty())
    out += "null";
  else
    appendJsonString(out, stopReasonForFinishReason(finish));
  out += ",\"stop_sequence\":null,\"usage\":";
  usage.appendAnthropic(out);
  out += '}';
  return outcome;
}

}  // namespace aigw::translate
