#include "guardrails/stream_guard.h"

#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"

namespace aigw::guardrails {

using nlohmann::json;

StreamGuard::StreamGuard(RequestGuardrails& req, Endpoint endpoint)
    : req_(req), endpoint_(endpoint), decoder_(&StreamGuard::onEvent, this) {}

bool StreamGuard::feed(std::string_view bytes, std::string& out) {
  if (blocked_) return false;
  out_ = &out;
  const bool ok = decoder_.feed(bytes);
  out_ = nullptr;
  if (!ok && !blocked_) {
    // An event past the decoder's cap (1 MiB) cannot be checked, and what came before it in
    // this piece has gone out already: the stream ends as an error whatever on_error says.
    CheckResult r;
    r.error = true;
    r.reason = "a stream event is too large to check";
    const Guardrail& g = *req_.selection().stream.front();
    r = req_.record(g, Stage::Stream, std::move(r), 0);
    if (r.verdict != Verdict::Block) {
      r.verdict = Verdict::Block;
      req_.record(g, Stage::Stream, r, 0);
    }
    blocked_ = true;
  }
  return !blocked_;
}

bool StreamGuard::finish(std::string& out) {
  if (blocked_) return false;
  out_ = &out;
  if (!done_) flushAll();
  if (!blocked_) release();
  out_ = nullptr;
  return !blocked_;
}

void StreamGuard::onEvent(void* self, const http::SseDecoder::Event& e) { static_cast<StreamGuard*>(self)->event(e); }

StreamGuard::Choice& StreamGuard::choice(int64_t index) {
  for (Choice& c : choices_) {
    if (c.index == index) return c;
  }
  Choice& c = choices_.emplace_back();
  c.index = index;
  return c;
}

void StreamGuard::append(std::string_view data, std::string_view event_name) {
  http::appendSseEvent(released_ ? *out_ : early_, data, event_name == "message" ? std::string_view() : event_name);
}

void StreamGuard::release() {
  if (released_) return;
  released_ = true;
  out_->append(early_);
  std::string().swap(early_);
}

std::string StreamGuard::window(Choice& c, bool final) {
  if (c.pending.size() > kMaxHeld) final = true;
  const size_t k = req_.selection().window;
  size_t settled = final ? c.pending.size() : (c.pending.size() > k ? c.pending.size() - k : 0);
  settled = utf8Floor(c.pending, settled);
  for (const Guardrail* g : req_.selection().stream) {
    TextRefs texts{&c.pending};
    CheckInput in;
    in.stage = Stage::Stream;
    in.endpoint = endpoint_;
    in.texts = &texts;
    in.settled = &settled;
    in.final = final;
    const CheckResult r = req_.runOne(*g, in);
    if (r.verdict == Verdict::Block) {
      blocked_ = true;
      return {};
    }
  }
  settled = utf8Floor(c.pending, std::min(settled, c.pending.size()));
  std::string out = c.pending.substr(0, settled);
  c.pending.erase(0, settled);
  if (!out.empty()) release();
  return out;
}

void StreamGuard::event(const http::SseDecoder::Event& e) {
  if (blocked_) return;
  if (e.data == "[DONE]") {
    flushAll();
    if (blocked_) return;
    done_ = true;
    release();
    append(e.data, e.event);
    return;
  }
  json doc = json::parse(e.data, nullptr, false);
  auto choices = doc.is_object() ? doc.find("choices") : doc.end();
  if (!doc.is_object() || choices == doc.end() || !choices->is_array()) {
    append(e.data, e.event);  // usage chunks, errors: nothing to check
    return;
  }
  for (const char* key : {"id", "object", "created", "model", "system_fingerprint"}) {
    if (auto it = doc.find(key); it != doc.end()) last_chunk_[key] = *it;
  }
  bool changed = false;
  int64_t position = 0;
  for (json& ch : *choices) {
    if (!ch.is_object()) {
      ++position;
      continue;
    }
    auto idx = ch.find("index");
    const int64_t index = idx != ch.end() && idx->is_number_integer() ? idx->get<int64_t>() : position;
    ++position;
    std::string* text = chunkChoiceText(endpoint_, ch);
    auto fr = ch.find("finish_reason");
    const bool final = fr != ch.end() && !fr->is_null();
    Choice& c = choice(index);
    if (text == nullptr && (!final || c.pending.empty())) continue;
    std::string original = text != nullptr ? *text : std::string();
    c.pending += original;
    std::string out = window(c, final);
    if (blocked_) return;
    if (text == nullptr || out != original) {
      setChunkChoiceText(endpoint_, ch, std::move(out));
      changed = true;
    }
  }
  if (changed) {
    append(dumpJson(doc), e.event);
  } else {
    append(e.data, e.event);
  }
}

// Sends what every choice still holds, as chunks of their own (before [DONE] or the end).
void StreamGuard::flushAll() {
  for (Choice& c : choices_) {
    if (c.pending.empty()) continue;
    std::string text = window(c, true);
    if (blocked_) return;
    if (text.empty()) continue;
    json chunk = last_chunk_.is_object() ? last_chunk_ : json::object();
    json ch = {{"index", c.index}};
    setChunkChoiceText(endpoint_, ch, std::move(text));
    ch["finish_reason"] = nullptr;
    chunk["choices"] = json::array({std::move(ch)});
    append(dumpJson(chunk), "message");
  }
}

}  // namespace aigw::guardrails
