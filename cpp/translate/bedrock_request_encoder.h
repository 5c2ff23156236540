// OpenAI chat-completions request body -> Bedrock Converse request body: for a route whose
// client speaks OpenAI and whose provider is kind: bedrock. docs/providers-bedrock.md has the table.
#pragma once

#include <nlohmann/json.hpp>

#include "translate/translation.h"

namespace aigw::translate {

// Built once per route (drop_params is route config); encode() is const and may run on any
// worker.
class BedrockRequestEncoder {
 public:
  explicit BedrockRequestEncoder(RequestOptions options) : options_(std::move(options)) {}

  // Writes into `converse` the Converse body for the chat-completions body `openai`. model,
  // stream and stream_options are not written: the model is in the URL
  // (/model/{id}/converse or /converse-stream) and include_usage goes to the
  // BedrockStreamDecoder. A field Converse cannot express is dropped when drop_params names it
  // and refused otherwise (the result names it; `converse` is then unspecified).
  // default_max_tokens is not applied: Converse has a default of its own per model.
  Translation encode(const nlohmann::json& openai, nlohmann::json& converse) const;

 private:
  RequestOptions options_;
};

}  // namespace aigw::translate
