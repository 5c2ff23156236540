// OpenAI chat.completion.chunk events -> a Gemini streamGenerateContent?alt=sse stream, one event
// at a time: what the mock streams to a Gemini client, the inverse of GeminiStreamDecoder.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "translate/token_usage.h"

namespace aigw::translate {

// One per stream. Text and reasoning deltas become Gemini events as they come; a tool call's
// argument fragments are gathered until its choice finishes, as Gemini sends a functionCall whole
// (with the finishReason). Each event is "data: {...}\r\n\r\n", Gemini's own framing.
class GeminiStreamEncoder {
 public:
  // Tool calls gathered at once beyond this are a broken upstream: the buffers are the only
  // state that grows with the answer.
  static constexpr size_t kMaxToolCalls = 128;
  // Gemini's candidateCount tops out at 8: a choice index past it has no candidate.
  static constexpr int64_t kMaxCandidates = 8;

  // Appends to `out` the Gemini events for one OpenAI event's data ("[DONE]" writes what is
  // still gathered and ends). An error chunk, or data that is no JSON, becomes a Google error
  // event and ends the stream. Returns false once the stream has ended.
  bool onEvent(std::string_view data, std::string& out);
  // The upstream body ended: as [DONE].
  void finish(std::string& out);

  bool ended() const { return state_ != State::Streaming; }
  bool failed() const { return state_ == State::Failed; }
  const TokenUsage& usage() const { return usage_; }

 private:
  enum class State { Streaming, Ended, Failed };
  struct PendingCall {
    int64_t choice;
    int64_t index;
    std::string name, arguments, signature;
  };

  void choice(const nlohmann::json& choice, std::string& out);
  bool gather(int64_t choice, const nlohmann::json& call, std::string& out);
  // One event: a candidate `index` with `parts` (a part list's inside) and `finish` (a Gemini
  // finishReason or empty), or no candidate at all when index < 0 (usage only).
  void event(std::string& out, int64_t index, std::string_view parts, std::string_view finish, bool with_usage);
  bool takeCalls(int64_t choice, std::string& parts);
  void end(std::string& out);
  void fail(int status, std::string_view message, std::string& out);

  State state_ = State::Streaming;
  std::string id_, model_;  // the first chunk's, repeated on each event as Gemini does
  bool has_usage_ = false;
  std::vector<PendingCall> calls_;
  TokenUsage usage_;
};

}  // namespace aigw::translate
