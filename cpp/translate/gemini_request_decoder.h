// Gemini generateContent request body -> OpenAI chat-completions request body: what the mock (or
// an OpenAI-compatible provider behind a Gemini client) reads. docs/providers-gemini.md has the table.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "translate/translation.h"

namespace aigw::translate {

// Built once per route (drop_params is route config); decode() is const.
class GeminiRequestDecoder {
 public:
  explicit GeminiRequestDecoder(RequestOptions options) : options_(std::move(options)) {}

  // Writes into `openai` the chat-completions body for the generateContent body `gemini`;
  // `model` and `stream` come from the URL. Function calls get ids call_<n>, and each
  // functionResponse answers the earliest unanswered call of its name. A field OpenAI cannot
  // express is dropped when drop_params names it and refused otherwise.
  Translation decode(const nlohmann::json& gemini, std::string_view model, bool stream, nlohmann::json& openai) const;

 private:
  RequestOptions options_;
};

}  // namespace aigw::translate
