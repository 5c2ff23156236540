#include "guardrails/stage_run.h"

#include <algorithm>

#include "core/clock.h"
#include "guardrails/request_guardrails.h"

namespace aigw::guardrails {

StageRun::~StageRun() { cancel(); }

void StageRun::cancel() {
  // The request ended first: nothing is recorded any more; each check is told to stop (its
  // callback never runs) and released with the run.
  for (Slot& s : slots_) {
    if (s.waiting && s.check) s.check->cancel();
    s.waiting = false;
  }
  running_ = 0;
  pending_ = false;
  leaveBooks();
}

void StageRun::cutShort() {
  cancelRunning();  // books each as cancelled
  pending_ = false;
  leaveBooks();
}

StageOutcome StageRun::run() {
  const StageOutcome outcome = advance();
  pending_ = outcome.status == StageOutcome::Status::Pending;
  if (pending_) enterBooks(req_);
  return outcome;
}

StageOutcome StageRun::advance() {
  while (outcome_.status != StageOutcome::Status::Blocked && next_ < list_.size()) {
    const int64_t priority = list_[next_]->settings().priority;
    size_t end = next_;
    while (end < list_.size() && list_[end]->settings().priority == priority) ++end;
    for (size_t i = next_; i < end; ++i) {
      const Guardrail& g = *list_[i];
      if (g.asynchronous()) continue;
      const CheckResult r = req_.runOne(g, in_);
      if (r.verdict == Verdict::Block) {
        next_ = end;
        outcome_.status = StageOutcome::Status::Blocked;
        return outcome_;
      }
      if (r.verdict != Verdict::Allow) noteChange();
    }
    slots_.clear();
    for (size_t i = next_; i < end; ++i) {
      if (list_[i]->asynchronous()) slots_.push_back(Slot{list_[i], nullptr});
    }
    next_ = end;
    if (slots_.empty()) continue;
    if (host_ == nullptr) {
      for (const Slot& s : slots_) {
        CheckResult r;
        r.error = true;
        r.reason = "an asynchronous guardrail cannot run at this stage";
        if (req_.record(*s.guardrail, in_.stage, std::move(r), 0).verdict == Verdict::Block) {
          outcome_.status = StageOutcome::Status::Blocked;
          return outcome_;
        }
      }
      slots_.clear();
      continue;
    }
    // Every asynchronous check of this priority starts now (a Python one is a job on the hook
    // queue: jobs submitted in one loop turn reach Python in one batch).
    starting_ = true;
    running_ = slots_.size();
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (outcome_.status == StageOutcome::Status::Blocked) {
        running_ -= slots_.size() - i;  // a check that answered at once blocked: the rest never start
        break;
      }
      Slot& s = slots_[i];
      s.waiting = true;
      s.started_ns = monotonicNs();
      AsyncCheckPtr check = host_->startCheck(*s.guardrail, in_, [this, i](CheckResult r) { onVerdict(i, std::move(r)); });
      if (slots_[i].waiting) {
        slots_[i].check = std::move(check);
      } else if (check) {
        host_->dropCheck(std::move(check));
      }
    }
    starting_ = false;
    if (outcome_.status == StageOutcome::Status::Blocked) {
      cancelRunning();
      return outcome_;
    }
    if (running_ > 0) {
      outcome_.status = StageOutcome::Status::Pending;
      return outcome_;
    }
  }
  if (outcome_.status != StageOutcome::Status::Blocked) outcome_.status = StageOutcome::Status::Done;
  return outcome_;
}

