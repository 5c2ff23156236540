// OpenAI chat-completions request body -> Anthropic Messages request body: for a route whose
// client speaks OpenAI and whose provider is kind: anthropic. docs/providers.md has the table.
#pragma once

#include <nlohmann/json.hpp>

#include "translate/translation.h"

namespace aigw::translate {

// Built once per route (drop_params and the default max_tokens are route config); encode() is
// const and may run on any worker.
class AnthropicRequestEncoder {
 public:
  explicit AnthropicRequestEncoder(RequestOptions options) : options_(std::move(options)) {}

  // Writes into `anthropic` the Messages body for the chat-completions body `openai`. A field
  // Anthropic cannot express is dropped when drop_params names it and refused otherwise (the
  // result then names it; `anthropic` is left unspecified). stream_options.include_usage is not
  // written: the caller hands it to the AnthropicStreamDecoder.
  Translation encode(const nlohmann::json& openai, nlohmann::json& anthropic) const;

 private:
  RequestOptions options_;
};

}  // namespace aigw::translate
