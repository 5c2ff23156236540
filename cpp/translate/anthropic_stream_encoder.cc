#include "translate/anthropic_stream_encoder.h"

#include "core/json_parse.h"
#include "core/json_text.h"
#include "translate/api_errors.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

bool AnthropicStreamEncoder::onEvent(std::string_view data, std::string& out) {
  if (ended()) return false;
  if (data == "[DONE]") {
    if (state_ == State::BeforeStart)
      fail("api_error", "the upstream stream ended without an answer", out);
    else
      close(out);
    return false;
  }
  const json chunk = parseJson(data);
  if (!chunk.is_object()) {
    fail("api_error", "the upstream sent an event that is no JSON object", out);
    return false;
  }
  const json& error = member(chunk, "error");
  if (!error.is_null()) {
    const std::string_view message = memberString(error, "message", "upstream error");
    const std::string_view type = memberString(error, "type");
    fail(type == "rate_limit_error" || type == "invalid_request_error" ? type : "api_error", message, out);
    return false;
  }
  if (state_ == State::BeforeStart) messageStart(chunk, out);
  const json& usage = member(chunk, "usage");
  if (usage.is_object()) usage_.readOpenAi(usage);
  const json& choices = member(chunk, "choices");
  if (choices.is_array() && !choices.empty()) {
    const json& choice = choices[0];  // an Anthropic message has one choice; n > 1 is refused
    delta(member(choice, "delta"), out);
    const std::string_view finish = memberString(choice, "finish_reason");
    if (!finish.empty()) {
      stop_reason_ = stopReasonForFinishReason(finish);
      closeBlock(out);
    }
  }
  return true;
}

void AnthropicStreamEncoder::finish(std::string& out) {
  if (ended()) return;
  if (state_ == State::BeforeStart)
    fail("api_error", "the upstream stream ended without an answer", out);
  else
    close(out);
}

void AnthropicStreamEncoder::messageStart(const json& chunk, std::string& out) {
  beginEvent(out, "message_start");
  out += "{\"type\":\"message_start\",\"message\":{\"id\":";
  appendJsonString(out, memberString(chunk, "id"));
  out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  appendJsonString(out, memberString(chunk, "model"));
  out += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":";
  usage_.readOpenAi(member(chunk, "usage"));
  usage_.appendAnthropic(out);
  out += "}}\n\n";
  state_ = State::Streaming;
}

void AnthropicStreamEncoder::delta(const json& d, std::string& out) {
  if (!d.is_object()) return;
  const std::string_view reasoning = memberString(d, "reasoning_content", memberString(d, "reasoning"));
  if (!reasoning.empty()) textDelta(Block::Thinking, reasoning, out);
  const std::string_view text = memberString(d, "content");
  if (!text.empty()) textDelta(Block::Text, text, out);
  const std::string_view refusal = memberString(d, "refusal");
  if (!refusal.empty()) textDelta(Block::Text, refusal, out);
  const json& calls = member(d, "tool_calls");
  for (size_t i = 0; calls.is_array() && i < calls.size() && !ended(); ++i) toolCall(calls[i], out);
}

void AnthropicStreamEncoder::textDelta(Block kind, std::string_view text, std::string& out) {
  if (open_ != kind) openBlock(kind, out);
  beginEvent(out, "content_block_delta");
  out += "{\"type\":\"content_block_delta\",\"index\":";
  appendJsonNumber(out, open_index_);
  out += kind == Block::Text ? ",\"delta\":{\"type\":\"text_delta\",\"text\":"
                             : ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":";
  appendJsonString(out, text);
  out += "}}\n\n";
}

void AnthropicStreamEncoder::toolCall(const json& call, std::string& out) {
  const json& index_value = member(call, "index");
  const int64_t tool = index_value.is_number_integer() ? index_value.get<int64_t>() : 0;
  if (tool < 0 || static_cast<size_t>(tool) >= kMaxToolCalls) {
    fail("api_error", "the upstream sent a tool call index out of range", out);
    return;
  }
  const json& fn = member(call, "function");
  int64_t block = -1;
  if (static_cast<size_t>(tool) < tool_blocks_.size()) block = tool_blocks_[tool];
  if (block < 0) {
    // A new tool call: it gets its own tool_use block, opened with its id and name.
    closeBlock(out);
    if (tool_blocks_.size() <= static_cast<size_t>(tool)) tool_blocks_.resize(tool + 1, -1);
    block = tool_blocks_[tool] = next_index_++;
    open_ = Block::Tool;
    open_index_ = block;
    open_tool_ = tool;
    beginEvent(out, "content_block_start");
    out += "{\"type\":\"content_block_start\",\"index\":";
    appendJsonNumber(out, block);
    out += ",\"content_block\":{\"type\":\"tool_use\",\"id\":";
    appendJsonString(out, memberString(call, "id"));
    out += ",\"name\":";
    appendJsonString(out, memberString(fn, "name"));
    out += ",\"input\":{}}}\n\n";
  }
  const std::string_view args = memberString(fn, "arguments");
  if (args.empty()) return;
  // A delta of a call whose block was closed (an upstream interleaving calls) still names that
  // block's index: Anthropic's SDKs gather input by index.
  beginEvent(out, "content_block_delta");
  out += "{\"type\":\"content_block_delta\",\"index\":";
  appendJsonNumber(out, block);
  out += ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":";
  appendJsonString(out, args);
  out += "}}\n\n";
}

void AnthropicStreamEncoder::openBlock(Block kind, std::string& out) {
  closeBlock(out);
  open_ = kind;
  open_index_ = next_index_++;
  beginEvent(out, "content_block_start");
  out += "{\"type\":\"content_block_start\",\"index\":";
  appendJsonNumber(out, open_index_);
  out += kind == Block::Text ? ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                             : ",\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n";
}

void AnthropicStreamEncoder::closeBlock(std::string& out) {
  if (open_ == Block::None) return;
  beginEvent(out, "content_block_stop");
  out += "{\"type\":\"content_block_stop\",\"index\":";
  appendJsonNumber(out, open_index_);
  out += "}\n\n";
  open_ = Block::None;
  open_tool_ = -1;
}

void AnthropicStreamEncoder::beginEvent(std::string& out, std::string_view name) const {
  out += "event: ";
  out += name;
  out += "\ndata: ";
}

void AnthropicStreamEncoder::close(std::string& out) {
  closeBlock(out);
  beginEvent(out, "message_delta");
  out += "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":";
  if (stop_reason_.empty()) {
    out += "null";
  } else {
    out += '"';
    out += stop_reason_;  // one of our own constants
    out += '"';
  }
  out += ",\"stop_sequence\":null},\"usage\":";
  usage_.appendAnthropic(out);
  out += "}\n\n";
  beginEvent(out, "message_stop");
  out += "{\"type\":\"message_stop\"}\n\n";
  state_ = State::Ended;
}

void AnthropicStreamEncoder::fail(std::string_view type, std::string_view message, std::string& out) {
  beginEvent(out, "error");
  out += anthropicErrorBody(type, message);
  out += "\n\n";
  state_ = State::Failed;
}

}  // namespace aigw::translate
