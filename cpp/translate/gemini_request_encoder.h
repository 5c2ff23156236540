// OpenAI chat-completions request body -> Gemini generateContent request body: for a route whose
// client speaks OpenAI and whose provider is kind: gemini. docs/providers-gemini.md has the table.
#pragma once

#include <nlohmann/json.hpp>

#include "translate/translation.h"

namespace aigw::translate {

// Built once per route (drop_params is route config); encode() is const and may run on any worker.
class GeminiRequestEncoder {
 public:
  explicit GeminiRequestEncoder(RequestOptions options) : options_(std::move(options)) {}

  // Writes into `gemini` the generateContent body for the chat-completions body `openai`. A field
  // Gemini cannot express is dropped when drop_params names it and refused otherwise (the result
  // then names it; `gemini` is left unspecified). model, stream and stream_options are not
  // written: the URL carries the model and the streaming method, and the caller hands
  // stream_options.include_usage to the GeminiStreamDecoder.
  Translation encode(const nlohmann::json& openai, nlohmann::json& gemini) const;

 private:
  RequestOptions options_;
};

}  // namespace aigw::translate
