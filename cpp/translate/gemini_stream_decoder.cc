#include "translate/gemini_stream_decoder.h"

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/response.h"
#include "translate/gemini_response_decoder.h"
#include "translate/gemini_usage.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

namespace {
constexpr std::string_view kDone = "data: [DONE]\n\n";
}  // namespace

bool GeminiStreamDecoder::onEvent(std::string_view data, std::string& out) {
  if (ended()) return false;
  const json doc = parseJson(data);
  if (!doc.is_object()) {
    fail(502, "upstream_error", "the upstream sent an event that is no JSON object", out);
    return false;
  }
  const json& error = member(doc, "error");
  if (!error.is_null()) {
    const json& code = member(error, "code");
    fail(code.is_number_integer() ? code.get<int>() : 500, memberString(error, "status"),
         memberString(error, "message", "upstream error"), out);
    return false;
  }
  if (state_ == State::BeforeStart) start(doc);
  readGeminiUsage(member(doc, "usageMetadata"), usage_);
  const json& candidates = member(doc, "candidates");
  for (size_t i = 0; i < candidates.size() && !ended(); ++i) {
    if (!candidate(candidates[i], i, out)) return false;
  }
  if (candidates.empty() && !memberString(member(doc, "promptFeedback"), "blockReason").empty()) {
    // The prompt was blocked: no candidate will come.
    if ((started_ & 1) == 0) {
      started_ |= 1;
      beginChunk(out, 0);
      out += "{\"role\":\"assistant\",\"content\":\"\"}";
      endChunk(out);
    }
    beginChunk(out, 0);
    out += "{}";
    endChunk(out, "content_filter");
  }
  return true;
}

void GeminiStreamDecoder::finish(std::string& out) {
  if (ended()) return;
  if (state_ == State::BeforeStart) {
    fail(502, "upstream_error", "the upstream stream ended without an answer", out);
    return;
  }
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

void GeminiStreamDecoder::start(const json& response) {
  head_.reserve(128);
  head_ = "{\"id\":";
  appendJsonString(head_, std::string("chatcmpl-") += memberString(response, "responseId"));
  head_ += ",\"object\":\"chat.completion.chunk\",\"created\":";
  appendJsonNumber(head_, created_);
  head_ += ",\"model\":";
  appendJsonString(head_, model_.empty() ? memberString(response, "modelVersion") : std::string_view(model_));
  state_ = State::Streaming;
}

bool GeminiStreamDecoder::candidate(const json& c, size_t position, std::string& out) {
  const json& index_value = member(c, "index");
  const int64_t index = index_value.is_number_integer() ? index_value.get<int64_t>() : static_cast<int64_t>(position);
  if (index < 0 || static_cast<size_t>(index) >= kMaxCandidates) {
    fail(502, "upstream_error", "the upstream sent a candidate index out of range", out);
    return false;
  }
  const uint32_t bit = 1u << index;
  if ((started_ & bit) == 0) {
    started_ |= bit;
    beginChunk(out, index);
    out += "{\"role\":\"assistant\",\"content\":\"\"}";
    endChunk(out);
  }
  const json& parts = member(member(c, "content"), "parts");
  for (size_t j = 0; parts.is_array() && j < parts.size(); ++j) {
    const json& part = parts[j];
    if (part.contains("functionCall")) {
      beginChunk(out, index);
      out += "{\"tool_calls\":[";
      appendGeminiToolCall(out, part, call_number_++, tool_calls_[index]++);
      out += "]}";
      endChunk(out);
    } else if (member(part, "text").is_string()) {
      const bool thought = member(part, "thought") == true;
      textDelta(index, thought ? "{\"reasoning_content\":" : "{\"content\":", memberString(part, "text"), out);
    }
  }
  const std::string_view finish = memberString(c, "finishReason");
  if (!finish.empty()) {
    beginChunk(out, index);
    out += "{}";
    endChunk(out, finishReasonForGeminiFinishReason(finish, tool_calls_[index] > 0));
  }
  return true;
}

void GeminiStreamDecoder::textDelta(int64_t index, const char* field, std::string_view text, std::string& out) {
  if (text.empty()) return;
  beginChunk(out, index);
  out += field;
  appendJsonString(out, text);
  out += '}';
  endChunk(out);
}

void GeminiStreamDecoder::beginChunk(std::string& out, int64_t index) const {
  out += "data: ";
  out += head_;
  out += ",\"choices\":[{\"index\":";
  appendJsonNumber(out, index);
  out += ",\"delta\":";
}

void GeminiStreamDecoder::endChunk(std::string& out, std::string_view finish_reason) const {
  out += ",\"logprobs\":null,\"finish_reason\":";
  if (finish_reason.empty()) {
    out += "null";
  } else {
    out += '"';
    out += finish_reason;  // one of our own constants: no escaping needed
    out += '"';
  }
  out += "}]}\n\n";
}

// OpenAI streams report a failure as a chunk {"error":{...}}, which the official SDKs raise;
// Google's status name (INVALID_ARGUMENT, RESOURCE_EXHAUSTED ...) is its code.
void GeminiStreamDecoder::fail(int status, std::string_view code, std::string_view message, std::string& out) {
  out += "data: ";
  out += http::openAiErrorBody(message, http::errorTypeForStatus(status), code);
  out += "\n\n";
  state_ = State::Failed;
}

}  // namespace aigw::translate
