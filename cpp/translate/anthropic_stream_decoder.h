// An Anthropic Messages event stream -> OpenAI chat.completion.chunk events, one event at a time
// as it arrives: what an OpenAI client streaming from a kind: anthropic provider receives.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "translate/token_usage.h"

namespace aigw::translate {

// One per stream. State is a few scalars and the chunk head (id, created, model), written once
// at message_start; each event's output is appended straight to the caller's buffer.
class AnthropicStreamDecoder {
 public:
  // created: unix seconds for every chunk. include_usage: the client's
  // stream_options.include_usage, which asks for a last chunk with usage and no choices.
  AnthropicStreamDecoder(int64_t created, bool include_usage) : created_(created), include_usage_(include_usage) {}

  // Appends to `out` the OpenAI SSE bytes for one Anthropic event (`event`: the SSE event name,
  // "message" when it had none; `data`: its data). message_stop ends with "data: [DONE]". An
  // upstream error event, or an event that is no JSON, becomes an OpenAI error chunk and ends
  // the stream. Returns false once the stream has ended (later events are ignored).
  bool onEvent(std::string_view event, std::string_view data, std::string& out);

  // The upstream's stream ended: an error chunk unless message_stop (or an error) ended it.
  void finish(std::string& out) {
    if (!ended()) fail("api_error", "the upstream stream ended before message_stop", out);
  }

  // message_stop was translated (the answer is whole) or an error ended the stream.
  bool ended() const { return state_ == State::Ended || state_ == State::Failed; }
  bool failed() const { return state_ == State::Failed; }
  // The counts so far (message_start's input, message_delta's output).
  const TokenUsage& usage() const { return usage_; }

 private:
  enum class State { BeforeStart, Streaming, Ended, Failed };

  void messageStart(const nlohmann::json& message, std::string& out);
  void contentBlock(std::string_view type, const nlohmann::json& event, std::string& out);
  void fail(std::string_view type, std::string_view message, std::string& out);

  int64_t created_;
  bool include_usage_;
  State state_ = State::BeforeStart;
  std::string head_;        // {"id":..,"object":"chat.completion.chunk","created":..,"model":..
  int64_t tool_calls_ = 0;  // tool_use blocks seen: the next one's OpenAI index
  bool in_tool_block_ = false;
  TokenUsage usage_;
};

}  // namespace aigw::translate
