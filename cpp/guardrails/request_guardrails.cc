#include "guardrails/request_guardrails.h"

#include "core/clock.h"
#include "guardrails/stream_guard.h"
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

RequestGuardrails::~RequestGuardrails() = default;

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
  const BlockResponse& b = g.settings().block;
  block_.guardrail = &g;
  block_.status = b.status;
  block_.message = blockMessage(g, stage, r);
  block_.type = b.type;
  block_.code = b.code;
}

CheckResult RequestGuardrails::runOne(const Guardrail& g, CheckInput& in) {
  const uint64_t t0 = monotonicNs();
  CheckResult r = g.check(in);
  return record(g, in.stage, std::move(r), (monotonicNs() - t0) / 1000);
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
  GuardrailResult* entry = nullptr;
  if (stage == Stage::Stream) {
    for (GuardrailResult& x : results_) {
      if (x.guardrail == &g && x.stage == Stage::Stream) entry = &x;
    }
  }
  const bool first = entry == nullptr;
  if (first) {
    entry = &results_.emplace_back();
    entry->guardrail = &g;
    entry->stage = stage;
    c.runs.fetch_add(1, std::memory_order_relaxed);
  }
  entry->duration_us += us;
  entry->error = entry->error || r.error;
  c.duration_us.fetch_add(us, std::memory_order_relaxed);
  if (r.verdict == Verdict::Block) {
    entry->verdict = Verdict::Block;
    c.blocks.fetch_add(1, std::memory_order_relaxed);
    setBlock(g, stage, r);
  } else if (r.verdict == Verdict::Redact || r.verdict == Verdict::Rewrite) {
    // A stream counts one redaction however many of its windows were redacted.
    if (entry->verdict == Verdict::Allow) c.redactions.fetch_add(1, std::memory_order_relaxed);
    if (entry->verdict != Verdict::Block) entry->verdict = r.verdict;
  }
  return r;
}

StageOutcome StageRun::run() {
  if (outcome_.status == StageOutcome::Status::Blocked) return outcome_;
  while (next_ < list_.size()) {
    const Guardrail& g = *list_[next_];
    if (g.asynchronous()) {
      if (in_.stage == Stage::Input) {
        outcome_.status = StageOutcome::Status::Pending;
        return outcome_;
      }
      CheckResult unsupported;  // config validation keeps these at the input stage
      unsupported.error = true;
      resume(std::move(unsupported), 0);
      if (outcome_.status == StageOutcome::Status::Blocked) return outcome_;
      continue;
    }
    ++next_;
    const CheckResult r = req_.runOne(g, in_);
    if (r.verdict == Verdict::Block) {
      outcome_.status = StageOutcome::Status::Blocked;
      return outcome_;
    }
    if (r.verdict != Verdict::Allow) outcome_.changed = true;
  }
  outcome_.status = StageOutcome::Status::Done;
  return outcome_;
}

void StageRun::resume(CheckResult r, uint64_t duration_us) {
  const Guardrail& g = *list_[next_++];
  if (r.verdict == Verdict::Rewrite && !r.error) {
    if (r.rewritten.size() == in_.texts->size()) {
      for (size_t i = 0; i < r.rewritten.size(); ++i) *(*in_.texts)[i] = std::move(r.rewritten[i]);
    } else {
      r.error = true;  // a rewrite that does not fit the texts cannot be applied
      r.reason = "the rewrite does not match the texts";
    }
  }
  r = req_.record(g, in_.stage, std::move(r), duration_us);
  if (r.verdict == Verdict::Block) {
    outcome_.status = StageOutcome::Status::Blocked;
  } else {
    if (r.verdict != Verdict::Allow) outcome_.changed = true;
    outcome_.status = StageOutcome::Status::Done;
  }
}

bool RequestGuardrails::checkAnswer(std::string& body) {
  if (selection_->output.empty() || (endpoint_ != Endpoint::ChatCompletions && endpoint_ != Endpoint::Completions)) {
    return true;
  }
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  TextRefs texts;
  if (!doc.is_discarded()) answerTexts(endpoint_, doc, texts);
  CheckInput in;
  in.stage = Stage::Output;
  in.endpoint = endpoint_;
  in.texts = &texts;
  if (doc.is_discarded()) {
    // An answer that is not JSON cannot be checked: each guardrail's on_error decides.
    for (const Guardrail* g : selection_->output) {
      CheckResult r;
      r.error = true;
      r.reason = "the answer is not JSON";
      if (record(*g, Stage::Output, std::move(r), 0).verdict == Verdict::Block) return false;
    }
    return true;
  }
  StageRun run(*this, selection_->output, in);
  const StageOutcome outcome = run.run();
  if (outcome.status == StageOutcome::Status::Blocked) return false;
  if (outcome.changed) body = dumpJson(doc);
  return true;
}

bool RequestGuardrails::streaming() const {
  return !selection_->stream.empty() && (endpoint_ == Endpoint::ChatCompletions || endpoint_ == Endpoint::Completions);
}

bool RequestGuardrails::filterStream(std::string_view bytes, std::string& out) {
  if (!stream_) stream_ = std::make_unique<StreamGuard>(*this, endpoint_);
  return stream_->feed(bytes, out);
}

void RequestGuardrails::resetStream() { stream_.reset(); }

bool RequestGuardrails::finishStream(std::string& out) {
  if (!stream_) return true;
  return stream_->finish(out);
}

}  // namespace aigw::guardrails
