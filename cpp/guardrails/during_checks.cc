#include "guardrails/during_checks.h"

#include <algorithm>

#include "core/clock.h"
#include "guardrails/request_guardrails.h"

namespace aigw::guardrails {

DuringChecks::DuringChecks(RequestGuardrails& req, EventLoop& loop, std::vector<const Guardrail*> list)
    : req_(req), loop_(loop), list_(std::move(list)) {}

DuringChecks::~DuringChecks() { cancelRunning(false); }

void DuringChecks::cutShort() {
  cancelRunning(true);
  decided_ = nullptr;  // nobody waits any more
  if (deadline_) deadline_->stop();
  leaveBooks();
}

DuringChecks::State DuringChecks::start(AsyncCheckContext& ctx, Endpoint endpoint, const std::vector<std::string*>& texts,
                                        const nlohmann::json* body, size_t body_bytes, uint64_t deadline_ms,
                                        Decided decided) {
  decided_ = std::move(decided);
  checks_.resize(list_.size());  // never resized again: callbacks find their check by index
  running_ = list_.size();
  CheckInput in;
  in.stage = Stage::During;
  in.endpoint = endpoint;
  in.body = body;
  in.body_bytes = body_bytes;

  // Synchronous checks first (they cost nothing to wait for, and a block among them means no
  // asynchronous check starts at all). They get a copy of the texts: a check that edits them
  // in place must not edit the request, which is already on its way.
  if (std::any_of(list_.begin(), list_.end(), [](const Guardrail* g) { return !g->asynchronous(); })) {
    std::vector<std::string> copies(texts.size());
    std::vector<std::string*> refs(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      copies[i] = *texts[i];
      refs[i] = &copies[i];
    }
    in.texts = &refs;
    for (size_t i = 0; i < list_.size() && state_ == State::Running; ++i) {
      const Guardrail& g = *list_[i];
      if (g.asynchronous()) continue;
      checks_[i].guardrail = &g;
      const uint64_t t0 = monotonicNs();
      CheckResult r = g.check(in);
      conclude(g, std::move(r), (monotonicNs() - t0) / 1000);
    }
  }

  std::vector<std::string*> refs(texts);  // startCheck copies what it needs
  in.texts = &refs;
  for (size_t i = 0; i < list_.size() && state_ == State::Running; ++i) {
    const Guardrail& g = *list_[i];
    if (!g.asynchronous()) continue;
    Check& c = checks_[i];
    c.guardrail = &g;
    c.running = true;
    c.started_ns = monotonicNs();
    AsyncCheckPtr handle = g.startCheck(ctx, in, [this, i](CheckResult r) { onVerdict(i, std::move(r)); });
    if (c.running) {
      c.handle = std::move(handle);
    } else if (handle) {
      loop_.deferredDelete(std::move(handle));  // it answered before startCheck returned
    }
  }
  starting_ = false;
  if (state_ == State::Running) enterBooks(req_);
  if (state_ == State::Running && deadline_ms > 0) {
    deadline_ = std::make_unique<Timer>(loop_.uv(), [this] { expire(); });
    deadline_->start(deadline_ms);
  }
  return state_;
}

void DuringChecks::onVerdict(size_t i, CheckResult r) {
  Check& c = checks_[i];
  if (!c.running) return;
  c.running = false;
  if (c.handle) loop_.deferredDelete(std::move(c.handle));  // we are inside its callback
  conclude(*c.guardrail, std::move(r), (monotonicNs() - c.started_ns) / 1000);
}

void DuringChecks::conclude(const Guardrail& g, CheckResult r, uint64_t duration_us) {
  if (!r.error && (r.verdict == Verdict::Redact || r.verdict == Verdict::Rewrite)) {
    // The request already went upstream: a change cannot be applied, so the check failed.
    r.verdict = Verdict::Allow;
    r.error = true;
    r.reason = "a during check cannot change the request";
    r.rewritten.clear();
  }
  r = req_.record(g, Stage::During, std::move(r), duration_us);
  if (state_ != State::Running) return;
  if (r.verdict == Verdict::Block) {
    state_ = State::Blocked;
    cancelRunning(true);  // its siblings were cut short by the block
    notify();
    return;
  }
  if (--running_ == 0) {
    state_ = State::Allowed;
    notify();
  }
}

void DuringChecks::expire() {
  for (size_t i = 0; i < checks_.size() && state_ == State::Running; ++i) {
    Check& c = checks_[i];
    if (!c.running) continue;
    c.running = false;
    if (c.handle) {
      c.handle->cancel();
      loop_.deferredDelete(std::move(c.handle));
    }
    CheckResult r;
    r.error = true;
    r.timeout = true;
    r.reason = "the check did not finish within the request's deadline";
    conclude(*c.guardrail, std::move(r), (monotonicNs() - c.started_ns) / 1000);
  }
}

void DuringChecks::cancelRunning(bool book) {
  for (Check& c : checks_) {
    if (!c.running) continue;
    c.running = false;
    if (c.handle) {
      c.handle->cancel();
      loop_.deferredDelete(std::move(c.handle));
    }
    if (book) req_.recordCancelled(*c.guardrail, Stage::During, (monotonicNs() - c.started_ns) / 1000);
  }
}

void DuringChecks::notify() {
  if (deadline_) deadline_->stop();
  leaveBooks();
  if (starting_ || !decided_) return;  // start() returns the decision itself
  Decided decided = std::move(decided_);
  decided(state_);  // may release this object (deferred): nothing after this line
}

}  // namespace aigw::guardrails
