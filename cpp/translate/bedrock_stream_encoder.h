// OpenAI chat.completion.chunk events -> a Bedrock ConverseStream (event-stream binary frames),
// one event at a time: what the mock streams when it plays a kind: bedrock upstream.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "translate/token_usage.h"

namespace aigw::translate {

// One per stream. Converse sends messageStart, then blocks (text and reasoning blocks without a
// start event, toolUse blocks opened by contentBlockStart with id and name), contentBlockStop
// for each, messageStop (stop reason) and last metadata (usage, metrics). OpenAI sends its
// usage chunk after the finish reason, so metadata waits for [DONE] or finish().
class BedrockStreamEncoder {
 public:
  // The map from OpenAI tool index to block is the only state that grows with the answer.
  static constexpr size_t kMaxToolCalls = 128;

  // Appends the frames for one OpenAI event's data ("[DONE]" ends the stream). An error chunk,
  // or data that is no JSON, becomes an exception frame and ends the stream. Returns false
  // once the stream has ended.
  bool onEvent(std::string_view data, std::string& out);
  // The upstream body ended: closes the stream if [DONE] never came.
  void finish(std::string& out);

  bool ended() const { return state_ == State::Ended || state_ == State::Failed; }
  bool failed() const { return state_ == State::Failed; }
  const TokenUsage& usage() const { return usage_; }

 private:
  enum class State { BeforeStart, Streaming, Stopped, Ended, Failed };
  enum class Block { None, Text, Reasoning, Tool };

  void delta(const nlohmann::json& delta, std::string& out);
  void toolCall(const nlohmann::json& call, std::string& out);
  void textDelta(Block kind, std::string_view text, std::string& out);
  void closeBlock(std::string& out);
  void stop(std::string_view stop_reason, std::string& out);
  void close(std::string& out);
  void event(std::string_view type, std::string& out);
  void fail(std::string_view exception, std::string_view message, std::string& out);

  State state_ = State::BeforeStart;
  Block open_ = Block::None;
  int64_t open_index_ = -1;           // the open block's contentBlockIndex
  int64_t next_index_ = 0;            // the next block's contentBlockIndex
  std::vector<int64_t> tool_blocks_;  // OpenAI tool index -> contentBlockIndex
  std::string payload_;               // one event's JSON, reused for every event
  TokenUsage usage_;
};

}  // namespace aigw::translate
