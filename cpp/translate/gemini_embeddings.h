// OpenAI /v1/embeddings <-> Gemini batchEmbedContents: the request out, the answer back, and (for
// the mock) the answer the other way. docs/providers-gemini.md has the table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "translate/token_usage.h"
#include "translate/translation.h"

namespace aigw::translate {

// Built once per route (drop_params is route config); encode() is const.
class GeminiEmbeddingsEncoder {
 public:
  explicit GeminiEmbeddingsEncoder(RequestOptions options) : options_(std::move(options)) {}

  // Writes into `gemini` the batchEmbedContents body for the embeddings body `openai`: one
  // request per input string, each naming `model` ("models/<model>"), dimensions as
  // outputDimensionality. Token arrays are refused (Gemini embeds text); encoding_format is not
  // written (the caller hands base64 to decodeGeminiEmbeddings); anything else is dropped by
  // drop_params or refused.
  Translation encode(const nlohmann::json& openai, std::string_view model, nlohmann::json& gemini) const;

 private:
  RequestOptions options_;
};

// Appends to `openai` the embedding list for the batchEmbedContents answer `gemini`
// ({"embeddings":[{"values":[...]}]}), each embedding a float array or, with `base64`, its
// little-endian float32 bytes in base64 (what encoding_format base64 asks for). Gemini counts no
// tokens here: usage is zero unless the answer has usageMetadata. Fails on a body that is no
// such answer (the caller answers 502).
Translation decodeGeminiEmbeddings(const nlohmann::json& gemini, std::string_view model, std::string& openai,
                                   TokenUsage* usage = nullptr, bool base64 = false);

// The mock's direction: an OpenAI embedding list (float arrays) -> a batchEmbedContents answer.
Translation encodeGeminiEmbeddings(const nlohmann::json& openai, std::string& gemini);

}  // namespace aigw::translate
