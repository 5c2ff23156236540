#include "translate/gemini_response_encoder.h"

#include <string_view>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "translate/gemini_usage.h"
#include "translate/json_member.h"
#include "translate/json_path.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

namespace {

void appendTextPart(std::string& out, std::string_view text, bool thought, bool& first) {
  out += first ? "" : ",";
  first = false;
  out += "{\"text\":";
  appendJsonString(out, text);
  out += thought ? ",\"thought\":true}" : "}";
}

// One choice as a candidate; false (after the refusal) on tool arguments that are no object.
bool appendCandidate(std::string& out, const json& choice, size_t i, FieldPolicy& policy) {
  const json& message = member(choice, "message");
  out += "{\"content\":{\"role\":\"model\",\"parts\":[";
  bool first = true;
  // reasoning_content: DeepSeek's and vLLM's name; reasoning: OpenRouter's and Ollama's.
  const std::string_view reasoning = memberString(message, "reasoning_content", memberString(message, "reasoning"));
  if (!reasoning.empty()) appendTextPart(out, reasoning, true, first);
  const json& content = member(message, "content");
  if (content.is_string() && !content.get_ref<const std::string&>().empty()) {
    appendTextPart(out, content.get_ref<const std::string&>(), false, first);
  } else if (content.is_array()) {
    for (const json& part : content) appendTextPart(out, memberString(part, "text"), false, first);
  }
  const std::string_view refusal = memberString(message, "refusal");
  if (!refusal.empty()) appendTextPart(out, refusal, false, first);
  const json& calls = member(message, "tool_calls");
  for (size_t j = 0; calls.is_array() && j < calls.size(); ++j) {
    const json& fn = member(calls[j], "function");
    out += first ? "" : ",";
    first = false;
    if (!appendGeminiFunctionCall(out, memberString(fn, "name"), memberString(fn, "arguments"),
                                  memberString(member(member(calls[j], "extra_content"), "google"),
                                               "thought_signature"))) {
      policy.refuse(jsonPath("choices", i, "message", "tool_calls", j, "function", "arguments"),
                    "the upstream's tool arguments are no JSON object");
      return false;
    }
  }
  out += "]}";
  const std::string_view finish = memberString(choice, "finish_reason");
  if (!finish.empty()) {
    out += ",\"finishReason\":\"";
    out += geminiFinishReasonForFinishReason(finish);  // our own constant
    out += '"';
  }
  const json& index = member(choice, "index");
  out += ",\"index\":";
  appendJsonNumber(out, index.is_number_integer() ? index.get<int64_t>() : static_cast<int64_t>(i));
  out += '}';
  return true;
}

}  // namespace

std::string_view geminiResponseId(std::string_view id) {
  constexpr std::string_view kPrefix = "chatcmpl-";
  return id.substr(0, kPrefix.size()) == kPrefix ? id.substr(kPrefix.size()) : id;
}

bool appendGeminiFunctionCall(std::string& out, std::string_view name, std::string_view arguments,
                              std::string_view thought_signature) {
  const json args = arguments.empty() ? json::object() : parseJson(arguments);
  if (!args.is_object()) return false;
  out += "{\"functionCall\":{\"name\":";
  appendJsonString(out, name);
  out += ",\"args\":";
  out += args.dump(-1, ' ', false, json::error_handler_t::replace);
  out += '}';
  if (!thought_signature.empty()) {
    out += ",\"thoughtSignature\":";
    appendJsonString(out, thought_signature);
  }
  out += '}';
  return true;
}

Translation encodeGeminiResponse(const json& openai, std::string& out, TokenUsage* usage_out) {
  Translation outcome;
  FieldPolicy policy({}, "a Gemini client", outcome);
  const json& choices = member(openai, "choices");
  if (!choices.is_array() || choices.empty() || !member(choices[0], "message").is_object()) {
    policy.refuse("choices", "the upstream answer is no chat.completion");
    return outcome;
  }
  TokenUsage usage;
  usage.readOpenAi(member(openai, "usage"));
  if (usage_out != nullptr) *usage_out = usage;

  out += "{\"candidates\":[";
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += ',';
    if (!appendCandidate(out, choices[i], i, policy)) return outcome;
  }
  out += "],\"usageMetadata\":";
  appendGeminiUsage(usage, out);
  out += ",\"modelVersion\":";
  appendJsonString(out, memberString(openai, "model"));
  out += ",\"responseId\":";
  appendJsonString(out, geminiResponseId(memberString(openai, "id")));
  out += '}';
  return outcome;
}

}  // namespace aigw::translate
