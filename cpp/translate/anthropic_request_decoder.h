// Anthropic Messages request body -> OpenAI chat-completions request body: for a route whose
// client speaks Anthropic (/v1/messages) and whose provider speaks OpenAI. docs/providers.md has the table.
#pragma once

#include <nlohmann/json.hpp>

#include "translate/translation.h"

namespace aigw::translate {

// Built once per route; decode() is const and may run on any worker.
class AnthropicRequestDecoder {
 public:
  explicit AnthropicRequestDecoder(RequestOptions options) : options_(std::move(options)) {}

  // Writes into `openai` the chat-completions body for the Messages body `anthropic`, with the
  // same drop-or-refuse rule as AnthropicRequestEncoder. A streamed request asks for
  // stream_options.include_usage, since an Anthropic client always gets usage.
  Translation decode(const nlohmann::json& anthropic, nlohmann::json& openai) const;

 private:
  RequestOptions options_;
};

}  // namespace aigw::translate
