// An answer written in OpenAI's shape, whole (chat.completion) or chunk by chunk
// (chat.completion.chunk), straight into the caller's string: shared by the translators whose
// upstream answers in another API (Anthropic, Bedrock).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "translate/token_usage.h"

namespace aigw::translate {

// What a whole answer's message holds, gathered block by block in the upstream's order.
struct CompletionContent {
  std::string text;
  bool has_text = false;  // content is null, not "", when the answer had no text block
  std::string reasoning;
  std::string tool_calls;  // the items of message.tool_calls, comma-separated
  size_t tool_call_count = 0;

  // A tool call with `input` (the arguments object; null counts as {}) as its JSON-text arguments.
  void addToolCall(std::string_view id, std::string_view name, const nlohmann::json& input);
};

// {"id","object":"chat.completion","created","model","choices":[{message, finish_reason}],"usage"};
// an empty finish_reason is written as null.
void appendChatCompletion(std::string& out, std::string_view id, int64_t created, std::string_view model,
                          const CompletionContent& content, std::string_view finish_reason, const TokenUsage& usage);

// A chunk is "data: " + head + choices[0] with a delta + "\n\n", where head is
// {"id":..,"object":"chat.completion.chunk","created":..,"model":..  (without its closing brace).
void appendChatChunkStart(std::string& out, std::string_view head);
// Closes the chunk that appendChatChunkStart opened, after the caller's delta object; finish_reason
// (empty: null) is one of our own constants, written unescaped.
void appendChatChunkEnd(std::string& out, std::string_view finish_reason = {});

// Whole chunks of one delta each: a tool call's start (its id, name and empty arguments), a
// piece of its arguments, and a text field ("content" or "reasoning_content").
void appendToolCallStartChunk(std::string& out, std::string_view head, int64_t index, std::string_view id,
                              std::string_view name);
void appendToolCallArgumentsChunk(std::string& out, std::string_view head, int64_t index, std::string_view arguments);
void appendTextChunk(std::string& out, std::string_view head, std::string_view field, std::string_view text);

}  // namespace aigw::translate
