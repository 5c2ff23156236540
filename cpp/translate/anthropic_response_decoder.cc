#include "translate/anthropic_response_decoder.h"

#include <string_view>

#include "translate/chat_completion.h"
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
  CompletionContent message;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& block = content[i];
    const std::string_view type = memberString(block, "type");
    if (type == "text") {
      message.text += memberString(block, "text");
      message.has_text = true;
    } else if (type == "thinking") {
      message.reasoning += memberString(block, "thinking");
    } else if (type == "tool_use") {
      message.addToolCall(memberString(block, "id"), memberString(block, "name"), member(block, "input"));
    }
  }
  TokenUsage usage;
  usage.readAnthropic(member(anthropic, "usage"));
  if (usage_out != nullptr) *usage_out = usage;
  const json& stop = member(anthropic, "stop_reason");
  appendChatCompletion(out, memberString(anthropic, "id"), created, memberString(anthropic, "model"), message,
                       stop.is_string() ? finishReasonForStopReason(stop.get_ref<const std::string&>()) : "", usage);
  return outcome;
}

}  // namespace aigw::translate
