#include "translate/anthropic_response_decoder.h"

#include <string_view>

#include "core/json_text.h"
#include "translate/json_member.h"
#include "translate/json_path.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

Translation decodeAnthropicMessage(const json& anthropic, int64_t created, std::string& out, TokenUsage* usage_out) {
  Translation outcome;
  FieldPolicy policy({}, "an OpenAI client", outcome);
  const json& content = member(anthropic, "content");
  if (memberString(anthropic, "type") != "message" || !content.is_array()) {
    policy.refuse("", "the upstream answer is no Anthropic message");
    return outcome;
  }
  // Joined in order; redacted_thinking (encrypted) and thinking signatures have no OpenAI field.
  std::string text, reasoning;
  bool has_text = false;
  size_t tool_calls = 0;
  std::string calls;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& block = content[i];
    const std::string_view type = memberString(block, "type");
    if (type == "text") {
      text += memberString(block, "text");
      has_text = true;
    } else if (type == "thinking") {
      reasoning += memberString(block, "thinking");
    } else if (type == "tool_use") {
      calls += tool_calls++ == 0 ? "[" : ",";
      calls += "{\"id\":";
      appendJsonString(calls, memberString(block, "id"));
      calls += ",\"type\":\"function\",\"function\":{\"name\":";
      appendJsonString(calls, memberString(block, "name"));
      calls += ",\"arguments\":";
      const json& input = member(block, "input");
      appendJsonString(calls, input.is_null() ? "{}" : input.dump(-1, ' ', false, json::error_handler_t::replace));
      calls += "}}";
    }
  }
  TokenUsage usage;
  usage.readAnthropic(member(anthropic, "usage"));
  if (usage_out != nullptr) *usage_out = usage;

  out.reserve(out.size() + 256 + text.size() + reasoning.size() + calls.size());
  out += "{\"id\":";
  appendJsonString(out, memberString(anthropic, "id"));
  out += ",\"object\":\"chat.completion\",\"created\":";
  appendJsonNumber(out, created);
  out += ",\"model\":";
  appendJsonString(out, memberString(anthropic, "model"));
  out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
  if (has_text)
    appendJsonString(out, text);
  else
    out += "null";
  if (!reasoning.empty()) {
    out += ",\"reasoning_content\":";
    appendJsonString(out, reasoning);
  }
  if (tool_calls > 0) {
    out += ",\"tool_calls\":";
    out += calls;
    out += ']';
  }
  out += "},\"logprobs\":null,\"finish_reason\":";
  const json& stop = member(anthropic, "stop_reason");
  if (stop.is_string())
    appendJsonString(out, finishReasonForStopReason(stop.get_ref<const std::string&>()));
  else
    out += "null";
  out += "}],\"usage\":";
  usage.appendOpenAi(out);
  out += '}';
  return outcome;
}

}  // namespace aigw::translate
