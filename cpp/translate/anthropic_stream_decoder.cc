#include "translate/anthropic_stream_decoder.h"

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/response.h"
#include "translate/api_errors.h"
#include "translate/chat_completion.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

namespace {
constexpr std::string_view kDone = "data: [DONE]\n\n";
}  // namespace

bool AnthropicStreamDecoder::onEvent(std::string_view event, std::string_view data, std::string& out) {
  if (ended()) return false;
  if (event == "ping") return true;
  const json doc = parseJson(data);
  if (!doc.is_object()) {
    fail("api_error", "the upstream sent an event that is no JSON object", out);
    return false;
  }
  // Anthropic names each event twice (SSE event and data.type); data.type also covers a relay
  // that dropped the event lines.
  const std::string_view type = memberString(doc, "type", event);
  if (type == "error") {
    const json& error = member(doc, "error");
    fail(memberString(error, "type", "api_error"), memberString(error, "message", "upstream error"), out);
    return false;
  }
  if (state_ == State::BeforeStart) {
    if (type != "message_start") {
      fail("api_error", "the upstream stream did not begin with message_start", out);
      return false;
    }
    messageStart(member(doc, "message"), out);
    return true;
  }
  if (type == "content_block_start" || type == "content_block_delta" || type == "content_block_stop") {
    contentBlock(type, doc, out);
  } else if (type == "message_delta") {
    usage_.readAnthropic(member(doc, "usage"));
    const std::string_view stop = memberString(member(doc, "delta"), "stop_reason");
    if (!stop.empty()) {
      appendChatChunkStart(out, head_);
      out += "{}";
      appendChatChunkEnd(out, finishReasonForStopReason(stop));
    }
  } else if (type == "message_stop") {
    if (include_usage_) {
      out += "data: ";
      out += head_;
      out += ",\"choices\":[],\"usage\":";
      usage_.appendOpenAi(out);
      out += "}\n\n";
    }
    out += kDone;
    state_ = State::Ended;
  }
  // Anything else (an event type newer than this code) carries nothing an OpenAI chunk has.
  return !ended();
}

void AnthropicStreamDecoder::messageStart(const json& message, std::string& out) {
  usage_.readAnthropic(member(message, "usage"));
  head_.reserve(128);
  head_ = "{\"id\":";
  appendJsonString(head_, memberString(message, "id"));
  head_ += ",\"object\":\"chat.completion.chunk\",\"created\":";
  appendJsonNumber(head_, created_);
  head_ += ",\"model\":";
  appendJsonString(head_, memberString(message, "model"));
  state_ = State::Streaming;
  appendChatChunkStart(out, head_);
  out += "{\"role\":\"assistant\",\"content\":\"\"}";
  appendChatChunkEnd(out);
}

void AnthropicStreamDecoder::contentBlock(std::string_view type, const json& event, std::string& out) {
  if (type == "content_block_stop") {
    in_tool_block_ = false;
    return;
  }
  if (type == "content_block_start") {
    const json& block = member(event, "content_block");
    const std::string_view kind = memberString(block, "type");
    in_tool_block_ = kind == "tool_use";
    if (in_tool_block_) {
      appendToolCallStartChunk(out, head_, tool_calls_++, memberString(block, "id"), memberString(block, "name"));
    } else if (kind == "text" && !memberString(block, "text").empty()) {
      appendTextChunk(out, head_, "content", memberString(block, "text"));
    }
    return;
  }
  const json& delta = member(event, "delta");
  const std::string_view kind = memberString(delta, "type");
  // signature_delta and citations_delta have no place in an OpenAI chunk.
  std::string_view field;
  std::string_view text;
  if (kind == "text_delta") {
    field = "content";
    text = memberString(delta, "text");
  } else if (kind == "thinking_delta") {
    field = "reasoning_content";
    text = memberString(delta, "thinking");
  } else if (kind == "input_json_delta" && in_tool_block_) {
    appendToolCallArgumentsChunk(out, head_, tool_calls_ - 1, memberString(delta, "partial_json"));
    return;
  }
  if (field.empty() || text.empty()) return;
  appendTextChunk(out, head_, field, text);
}

// OpenAI streams report a failure as a chunk {"error":{...}}, which the official SDKs raise.
void AnthropicStreamDecoder::fail(std::string_view type, std::string_view message, std::string& out) {
  out += "data: ";
  // 529 (overloaded) is 503 to OpenAI clients, as for whole answers (openAiErrorFromAnthropic).
  int status = statusForAnthropicErrorType(type);
  if (status == 529) status = 503;
  out += http::openAiErrorBody(message, http::errorTypeForStatus(status), type);
  out += "\n\n";
  state_ = State::Failed;
}

}  // namespace aigw::translate
