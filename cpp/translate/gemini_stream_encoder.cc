#include "translate/gemini_stream_encoder.h"

#include "core/json_parse.h"
#include "core/json_text.h"
#include "translate/gemini_errors.h"
#include "translate/gemini_response_encoder.h"
#include "translate/gemini_usage.h"
#include "translate/json_member.h"
#include "translate/stop_reasons.h"

namespace aigw::translate {

using nlohmann::json;

namespace {
constexpr std::string_view kBadArguments = "the upstream's tool arguments are no JSON object";
}  // namespace

bool GeminiStreamEncoder::onEvent(std::string_view data, std::string& out) {
  if (ended()) return false;
  if (data == "[DONE]") {
    end(out);
    return false;
  }
  const json chunk = parseJson(data);
  if (!chunk.is_object()) {
    fail(502, "the upstream sent an event that is no JSON object", out);
    return false;
  }
  const json& error = member(chunk, "error");
  if (!error.is_null()) {
    const json& code = member(error, "code");
    fail(code.is_number_integer() ? code.get<int>() : 500, memberString(error, "message", "upstream error"), out);
    return false;
  }
  if (id_.empty() && model_.empty()) {
    id_ = geminiResponseId(memberString(chunk, "id"));
    model_ = memberString(chunk, "model");
  }
  const json& usage = member(chunk, "usage");
  if (usage.is_object()) {
    usage_.readOpenAi(usage);
    has_usage_ = true;
  }
  const json& choices = member(chunk, "choices");
  for (size_t i = 0; choices.is_array() && i < choices.size() && !ended(); ++i) choice(choices[i], out);
  if (!ended() && has_usage_ && (choices.empty() || !choices.is_array())) event(out, -1, {}, {}, true);
  return !ended();
}

void GeminiStreamEncoder::finish(std::string& out) {
  if (!ended()) end(out);
}

void GeminiStreamEncoder::choice(const json& c, std::string& out) {
  const json& index_value = member(c, "index");
  const int64_t index = index_value.is_number_integer() ? index_value.get<int64_t>() : 0;
  if (index < 0 || index >= kMaxCandidates) return fail(502, "the upstream sent a choice index out of range", out);
  const json& delta = member(c, "delta");
  std::string parts;
  const std::string_view reasoning = memberString(delta, "reasoning_content", memberString(delta, "reasoning"));
  if (!reasoning.empty()) {
    parts += "{\"text\":";
    appendJsonString(parts, reasoning);
    parts += ",\"thought\":true}";
  }
  for (const char* key : {"content", "refusal"}) {
    const std::string_view text = memberString(delta, key);
    if (text.empty()) continue;
    if (!parts.empty()) parts += ',';
    parts += "{\"text\":";
    appendJsonString(parts, text);
    parts += '}';
  }
  const json& calls = member(delta, "tool_calls");
  for (size_t i = 0; calls.is_array() && i < calls.size(); ++i) {
    if (!gather(index, calls[i], out)) return;
  }
  const std::string_view finish = memberString(c, "finish_reason");
  if (!finish.empty()) {
    std::string called;
    if (!takeCalls(index, called)) return fail(502, kBadArguments, out);
    if (!called.empty()) {
      if (!parts.empty()) parts += ',';
      parts += called;
    }
    event(out, index, parts, geminiFinishReasonForFinishReason(finish), has_usage_);
  } else if (!parts.empty()) {
    event(out, index, parts, {}, false);
  }
}

bool GeminiStreamEncoder::gather(int64_t choice, const json& call, std::string& out) {
  const json& index_value = member(call, "index");
  const int64_t index = index_value.is_number_integer() ? index_value.get<int64_t>() : 0;
  PendingCall* pending = nullptr;
  for (PendingCall& p : calls_) {
    if (p.choice == choice && p.index == index) pending = &p;
  }
  if (pending == nullptr) {
    if (calls_.size() >= kMaxToolCalls) {
      fail(502, "the upstream sent more tool calls than the mock gathers", out);
      return false;
    }
    pending = &calls_.emplace_back(PendingCall{choice, index, {}, {}, {}});
  }
  const json& fn = member(call, "function");
  pending->name += memberString(fn, "name");
  pending->arguments += memberString(fn, "arguments");
  const std::string_view signature = memberString(member(member(call, "extra_content"), "google"), "thought_signature");
  if (!signature.empty()) pending->signature = signature;
  return true;
}

// The gathered calls of `choice` as functionCall parts, in the order they began; false when
// one's arguments are no JSON object.
bool GeminiStreamEncoder::takeCalls(int64_t choice, std::string& parts) {
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->choice != choice) {
      ++it;
      continue;
    }
    if (!parts.empty()) parts += ',';
    if (!appendGeminiFunctionCall(parts, it->name, it->arguments, it->signature)) return false;
    it = calls_.erase(it);
  }
  return true;
}

void GeminiStreamEncoder::event(std::string& out, int64_t index, std::string_view parts, std::string_view finish,
                                bool with_usage) {
  out += "data: {";
  if (index >= 0) {
    out += "\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[";
    out += parts;
    out += "]}";
    if (!finish.empty()) {
      out += ",\"finishReason\":\"";
      out += finish;  // our own constant
      out += '"';
    }
    out += ",\"index\":";
    appendJsonNumber(out, index);
    out += "}],";
  }
  if (with_usage) {
    out += "\"usageMetadata\":";
    appendGeminiUsage(usage_, out);
    out += ',';
  }
  out += "\"modelVersion\":";
  appendJsonString(out, model_);
  out += ",\"responseId\":";
  appendJsonString(out, id_);
  out += "}\r\n\r\n";
}

void GeminiStreamEncoder::end(std::string& out) {
  // Calls of a choice that never finished still go out, ending that candidate.
  while (!calls_.empty()) {
    const int64_t choice = calls_.front().choice;
    std::string parts;
    if (!takeCalls(choice, parts)) return fail(502, kBadArguments, out);
    event(out, choice, parts, "STOP", false);
  }
  state_ = State::Ended;
}

void GeminiStreamEncoder::fail(int status, std::string_view message, std::string& out) {
  out += "data: ";
  out += geminiErrorBody(status, message);
  out += "\r\n\r\n";
  state_ = State::Failed;
}

}  // namespace aigw::translate
