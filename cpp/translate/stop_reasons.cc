#include "translate/stop_reasons.h"

namespace aigw::translate {

std::string_view finishReasonForStopReason(std::string_view r) {
  if (r == "max_tokens" || r == "model_context_window_exceeded") return "length";
  if (r == "tool_use") return "tool_calls";
  if (r == "refusal") return "content_filter";
  return "stop";
}

std::string_view stopReasonForFinishReason(std::string_view r) {
  if (r == "length") return "max_tokens";
  if (r == "tool_calls" || r == "function_call") return "tool_use";
  if (r == "content_filter") return "refusal";
  return "end_turn";
}

std::string_view finishReasonForGeminiFinishReason(std::string_view r, bool tool_calls) {
  if (r == "MAX_TOKENS") return "length";
  if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" || r == "SPII" ||
      r.substr(0, 6) == "IMAGE_") {
    return "content_filter";
  }
  return tool_calls ? "tool_calls" : "stop";
}

std::string_view geminiFinishReasonForFinishReason(std::string_view r) {
  if (r == "length") return "MAX_TOKENS";
  if (r == "content_filter") return "SAFETY";
  return "STOP";
}

std::string_view finishReasonForBedrockStopReason(std::string_view r) {
  if (r == "guardrail_intervened" || r == "content_filtered") return "content_filter";
  return finishReasonForStopReason(r);
}

std::string_view bedrockStopReasonForFinishReason(std::string_view r) {
  if (r == "content_filter") return "content_filtered";
  return stopReasonForFinishReason(r);
}

}  // namespace aigw::translate
