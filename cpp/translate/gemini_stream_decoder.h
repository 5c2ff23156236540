// A Gemini streamGenerateContent?alt=sse stream -> OpenAI chat.completion.chunk events, one event
// at a time as it arrives: what an OpenAI client streaming from a kind: gemini provider receives.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "translate/token_usage.h"

namespace aigw::translate {

// One per stream. Each Gemini event is a whole GenerateContentResponse holding the next piece of
// each candidate; a functionCall arrives whole, so it becomes one tool call delta. Gemini has no
// terminal event: finish() writes the usage chunk and [DONE]. State is a few scalars, the chunk
// head (written at the first event) and a per-candidate count of tool calls.
class GeminiStreamDecoder {
 public:
  // Gemini's candidateCount tops out at 8; an index past this is a broken upstream.
  static constexpr size_t kMaxCandidates = 8;

  // created: unix seconds for every chunk. model: the route's model (Gemini's modelVersion when
  // empty). include_usage: the client's stream_options.include_usage, which asks for a last
  // chunk with usage and no choices.
  GeminiStreamDecoder(int64_t created, std::string_view model, bool include_usage)
      : created_(created), model_(model), include_usage_(include_usage) {}

  // Appends to `out` the OpenAI SSE bytes for one Gemini event's data. An error object, or data
  // that is no JSON object, becomes an OpenAI error chunk and ends the stream. Returns false
  // once the stream has ended (later events are ignored).
  bool onEvent(std::string_view data, std::string& out);
  // The upstream body ended: the usage chunk (when asked for) and "data: [DONE]", or an error
  // chunk when not one event came.
  void finish(std::string& out);

  bool ended() const { return state_ == State::Ended || state_ == State::Failed; }
  bool failed() const { return state_ == State::Failed; }
  // The counts of the last usageMetadata (Gemini repeats the running totals on its events).
  const TokenUsage& usage() const { return usage_; }

 private:
  enum class State { BeforeStart, Streaming, Ended, Failed };

  void start(const nlohmann::json& response);
  bool candidate(const nlohmann::json& candidate, size_t position, std::string& out);
  void textDelta(int64_t index, const char* field, std::string_view text, std::string& out);
  void beginChunk(std::string& out, int64_t index) const;
  void endChunk(std::string& out, std::string_view finish_reason = {}) const;
  void fail(int status, std::string_view code, std::string_view message, std::string& out);

  int64_t created_;
  std::string model_;
  bool include_usage_;
  State state_ = State::BeforeStart;
  std::string head_;                                // {"id":..,"object":"chat.completion.chunk","created":..,"model":..
  uint32_t started_ = 0;                            // bit i: candidate i has had its role chunk
  std::array<int32_t, kMaxCandidates> tool_calls_{};  // per candidate: the next tool call's index
  int64_t call_number_ = 0;                         // tool calls of the whole stream: the next id
  TokenUsage usage_;
};

}  // namespace aigw::translate
