#include "guardrails/stream_guard.h"

#include <algorithm>

#include "core/json_parse.h"
#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"

namespace aigw::guardrails {

using nlohmann::json;

// A window's StageRun while it waits for verdicts: released through the host once it settled
// (settled() runs inside it).
class StreamGuard::WindowRun final : public DeferredDeletable {
 public:
  WindowRun(RequestGuardrails& req, const std::vector<const Guardrail*>& list, CheckInput in, StageHost* host)
      : run(req, list, in, host) {}
  StageRun run;
};

StreamGuard::StreamGuard(RequestGuardrails& req, Endpoint endpoint, StreamHost& host)
    : req_(req), endpoint_(endpoint), host_(host), decoder_(&StreamGuard::onEvent, this) {
  const auto& list = req.selection().stream;
  has_async_ = std::any_of(list.begin(), list.end(), [](const Guardrail* g) { return g->asynchronous(); });
}

StreamGuard::~StreamGuard() = default;

void StreamGuard::detach() {
  detached_ = true;
  if (run_) run_->run.cancel();  // no verdict reaches us any more
}

void StreamGuard::feed(std::string_view bytes) {
  if (blocked_ || detached_ || decoder_.overflowed()) return;
  if (!decoder_.feed(bytes)) {
    // An event past the decoder's cap (1 MiB) cannot be checked: after what came before it,
    // the stream ends as an error whatever on_error says.
    queue_.push_back(Item{Item::Kind::TooBig, {}, {}});
  }
  pump();
}

void StreamGuard::finish() {
  if (blocked_ || detached_) return;
  queue_.push_back(Item{Item::Kind::End, {}, {}});
  pump();
}

void StreamGuard::onEvent(void* self, const http::SseDecoder::Event& e) {
  auto* g = static_cast<StreamGuard*>(self);
  if (g->blocked_ || g->detached_) return;
  if (g->queue_.empty()) {
    // Nothing waits ahead of it: checked now, without a copy, unless its window must wait.
    Item item{Item::Kind::Event, {}, {}};
    if (g->step(item, e.data, e.event)) {
      g->cur_ = Progress{};
      return;
    }
    item.data.assign(e.data);
    item.event.assign(e.event);
    g->queued_bytes_ += item.data.size();
    g->queue_.push_back(std::move(item));
    return;
  }
  g->queue_.push_back(Item{Item::Kind::Event, std::string(e.data), std::string(e.event)});
  g->queued_bytes_ += e.data.size();
}

void StreamGuard::pump() {
  if (pumping_) return;  // a host call below us fed more: the loop below takes it
  pumping_ = true;
  const bool was_full = full();
  for (;;) {
    while (!blocked_ && !detached_ && !run_ && !queue_.empty()) {
      Item& item = queue_.front();
      if (!step(item, item.data, item.event)) break;  // its window waits for verdicts
      if (blocked_ || detached_) break;
      queued_bytes_ -= item.data.size();
      queue_.pop_front();
      cur_ = Progress{};
    }
    if (detached_) break;
    if (blocked_) {
      // Nothing decided in this turn goes out: the block is what the client gets.
      queue_.clear();
      queued_bytes_ = 0;
      out_.clear();
      host_.streamBlocked();
      break;
    }
    if (!out_.empty()) {
      std::string out;
      out.swap(out_);
      host_.streamOut(out);
      continue;  // the host may have fed more meanwhile
    }
    if (ended_) {
      ended_ = false;
      host_.streamFinished();
    }
    break;
  }
  if (!detached_ && !blocked_ && was_full && !full()) host_.streamDrained();
  pumping_ = false;
}

bool StreamGuard::step(Item& item, std::string_view data, std::string_view event) {
  switch (item.kind) {
    case Item::Kind::TooBig:
      tooBig();
      return true;
    case Item::Kind::End:
      if (!done_ && !flush()) return false;
      if (blocked_) return true;
      release();
      ended_ = true;
      return true;
    case Item::Kind::Event:
      break;
  }
  if (data == "[DONE]") {
    if (!flush()) return false;
    if (blocked_) return true;
    done_ = true;
    release();
    append(data, event);
    return true;
  }
  return stepChunk(data, event);
}

void StreamGuard::tooBig() {
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

size_t StreamGuard::choiceAt(int64_t index) {
  for (size_t i = 0; i < choices_.size(); ++i) {
    if (choices_[i].index == index) return i;
  }
  choices_.emplace_back().index = index;
  return choices_.size() - 1;
}

void StreamGuard::append(std::string_view data, std::string_view event_name) {
  http::appendSseEvent(released_ ? out_ : early_, data, event_name == "message" ? std::string_view() : event_name);
}

void StreamGuard::release() {
  if (released_) return;
  released_ = true;
  out_.append(early_);
  std::string().swap(early_);
}

bool StreamGuard::startWindow(size_t index, bool final) {
  Choice& c = choices_[index];
  if (c.pending.size() > kMaxHeld) final = true;
  const size_t k = req_.selection().window;
  window_settled_ = final ? c.pending.size() : (c.pending.size() > k ? c.pending.size() - k : 0);
  window_settled_ = utf8Floor(c.pending, window_settled_);
  window_texts_.assign(1, &c.pending);
  window_choice_ = index;
  CheckInput in;
  in.stage = Stage::Stream;
  in.endpoint = endpoint_;
  in.texts = &window_texts_;
  in.settled = &window_settled_;
  in.final = final;
  in.choice = c.index;
  if (!has_async_) {
    StageRun run(req_, req_.selection().stream, in, static_cast<StageHost*>(this));
    endWindow(run.run());
    return true;
  }
  run_ = std::make_unique<WindowRun>(req_, req_.selection().stream, in, static_cast<StageHost*>(this));
  const StageOutcome outcome = run_->run.run();
  if (outcome.status == StageOutcome::Status::Pending) return false;
  run_.reset();
  endWindow(outcome);
  return true;
}

void StreamGuard::endWindow(const StageOutcome& outcome) {
  window_out_.clear();
  if (outcome.status == StageOutcome::Status::Blocked) {
    blocked_ = true;
    return;
  }
  Choice& c = choices_[window_choice_];
  const size_t settled = utf8Floor(c.pending, std::min(window_settled_, c.pending.size()));
  window_out_.assign(c.pending, 0, settled);
  c.pending.erase(0, settled);
  if (!window_out_.empty()) release();
}

bool StreamGuard::stepChunk(std::string_view data, std::string_view event) {
  if (!cur_.parsed) {
    cur_.parsed = true;
    cur_.doc = parseJson(data);
    auto choices = cur_.doc.is_object() ? cur_.doc.find("choices") : cur_.doc.end();
    cur_.is_chunk = cur_.doc.is_object() && choices != cur_.doc.end() && choices->is_array();
    if (cur_.is_chunk) {
      for (const char* key : {"id", "object", "created", "model", "system_fingerprint"}) {
        if (auto it = cur_.doc.find(key); it != cur_.doc.end()) last_chunk_[key] = *it;
      }
    }
  }
  if (!cur_.is_chunk) {
    append(data, event);  // usage chunks, errors: nothing to check
    return true;
  }
  json& choices = cur_.doc["choices"];
  for (; cur_.next < choices.size(); ++cur_.next) {
    json& ch = choices[cur_.next];
    if (!window_done_) {
      if (!ch.is_object()) continue;
      auto idx = ch.find("index");
      const int64_t index = idx != ch.end() && idx->is_number_integer() ? idx->get<int64_t>()
                                                                        : static_cast<int64_t>(cur_.next);
      const std::string* text = chunkChoiceText(endpoint_, ch);
      auto fr = ch.find("finish_reason");
      const bool final = fr != ch.end() && !fr->is_null();
      const size_t at = choiceAt(index);
      Choice& c = choices_[at];
      if (text == nullptr && (!final || c.pending.empty())) continue;
      cur_.original = text != nullptr ? *text : std::string();
      c.pending += cur_.original;
      if (has_async_ && !final && c.pending.size() <= kMaxHeld && queue_.size() > 1) {
        // More is queued behind this chunk: its text joins the next window, which is checked
        // once for all of it (every queued chunk checked alone would cost a round trip each).
        window_out_.clear();
      } else if (!startWindow(at, final)) {
        return false;
      }
    }
    window_done_ = false;
    if (blocked_) return true;
    std::string out = std::move(window_out_);
    window_out_.clear();
    if (chunkChoiceText(endpoint_, ch) == nullptr || out != cur_.original) {
      setChunkChoiceText(endpoint_, ch, std::move(out));
      cur_.changed = true;
    }
  }
  if (cur_.changed) {
    append(dumpJson(cur_.doc), event);
  } else {
    append(data, event);
  }
  return true;
}

// Sends what every choice still holds, as chunks of their own (before [DONE] or the end).
bool StreamGuard::flush() {
  for (; cur_.next < choices_.size(); ++cur_.next) {
    if (!window_done_) {
      if (choices_[cur_.next].pending.empty()) continue;
      if (!startWindow(cur_.next, true)) return false;
    }
    window_done_ = false;
    if (blocked_) return true;
    std::string text = std::move(window_out_);
    window_out_.clear();
    if (text.empty()) continue;
    json chunk = last_chunk_.is_object() ? last_chunk_ : json::object();
    json ch = {{"index", choices_[cur_.next].index}};
    setChunkChoiceText(endpoint_, ch, std::move(text));
    ch["finish_reason"] = nullptr;
    chunk["choices"] = json::array({std::move(ch)});
    append(dumpJson(chunk), "message");
  }
  return true;
}

AsyncCheckPtr StreamGuard::startCheck(const Guardrail& g, const CheckInput& in, CheckDone done) {
  return host_.startStreamCheck(
      g, in,
      [this]() -> std::string_view {
        if (subject_.empty()) host_.appendStreamSubject(subject_);
        return subject_;
      },
      std::move(done));
}

void StreamGuard::dropCheck(AsyncCheckPtr check) { host_.releaseLater(std::move(check)); }

void StreamGuard::settled(StageOutcome outcome) {
  host_.releaseLater(std::move(run_));  // we are inside it
  endWindow(outcome);
  window_done_ = true;  // the front item goes on from its window
  pump();
}

}  // namespace aigw::guardrails
