// Why an answer ended, in each vocabulary: Anthropic's stop_reason, Gemini's finishReason and
// OpenAI's finish_reason, for whole answers and streams alike.
#pragma once

#include <string_view>

namespace aigw::translate {

// end_turn, stop_sequence, pause_turn -> stop; max_tokens, model_context_window_exceeded ->
// length; tool_use -> tool_calls; refusal -> content_filter; anything newer -> stop.
std::string_view finishReasonForStopReason(std::string_view stop_reason);

// stop -> end_turn (OpenAI does not say whether a stop sequence matched); length -> max_tokens;
// tool_calls, function_call -> tool_use; content_filter -> refusal; anything else -> end_turn.
std::string_view stopReasonForFinishReason(std::string_view finish_reason);

// Gemini finishReason -> finish_reason: MAX_TOKENS -> length; SAFETY, RECITATION, BLOCKLIST,
// PROHIBITED_CONTENT, SPII and the IMAGE_ ones -> content_filter; STOP, OTHER, LANGUAGE, the
// function-call failures and anything newer -> stop. `tool_calls`: the candidate called
// functions, which makes a plain STOP tool_calls (Gemini has no reason of its own for it).
std::string_view finishReasonForGeminiFinishReason(std::string_view finish_reason, bool tool_calls);

// finish_reason -> Gemini finishReason: length -> MAX_TOKENS; content_filter -> SAFETY; anything
// else (stop, tool_calls) -> STOP.
std::string_view geminiFinishReasonForFinishReason(std::string_view finish_reason);

// Bedrock Converse's stopReason: guardrail_intervened, content_filtered -> content_filter;
// malformed_model_output, malformed_tool_use -> stop (the answer is what it is); the rest as
// Anthropic's (Bedrock took its names from there).
std::string_view finishReasonForBedrockStopReason(std::string_view stop_reason);

// stop -> end_turn; length -> max_tokens; tool_calls, function_call -> tool_use;
// content_filter -> content_filtered; anything else -> end_turn.
std::string_view bedrockStopReasonForFinishReason(std::string_view finish_reason);

}  // namespace aigw::translate
