#include "translate/gemini_response_decoder.h"

#include "core/json_text.h"
#include "translate/gemini_usage.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

namespace {

// One candidate as a choice; `calls` numbers tool calls across the whole answer.
void appendChoice(std::string& out, const json& candidate, size_t i, int64_t& calls) {
  const json& parts = member(member(candidate, "content"), "parts");
  std::string text, reasoning, tool_calls;
  bool has_text = false;
  for (size_t j = 0; parts.is_array() && j < parts.size(); ++j) {
    const json& part = parts[j];
    if (part.contains("functionCall")) {
      tool_calls += tool_calls.empty() ? "[" : ",";
      appendGeminiToolCall(tool_calls, part, calls++);
    } else if (member(part, "text").is_string()) {
      if (member(part, "thought") == true) {
        reasoning += memberString(part, "text");
      } else {
        text += memberString(part, "text");
        has_text = true;
      }
    }
    // inlineData, executableCode and the like have no chat.completion field.
  }
  const json& index = member(candidate, "index");
  out += "{\"index\":";
  appendJsonNumber(out, index.is_number_integer() ? index.get<int64_t>() : static_cast<int64_t>(i));
  out += ",\"message\":{\"role\":\"assistant\",\"content\":";
  if (has_text)
    appendJsonString(out, text);
  else
    out += "null";
  if (!reasoning.empty()) {
    out += ",\"reasoning_content\":";
    appendJsonString(out, reasoning);
  }
  if (!tool_calls.empty()) {
    out += ",\"tool_calls\":";
    out += tool_calls;
    out += ']';
  }
  out += "},\"logprobs\":null,\"finish_reason\":";
  const std::string_view finish = memberString(candidate, "finishReason");
  if (finish.empty()) {
    out += "null";
  } else {
    out += '"';
    out += finishReasonForGeminiFinishReason(finish, !tool_calls.empty());  // our own constant
    out += '"';
  }
  out += '}';
}

}  // namespace

void appendGeminiToolCall(std::string& out, const json& part, int64_t call_number, int64_t index) {
  const json& call = member(part, "functionCall");
  out += '{';
  if (index >= 0) {
    out += "\"index\":";
    appendJsonNumber(out, index);
    out += ',';
  }
  out += "\"id\":\"call_";
  appendJsonNumber(out, call_number);
  out += "\",\"type\":\"function\",\"function\":{\"name\":";
  appendJsonString(out, memberString(call, "name"));
  out += ",\"arguments\":";
  const json& args = member(call, "args");
  appendJsonString(out, args.is_null() ? "{}" : args.dump(-1, ' ', false, json::error_handler_t::replace));
  out += '}';
  const std::string_view signature = memberString(part, "thoughtSignature");
  if (!signature.empty()) {
    out += ",\"extra_content\":{\"google\":{\"thought_signature\":";
    appendJsonString(out, signature);
    out += "}}";
  }
  out += '}';
}

Translation decodeGeminiResponse(const json& gemini, int64_t created, std::string_view model, std::string& out,
                                 TokenUsage* usage_out) {
  Translation outcome;
  FieldPolicy policy({}, "an OpenAI client", outcome);
  const json& candidates = member(gemini, "candidates");
  const std::string_view blocked = memberString(member(gemini, "promptFeedback"), "blockReason");
  const bool has_candidates = candidates.is_array() && !candidates.empty();
  if (!gemini.is_object() || !(has_candidates || ((candidates.is_null() || candidates.is_array()) && !blocked.empty()))) {
    policy.refuse("", "the upstream answer is no Gemini generateContent answer");
    return outcome;
  }
  TokenUsage usage;
  readGeminiUsage(member(gemini, "usageMetadata"), usage);
  if (usage_out != nullptr) *usage_out = usage;

  out += "{\"id\":";
  appendJsonString(out, std::string("chatcmpl-") += memberString(gemini, "responseId"));
  out += ",\"object\":\"chat.completion\",\"created\":";
  appendJsonNumber(out, created);
  out += ",\"model\":";
  appendJsonString(out, model.empty() ? memberString(gemini, "modelVersion") : model);
  out += ",\"choices\":[";
  int64_t calls = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (i > 0) out += ',';
    appendChoice(out, candidates[i], i, calls);
  }
  if (!has_candidates) {
    // The prompt itself was blocked: no candidate, only promptFeedback.
    out += "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null},\"logprobs\":null,"
           "\"finish_reason\":\"content_filter\"}";
  }
  out += "],\"usage\":";
  usage.appendOpenAi(out);
  out += '}';
  return outcome;
}

}  // namespace aigw::translate
