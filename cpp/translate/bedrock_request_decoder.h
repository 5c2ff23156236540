// Bedrock Converse request body -> OpenAI chat-completions request body: for a client of the
// gateway's Converse API (/model/{id}/converse) whose route's provider is no Bedrock upstream
// (the mock, an OpenAI-compatible server ...). The inverse of BedrockRequestEncoder;
// docs/providers-bedrock.md has the table.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "translate/translation.h"

namespace aigw::translate {

// Built per request from the route's drop_params; decode() is const.
class BedrockRequestDecoder {
 public:
  explicit BedrockRequestDecoder(RequestOptions options) : options_(std::move(options)) {}

  // Writes into `openai` the chat-completions body for the Converse body `converse`; `model`
  // and `stream` come from the URL (converse-stream asks for stream_options.include_usage: a
  // ConverseStream always ends with usage). A field OpenAI cannot express is dropped when
  // drop_params names it and refused otherwise; cachePoint blocks are hints with nothing to
  // map to (OpenAI caches prompt prefixes by itself) and are read nowhere.
  Translation decode(const nlohmann::json& converse, std::string_view model, bool stream, nlohmann::json& openai) const;

 private:
  RequestOptions options_;
};

}  // namespace aigw::translate
