#include "translate/bedrock_response_encoder.h"

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
  if (text.empty()) return;  // Converse never sends a blank text block
  out += first ? "" : ",";
  first = false;
  out += "{\"text\":";
  appendJsonString(out, text);
  out += '}';
}

}  // namespace

Translation encodeBedrockConverse(const json& openai, std::string& out, TokenUsage* usage_out) {
  Translation outcome;
  FieldPolicy policy({}, "a Bedrock client", outcome);
  const json& choices = member(openai, "choices");
  const json& choice = choices.is_array() && !choices.empty() ? choices[0] : member(choices, "");
  const json& message = member(choice, "message");
  if (!message.is_object()) {
    policy.refuse("choices", "the upstream answer is no chat.completion");
    return outcome;
  }
  TokenUsage usage;
  usage.readOpenAi(member(openai, "usage"));
  if (usage_out != nullptr) *usage_out = usage;

  out += "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[";
  bool first = true;
  const std::string_view reasoning = memberString(message, "reasoning_content", memberString(message, "reasoning"));
  if (!reasoning.empty()) {
    out += "{\"reasoningContent\":{\"reasoningText\":{\"text\":";
    appendJsonString(out, reasoning);
    out += "}}}";
    first = false;
  }
  const json& content = member(message, "content");
  if (content.is_string()) {
    appendTextBlock(out, content.get_ref<const std::string&>(), first);
  } else if (content.is_array()) {
    for (const json& part : content) appendTextBlock(out, memberString(part, "text"), first);
  }
  appendTextBlock(out, memberString(message, "refusal"), first);
  const json& calls = member(message, "tool_calls");
  for (size_t i = 0; calls.is_array() && i < calls.size(); ++i) {
    const json& fn = member(calls[i], "function");
    const std::string_view args = memberString(fn, "arguments");
    const json input = args.empty() ? json::object() : parseJson(args);
    if (!input.is_object()) {
      policy.refuse(jsonPath("choices[0].message.tool_calls", i, "function", "arguments"),
                    "the upstream's tool arguments are no JSON object");
      return outcome;
    }
    out += first ? "" : ",";
    first = false;
    out += "{\"toolUse\":{\"toolUseId\":";
    appendJsonString(out, memberString(calls[i], "id"));
    out += ",\"name\":";
    appendJsonString(out, memberString(fn, "name"));
    out += ",\"input\":";
    out += input.dump(-1, ' ', false, json::error_handler_t::replace);
    out += "}}";
  }
  out += "]}},\"stopReason\":";
  appendJsonString(out, bedrockStopReasonForFinishReason(memberString(choice, "finish_reason", "stop")));
  out += ",\"usage\":";
  usage.appendBedrock(out);
  out += ",\"metrics\":{\"latencyMs\":0}}";
  return outcome;
}

}  // namespace aigw::translate
