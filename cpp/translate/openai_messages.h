// Pieces of an OpenAI chat request that the decoders from other APIs (Anthropic, Bedrock) build
// the same way: message content in the form every OpenAI-compatible server reads, tool results.
#pragma once

#include <nlohmann/json.hpp>

#include <utility>

namespace aigw::translate {

// Text parts alone, one of them: the plain string form every OpenAI-compatible server reads.
inline nlohmann::json collapseTextParts(nlohmann::json parts) {
  if (parts.size() == 1 && parts[0]["type"] == "text") return std::move(parts[0]["text"]);
  return parts;
}

// A role "tool" message answering tool call `id` with `content` (a string or text parts).
// OpenAI has no error flag on a tool result; the model still has to know the call failed, so a
// failed one says so in its text.
inline void appendToolMessage(nlohmann::json& messages, const nlohmann::json& id, nlohmann::json content,
                              bool is_error) {
  if (is_error) {
    if (content.is_string())
      content = "Error: " + content.get<std::string>();
    else
      content.insert(content.begin(), nlohmann::json{{"type", "text"}, {"text", "Error:"}});
  }
  messages.push_back({{"role", "tool"}, {"tool_call_id", id}, {"content", std::move(content)}});
}

}  // namespace aigw::translate
