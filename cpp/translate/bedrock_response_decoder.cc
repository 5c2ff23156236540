#include "translate/bedrock_response_decoder.h"

#include "translate/chat_completion.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

std::string bedrockCompletionId(std::string_view request_id) {
  std::string id = "chatcmpl-";
  id += request_id.empty() ? std::string_view("bedrock") : request_id;
  return id;
}

Translation decodeBedrockConverse(const json& converse, int64_t created, std::string_view model, std::string& out,
                                  TokenUsage* usage_out, std::string_view id) {
  Translation outcome;
  FieldPolicy policy({}, "an OpenAI client", outcome);
  const json& content = member(member(member(converse, "output"), "message"), "content");
  if (!content.is_array()) {
    policy.refuse("", "the upstream answer is no Bedrock Converse response");
    return outcome;
  }
  // Joined in order; redacted reasoning (encrypted), signatures, citations and images have no
  // OpenAI field.
  CompletionContent message;
  for (const json& block : content) {
    const json& text = member(block, "text");
    if (text.is_string()) {
      message.text += text.get_ref<const std::string&>();
      message.has_text = true;
    }
    message.reasoning += memberString(member(member(block, "reasoningContent"), "reasoningText"), "text");
    const json& use = member(block, "toolUse");
    if (use.is_object()) message.addToolCall(memberString(use, "toolUseId"), memberString(use, "name"), member(use, "input"));
  }
  TokenUsage usage;
  usage.readBedrock(member(converse, "usage"));
  if (usage_out != nullptr) *usage_out = usage;
  const json& stop = member(converse, "stopReason");
  appendChatCompletion(out, bedrockCompletionId(id), created, model, message,
                       stop.is_string() ? finishReasonForBedrockStopReason(stop.get_ref<const std::string&>()) : "",
                       usage);
  return outcome;
}

}  // namespace aigw::translate
