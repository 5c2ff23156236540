// OpenAI-shaped bodies the mock provider answers with: chat completions, legacy completions
// and embeddings, whole or as stream chunks. Deterministic for a given request and knobs.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/call.h"

namespace aigw::mock {

// Splits the completion text into `chunks` pieces (on UTF-8 boundaries, empty pieces dropped).
// Without a fixed text, the pieces are words of a stock sentence, one per chunk.
std::vector<std::string> completionPieces(const std::string* fixed_text, int64_t chunks);

struct Completion {
  Endpoint endpoint = Endpoint::ChatCompletions;
  std::string id;
  std::string model;
  int64_t created = 0;
  int choices = 1;
  std::vector<std::string> pieces;
  const char* finish_reason = "stop";
  int64_t prompt_tokens = 0;
  // A tool call instead of text (chat only): the function and its JSON arguments.
  std::string tool_name;
  std::string tool_arguments;
  int64_t completion_tokens() const {
    const int64_t tool = tool_name.empty() ? 0 : 1 + static_cast<int64_t>(tool_arguments.size()) / 4;
    return (static_cast<int64_t>(pieces.size()) + tool) * choices;
  }
};

// The tool call the mock makes for a chat request, if any: when the request offers tools,
// tool_choice is not "none" and the last message is the user's (not a tool result), it calls
// the named tool, else the first, with arguments filled from the schema's required properties
// (string "mock", number 1, boolean true, array [], object {}). Deterministic, so an agent loop
// against the mock runs one tool round and then gets text.
bool pickToolCall(const nlohmann::json& body, std::string* name, std::string* arguments);

std::string completionBody(const Completion& c);
// One stream event's JSON (without SSE framing). `role_delta` marks the opening chunk of a
// chat stream; `finish` the closing one; `usage_null` adds "usage":null (include_usage streams).
std::string completionChunk(const Completion& c, int choice, std::string_view content, bool role_delta,
                            bool finish, bool usage_null);
std::string usageChunk(const Completion& c);

struct EmbeddingRequest {
  std::vector<std::string> inputs;  // token arrays are rendered as text for hashing
  int64_t dimensions = 8;
  bool base64 = false;
  std::string model;
};
// Returns false with `error` when `input` has an unsupported shape.
bool parseEmbeddingInput(const nlohmann::json& body, EmbeddingRequest* out, std::string* error);
std::string embeddingsBody(const EmbeddingRequest& r, int64_t prompt_tokens);

}  // namespace aigw::mock
