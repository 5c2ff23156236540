// Bedrock ConverseStream events -> OpenAI chat.completion.chunk events, one event at a time as
// the AwsEventStreamDecoder hands them over: what an OpenAI client streaming from kind: bedrock receives.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "translate/token_usage.h"

namespace aigw::translate {

// One per stream. State is a few scalars and the chunk head (id, created, model), written once;
// each event's output is appended straight to the caller's buffer. Converse sends messageStop
// (the stop reason) before metadata (the usage), so [DONE] follows metadata, or finish().
class BedrockStreamDecoder {
 public:
  // created: unix seconds for every chunk; model: the client's name for the model (Converse
  // names none); include_usage: the client's stream_options.include_usage; request_id: the
  // x-amzn-requestid, for the chunk id ("chatcmpl-<request_id>").
  BedrockStreamDecoder(int64_t created, std::string_view model, bool include_usage, std::string_view request_id = {});

  // Appends the OpenAI SSE bytes for one event message (`event_type`: its :event-type,
  // `payload`: its JSON). metadata ends the stream with "data: [DONE]". A payload that is no
  // JSON object becomes an error chunk and ends the stream. Returns false once it has ended.
  bool onEvent(std::string_view event_type, std::string_view payload, std::string& out);
  // An exception message (:exception-type, JSON payload with "message"), or an error message
  // (:error-code, :error-message as the payload): an OpenAI error chunk, and the end.
  void onException(std::string_view type, std::string_view payload, std::string& out);
  // The upstream body ended: [DONE] after messageStop even without metadata; an error chunk
  // when the answer was cut before messageStop.
  void finish(std::string& out);

  bool ended() const { return state_ == State::Ended || state_ == State::Failed; }
  bool failed() const { return state_ == State::Failed; }
  const TokenUsage& usage() const { return usage_; }

 private:
  enum class State { BeforeStart, Streaming, Stopped, Ended, Failed };

  void start(std::string& out);
  void blockStart(const nlohmann::json& event, std::string& out);
  void blockDelta(const nlohmann::json& event, std::string& out);
  void close(std::string& out);
  void fail(int status, std::string_view code, std::string_view message, std::string& out);

  bool include_usage_;
  State state_ = State::BeforeStart;
  std::string head_;         // {"id":..,"object":"chat.completion.chunk","created":..,"model":..
  int64_t tool_calls_ = 0;   // toolUse blocks seen: the next one's OpenAI index
  int64_t tool_block_ = -1;  // the contentBlockIndex of the open toolUse block
  TokenUsage usage_;
};

}  // namespace aigw::translate
