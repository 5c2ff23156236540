// OpenAI chat.completion.chunk events -> an Anthropic Messages event stream, one event at a time
// as it arrives: what an Anthropic client (/v1/messages, streaming) receives from an
// OpenAI-compatible provider.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "translate/token_usage.h"

namespace aigw::translate {

// One per stream. Anthropic wants message_start first, then one content block at a time
// (start, deltas, stop), then message_delta (stop reason, usage) and message_stop; OpenAI sends
// the finish reason before the usage chunk, so message_delta waits for [DONE] or finish().
class AnthropicStreamEncoder {
 public:
  // More parallel tool calls than this in one answer is treated as a broken upstream: the map
  // from OpenAI tool index to content block is the only state that grows with the answer.
  static constexpr size_t kMaxToolCalls = 128;

  // Appends to `out` the Anthropic events for one OpenAI event's data ("[DONE]" closes the
  // message). An error chunk, or data that is no JSON, becomes an Anthropic error event and ends
  // the stream. Returns false once the stream has ended.
  bool onEvent(std::string_view data, std::string& out);
  // The upstream body ended: closes the message if [DONE] never came (an error event when not
  // one chunk arrived).
  void finish(std::string& out);

  bool ended() const { return state_ == State::Ended || state_ == State::Failed; }
  bool failed() const { return state_ == State::Failed; }
  const TokenUsage& usage() const { return usage_; }

 private:
  enum class State { BeforeStart, Streaming, Ended, Failed };
  enum class Block { None, Text, Thinking, Tool };

  void messageStart(const nlohmann::json& chunk, std::string& out);
  void delta(const nlohmann::json& delta, std::string& out);
  void toolCall(const nlohmann::json& call, std::string& out);
  void textDelta(Block kind, std::string_view text, std::string& out);
  void openBlock(Block kind, std::string& out);
  void closeBlock(std::string& out);
  void beginEvent(std::string& out, std::string_view name) const;
  void close(std::string& out);
  void fail(std::string_view type, std::string_view message, std::string& out);

  State state_ = State::BeforeStart;
  Block open_ = Block::None;
  int64_t open_index_ = -1;           // the open block's index
  int64_t next_index_ = 0;            // the next block's index
  int64_t open_tool_ = -1;            // the OpenAI tool index of the open tool_use block
  std::vector<int64_t> tool_blocks_;  // OpenAI tool index -> block index
  std::string_view stop_reason_;
  TokenUsage usage_;
};

}  // namespace aigw::translate
