#include "translate/bedrock_stream_encoder.h"

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/aws_event_stream.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

bool BedrockStreamEncoder::onEvent(std::string_view data, std::string& out) {
  if (ended()) return false;
  if (data == "[DONE]") {
    finish(out);
    return false;
  }
  const json chunk = parseJson(data);
  if (!chunk.is_object()) {
    fail("internalServerException", "the upstream sent an event that is no JSON object", out);
    return false;
  }
  const json& error = member(chunk, "error");
  if (!error.is_null()) {
    const std::string_view type = memberString(error, "type");
    fail(type == "rate_limit_error"        ? "throttlingException"
         : type == "invalid_request_error" ? "validationException"
                                           : "modelStreamErrorException",
         memberString(error, "message", "upstream error"), out);
    return false;
  }
  if (state_ == State::BeforeStart) {
    payload_ = "{\"role\":\"assistant\"}";
    event("messageStart", out);
    state_ = State::Streaming;
  }
  const json& usage = member(chunk, "usage");
  if (usage.is_object()) usage_.readOpenAi(usage);
  const json& choices = member(chunk, "choices");
  if (choices.is_array() && !choices.empty() && state_ == State::Streaming) {
    const json& choice = choices[0];  // a Converse answer has one choice
    delta(member(choice, "delta"), out);
    const std::string_view finish = memberString(choice, "finish_reason");
    if (!finish.empty() && !ended()) stop(bedrockStopReasonForFinishReason(finish), out);
  }
  return !ended();
}

void BedrockStreamEncoder::finish(std::string& out) {
  if (ended()) return;
  if (state_ == State::BeforeStart) return fail("modelStreamErrorException", "the upstream stream ended without an answer", out);
  if (state_ == State::Streaming) stop("end_turn", out);
  close(out);
}

void BedrockStreamEncoder::delta(const json& d, std::string& out) {
  if (!d.is_object()) return;
  const std::string_view reasoning = memberString(d, "reasoning_content", memberString(d, "reasoning"));
  if (!reasoning.empty()) textDelta(Block::Reasoning, reasoning, out);
  const std::string_view text = memberString(d, "content");
  if (!text.empty()) textDelta(Block::Text, text, out);
  const std::string_view refusal = memberString(d, "refusal");
  if (!refusal.empty()) textDelta(Block::Text, refusal, out);
  const json& calls = member(d, "tool_calls");
  for (size_t i = 0; calls.is_array() && i < calls.size() && !ended(); ++i) toolCall(calls[i], out);
}

void BedrockStreamEncoder::textDelta(Block kind, std::string_view text, std::string& out) {
  if (open_ != kind) {
    closeBlock(out);  // text and reasoning blocks have no start event: the first delta opens one
    open_ = kind;
    open_index_ = next_index_++;
  }
  payload_ = "{\"contentBlockIndex\":";
  appendJsonNumber(payload_, open_index_);
  payload_ += kind == Block::Text ? ",\"delta\":{\"text\":" : ",\"delta\":{\"reasoningContent\":{\"text\":";
  appendJsonString(payload_, text);
  payload_ += kind == Block::Text ? "}}" : "}}}";
  event("contentBlockDelta", out);
}

void BedrockStreamEncoder::toolCall(const json& call, std::string& out) {
  const json& index_value = member(call, "index");
  const int64_t tool = index_value.is_number_integer() ? index_value.get<int64_t>() : 0;
  if (tool < 0 || static_cast<size_t>(tool) >= kMaxToolCalls) {
    return fail("modelStreamErrorException", "the upstream sent a tool call index out of range", out);
  }
  const json& fn = member(call, "function");
  int64_t block = static_cast<size_t>(tool) < tool_blocks_.size() ? tool_blocks_[tool] : -1;
  if (block < 0) {
    // A new tool call: its own toolUse block, opened with its id and name.
    closeBlock(out);
    if (tool_blocks_.size() <= static_cast<size_t>(tool)) tool_blocks_.resize(tool + 1, -1);
    block = tool_blocks_[tool] = next_index_++;
    open_ = Block::Tool;
    open_index_ = block;
    payload_ = "{\"contentBlockIndex\":";
    appendJsonNumber(payload_, block);
    payload_ += ",\"start\":{\"toolUse\":{\"toolUseId\":";
    appendJsonString(payload_, memberString(call, "id"));
    payload_ += ",\"name\":";
    appendJsonString(payload_, memberString(fn, "name"));
    payload_ += "}}}";
    event("contentBlockStart", out);
  }
  const std::string_view args = memberString(fn, "arguments");
  if (args.empty()) return;
  // A delta of a call whose block was closed (an upstream interleaving calls) still names that
  // block's index: Bedrock's SDKs gather input by contentBlockIndex.
  payload_ = "{\"contentBlockIndex\":";
  appendJsonNumber(payload_, block);
  payload_ += ",\"delta\":{\"toolUse\":{\"input\":";
  appendJsonString(payload_, args);
  payload_ += "}}}";
  event("contentBlockDelta", out);
}

void BedrockStreamEncoder::closeBlock(std::string& out) {
  if (open_ == Block::None) return;
  payload_ = "{\"contentBlockIndex\":";
  appendJsonNumber(payload_, open_index_);
  payload_ += '}';
  event("contentBlockStop", out);
  open_ = Block::None;
}

void BedrockStreamEncoder::stop(std::string_view stop_reason, std::string& out) {
  closeBlock(out);
  payload_ = "{\"stopReason\":\"";
  payload_ += stop_reason;  // one of our own constants: no escaping needed
  payload_ += "\"}";
  event("messageStop", out);
  state_ = State::Stopped;
}

void BedrockStreamEncoder::close(std::string& out) {
  payload_ = "{\"usage\":";
  usage_.appendBedrock(payload_);
  payload_ += ",\"metrics\":{\"latencyMs\":0}}";
  event("metadata", out);
  state_ = State::Ended;
}

void BedrockStreamEncoder::event(std::string_view type, std::string& out) {
  http::appendEventStreamEvent(out, type, payload_);
}

void BedrockStreamEncoder::fail(std::string_view exception, std::string_view message, std::string& out) {
  payload_ = "{\"message\":";
  appendJsonString(payload_, message);
  payload_ += '}';
  http::appendEventStreamException(out, exception, payload_);
  state_ = State::Failed;
}

}  // namespace aigw::translate
