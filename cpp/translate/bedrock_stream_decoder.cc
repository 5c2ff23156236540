#include "translate/bedrock_stream_decoder.h"

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/response.h"
#include "translate/bedrock_errors.h"
#include "translate/bedrock_response_decoder.h"
#include "translate/chat_completion.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

namespace {
constexpr std::string_view kDone = "data: [DONE]\n\n";

int64_t blockIndex(const json& event) {
  const json& v = member(event, "contentBlockIndex");
  return v.is_number_integer() ? v.get<int64_t>() : -1;
}
}  // namespace

BedrockStreamDecoder::BedrockStreamDecoder(int64_t created, std::string_view model, bool include_usage,
                                           std::string_view request_id)
    : include_usage_(include_usage) {
  head_.reserve(128);
  head_ = "{\"id\":";
  appendJsonString(head_, bedrockCompletionId(request_id));
  head_ += ",\"object\":\"chat.completion.chunk\",\"created\":";
  appendJsonNumber(head_, created);
  head_ += ",\"model\":";
  appendJsonString(head_, model);
}

bool BedrockStreamDecoder::onEvent(std::string_view type, std::string_view payload, std::string& out) {
  if (ended()) return false;
  const json event = parseJson(payload);
  if (!event.is_object()) {
    fail(502, "", "the upstream sent an event that is no JSON object", out);
    return false;
  }
  // Converse always opens with messageStart; a stream that skips it still gets its role chunk.
  if (state_ == State::BeforeStart) start(out);
  if (type == "contentBlockStart") {
    blockStart(event, out);
  } else if (type == "contentBlockDelta") {
    blockDelta(event, out);
  } else if (type == "contentBlockStop") {
    if (blockIndex(event) == tool_block_) tool_block_ = -1;
  } else if (type == "messageStop") {
    appendChatChunkStart(out, head_);
    out += "{}";
    appendChatChunkEnd(out, finishReasonForBedrockStopReason(memberString(event, "stopReason", "end_turn")));
    state_ = State::Stopped;
  } else if (type == "metadata") {
    usage_.readBedrock(member(event, "usage"));
    close(out);
  }
  // messageStart (handled above) and anything newer than this code carry nothing a chunk has.
  return !ended();
}

void BedrockStreamDecoder::onException(std::string_view type, std::string_view payload, std::string& out) {
  if (ended()) return;
  const json doc = parseJson(payload);
  std::string_view message = memberString(doc, "message", memberString(doc, "Message"));
  if (message.empty()) message = doc.is_discarded() ? payload.substr(0, 1024) : std::string_view("upstream error");
  std::string code(bedrockExceptionName(type));
  if (!code.empty() && code[0] >= 'a' && code[0] <= 'z') code[0] = char(code[0] - 'a' + 'A');
  fail(statusForBedrockException(code, 502), code, message, out);
}

void BedrockStreamDecoder::finish(std::string& out) {
  if (ended()) return;
  if (state_ == State::Stopped)
    close(out);
  else
    fail(502, "", "the upstream stream ended before the answer was complete", out);
}

void BedrockStreamDecoder::start(std::string& out) {
  state_ = State::Streaming;
  appendChatChunkStart(out, head_);
  out += "{\"role\":\"assistant\",\"content\":\"\"}";
  appendChatChunkEnd(out);
}

void BedrockStreamDecoder::blockStart(const json& event, std::string& out) {
  const json& use = member(member(event, "start"), "toolUse");
  if (!use.is_object()) return;
  tool_block_ = blockIndex(event);
  appendToolCallStartChunk(out, head_, tool_calls_++, memberString(use, "toolUseId"), memberString(use, "name"));
}

void BedrockStreamDecoder::blockDelta(const json& event, std::string& out) {
  const json& delta = member(event, "delta");
  const json& use = member(delta, "toolUse");
  if (use.is_object()) {
    const std::string_view input = memberString(use, "input");
    if (input.empty() || tool_calls_ == 0 || blockIndex(event) != tool_block_) return;
    appendToolCallArgumentsChunk(out, head_, tool_calls_ - 1, input);
    return;
  }
  // Reasoning signatures and redacted reasoning, citations and images have no chunk field.
  const std::string_view text = memberString(delta, "text");
  if (!text.empty()) appendTextChunk(out, head_, "content", text);
  const std::string_view reasoning = memberString(member(delta, "reasoningContent"), "text");
  if (!reasoning.empty()) appendTextChunk(out, head_, "reasoning_content", reasoning);
}

void BedrockStreamDecoder::close(std::string& out) {
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

// OpenAI streams report a failure as a chunk {"error":{...}}, which the official SDKs raise.
void BedrockStreamDecoder::fail(int status, std::string_view code, std::string_view message, std::string& out) {
  out += "data: ";
  out += http::openAiErrorBody(message, http::errorTypeForStatus(status), code);
  out += "\n\n";
  state_ = State::Failed;
}

}  // namespace aigw::translate