void StageRun::onVerdict(size_t i, CheckResult r) {
  Slot& s = slots_[i];
  if (!s.waiting) return;
  s.waiting = false;
  --running_;
  const uint64_t us = (monotonicNs() - s.started_ns) / 1000;
  if (s.check) host_->dropCheck(std::move(s.check));  // the check is on the stack below us
  if (!r.error && (r.verdict == Verdict::Rewrite || r.verdict == Verdict::Redact) && !applyEdits(r)) {
    r = CheckResult{};
    r.error = true;
    r.reason = "the rewrite does not match the texts";
  }
  if (!r.error && r.verdict != Verdict::Block && r.hold && in_.settled != nullptr && !in_.final) {
    const std::string& window = *(*in_.texts)[0];
    *in_.settled = std::min(*in_.settled, *r.hold == CheckResult::kHoldAll ? 0 : utf8BeforeLast(window, *r.hold));
  }
  r = req_.record(*s.guardrail, in_.stage, std::move(r), us);
  if (r.verdict == Verdict::Block) outcome_.status = StageOutcome::Status::Blocked;
  if (starting_) return;  // the loop starting this priority's checks goes on from here
  if (outcome_.status == StageOutcome::Status::Blocked) {
    cancelRunning();
  } else if (running_ > 0) {
    return;  // siblings still running
  } else if (advance().status == StageOutcome::Status::Pending) {
    return;  // the next priority's checks are running
  }
  if (pending_) {
    pending_ = false;
    leaveBooks();
    host_->settled(outcome_);  // may release this object (deferred): nothing after this line
  }
}

bool StageRun::applyEdits(CheckResult& r) {
  if (!r.document.is_null()) {
    if (host_ == nullptr || !host_->replaceDocument(std::move(r.document))) return false;
    noteChange();
    return true;
  }
  std::vector<std::string*>& texts = *in_.texts;
  if (r.verdict == Verdict::Rewrite) {
    if (r.rewritten.size() != texts.size()) return false;
    for (size_t i = 0; i < texts.size(); ++i) *texts[i] = std::move(r.rewritten[i]);
    // A stream window rewritten decides all of it: it goes out (unless a later check holds).
    if (in_.settled != nullptr) *in_.settled = texts[0]->size();
    noteChange();
    return true;
  }
  bool changed = false;
  // In a stream window the settled mark moves with the redactions before it.
  for (std::string* t : texts) changed = replaceAll(*t, r.redactions, in_.settled) || changed;
  if (changed) {
    noteChange();
  } else {
    r.verdict = Verdict::Allow;  // nothing it named was there (any more): not a redaction
  }
  return true;
}

void StageRun::cancelRunning() {
  for (Slot& s : slots_) {
    if (!s.waiting) continue;
    s.waiting = false;
    --running_;
    if (s.check) {
      s.check->cancel();
      host_->dropCheck(std::move(s.check));
    }
    req_.recordCancelled(*s.guardrail, in_.stage, (monotonicNs() - s.started_ns) / 1000);
  }
}

bool replaceAll(std::string& text, const std::vector<std::pair<std::string, std::string>>& pairs, size_t* mark) {
  if (pairs.empty() || text.empty()) return false;
  const size_t old_mark = mark != nullptr ? std::min(*mark, text.size()) : 0;
  size_t new_mark = SIZE_MAX;
  std::vector<const std::pair<std::string, std::string>*> order;
  order.reserve(pairs.size());
  for (const auto& p : pairs) {
    if (!p.first.empty()) order.push_back(&p);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->first.size() > b->first.size(); });
  std::string out;
  bool changed = false;
  size_t copied = 0;
  for (size_t pos = 0; pos < text.size();) {
    const std::pair<std::string, std::string>* hit = nullptr;
    for (const auto* p : order) {
      if (text.compare(pos, p->first.size(), p->first) == 0) {
        hit = p;
        break;
      }
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    if (!changed) out.reserve(text.size());
    changed = true;
    if (mark != nullptr && new_mark == SIZE_MAX && old_mark <= pos) new_mark = out.size() + (old_mark - copied);
    out.append(text, copied, pos - copied);
    out += hit->second;
    pos += hit->first.size();
    // A replaced match that spans the mark goes out whole (its replacement is what is left).
    if (mark != nullptr && new_mark == SIZE_MAX && old_mark < pos) new_mark = out.size();
    copied = pos;
  }
  if (!changed) return false;
  if (mark != nullptr && new_mark == SIZE_MAX) new_mark = out.size() + (old_mark - copied);
  out.append(text, copied, std::string::npos);
  text = std::move(out);
  if (mark != nullptr) *mark = new_mark;
  return true;
}

size_t utf8BeforeLast(const std::string& text, size_t chars) {
  size_t pos = text.size();
  while (chars > 0 && pos > 0) {
    --pos;
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) --chars;  // a character's first byte
  }
  return pos;
}

}  // namespace aigw::guardrails
