#include "translate/bedrock_response_decoder.h"

#include "core/json_text.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

void appendBedrockCompletionId(std::string& out, std::string_view request_id) {
  std::string id = "chatcmpl-";
  id += request_id.empty() ? std::string_view("bedrock") : request_id;
  appendJsonString(out, id);
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
  std::string text, reasoning, calls;
  bool has_text = false;
  size_t tool_calls = 0;
  for (const json& block : content) {
    const json& t = member(block, "text");
    if (t.is_string()) {
      text += t.get_ref<const std::string&>();
      has_text = true;
    }
    reasoning += memberString(member(member(block, "reasoningContent"), "reasoningText"), "text");
    const json& use = member(block, "toolUse");
    if (use.is_object()) {
      calls += tool_calls++ == 0 ? "[" : ",";
      calls += "{\"id\":";
      appendJsonString(calls, memberString(use, "toolUseId"));
      calls += ",\"type\":\"function\",\"function\":{\"name\":";
      appendJsonString(calls, memberString(use, "name"));
      calls += ",\"arguments\":";
      const json& input = member(use, "input");
      appendJsonString(calls, input.is_null() ? "{}" : input.dump(-1, ' ', false, json::error_handler_t::replace));
      calls += "}}";
    }
  }
  TokenUsage usage;
  usage.readBedrock(member(converse, "usage"));
  if (usage_out != nullptr) *usage_out = usage;

  out.reserve(out.size() + 256 + text.size() + reasoning.size() + calls.size());
  out += "{\"id\":";
  appendBedrockCompletionId(out, id);
  out += ",\"object\":\"chat.completion\",\"created\":";
  appendJsonNumber(out, created);
  out += ",\"model\":";
  appendJsonString(out, model);
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
  const json& stop = member(converse, "stopReason");
  if (stop.is_string())
    appendJsonString(out, finishReasonForBedrockStopReason(stop.get_ref<const std::string&>()));
  else
    out += "null";
  out += "}],\"usage\":";
  usage.appendOpenAi(out);
  out += '}';
  return outcome;
}

}  // namespace aigw::translate
