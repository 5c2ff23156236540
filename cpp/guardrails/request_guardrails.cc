#include "guardrails/request_guardrails.h"

#include <algorithm>

#include "core/clock.h"
#include "guardrails/text_views.h"

namespace aigw::guardrails {

RequestGuardrails::RequestGuardrails(const Selection& selection, Endpoint endpoint)
    : selection_(&selection), endpoint_(endpoint) {
  results_.reserve(selection.input.size() + selection.during.size() + selection.output.size() +
                   selection.stream.size());
}

RequestGuardrails::RequestGuardrails(Selection&& own, Endpoint endpoint)
    : own_(std::move(own)), selection_(&own_), endpoint_(endpoint) {
  results_.reserve(own_.input.size() + own_.during.size() + own_.output.size() + own_.stream.size());
}

RequestGuardrails::~RequestGuardrails() {
  for (RunningChecks* r : running_) r->books_ = nullptr;  // outlived by a run released later
}

void RunningChecks::enterBooks(RequestGuardrails& req) {
  if (books_ != nullptr) return;
  books_ = &req;
  req.running_.push_back(this);
}

void RunningChecks::leaveBooks() {
  if (books_ == nullptr) return;
  auto& list = books_->running_;
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
  books_ = nullptr;
}

void RequestGuardrails::cutShort() {
  while (!running_.empty()) running_.back()->cutShort();  // each leaves the list
}

std::string blockMessage(const Guardrail& g, Stage stage, const CheckResult& r) {
  const BlockResponse& b = g.settings().block;
  if (!b.message.empty()) return b.message;
  std::string m = stage == Stage::Input || stage == Stage::During ? "the request was blocked by guardrail '" : "the response was blocked by guardrail '";
  m += g.name();
  m += "'";
  if (r.reason_public && !r.reason.empty()) m += ": " + r.reason;
  return m;
}

void RequestGuardrails::setBlock(const Guardrail& g, Stage stage, const CheckResult& r) {
  const BlockResponse& b = r.block ? *r.block : g.settings().block;
  block_.guardrail = &g;
  block_.status = b.status;
  block_.message = r.block && !r.block->message.empty() ? r.block->message : blockMessage(g, stage, r);
  block_.type = b.type;
  block_.code = b.code;
}

CheckResult RequestGuardrails::runOne(const Guardrail& g, CheckInput& in) {
  const uint64_t t0 = monotonicNs();
  CheckResult r = g.check(in);
  return record(g, in.stage, std::move(r), (monotonicNs() - t0) / 1000);
}

GuardrailResult& RequestGuardrails::entryFor(const Guardrail& g, Stage stage, uint64_t us) {
  GuardrailResult* entry = nullptr;
  if (stage == Stage::Stream) {
    for (GuardrailResult& x : results_) {
      if (x.guardrail == &g && x.stage == Stage::Stream) entry = &x;
    }
  }
  GuardrailCounters& c = g.counters();
  if (entry == nullptr) {
    entry = &results_.emplace_back();
    entry->guardrail = &g;
    entry->stage = stage;
    c.runs.fetch_add(1, std::memory_order_relaxed);
  }
  entry->duration_us += us;
  c.duration_us.fetch_add(us, std::memory_order_relaxed);
  return *entry;
}

CheckResult RequestGuardrails::record(const Guardrail& g, Stage stage, CheckResult r, uint64_t us) {
  GuardrailCounters& c = g.counters();
  if (r.error) {
    c.errors.fetch_add(1, std::memory_order_relaxed);
    if (r.timeout) c.timeouts.fetch_add(1, std::memory_order_relaxed);
    if (g.settings().fail_open) {
      r.verdict = Verdict::Allow;
    } else {
      r.verdict = Verdict::Block;
      if (r.reason.empty()) r.reason = "the check failed";
      r.reason_public = true;
    }
  }
  GuardrailResult& entry = entryFor(g, stage, us);
  if (r.error) {
    entry.error = true;
    entry.timeout = entry.timeout || r.timeout;
    if (entry.error_reason.empty()) entry.error_reason = r.reason.empty() ? "the check failed" : r.reason;
  }
  if (r.verdict == Verdict::Block) {
    entry.verdict = Verdict::Block;
    c.blocks.fetch_add(1, std::memory_order_relaxed);
    setBlock(g, stage, r);
  } else if (r.verdict == Verdict::Redact || r.verdict == Verdict::Rewrite) {
    // A stream counts one redaction however many of its windows were redacted.
    if (entry.verdict == Verdict::Allow) c.redactions.fetch_add(1, std::memory_order_relaxed);
    if (entry.verdict != Verdict::Block) entry.verdict = r.verdict;
  }
  return r;
}

void RequestGuardrails::recordCancelled(const Guardrail& g, Stage stage, uint64_t us) {
  entryFor(g, stage, us).cancelled = true;
}

bool RequestGuardrails::checksAnswer() const {
  return !selection_->output.empty() && (endpoint_ == Endpoint::ChatCompletions || endpoint_ == Endpoint::Completions);
}

bool RequestGuardrails::streaming() const {
  return !selection_->stream.empty() && (endpoint_ == Endpoint::ChatCompletions || endpoint_ == Endpoint::Completions);
}

}  // namespace aigw::guardrails
