// One request's guardrails: what was selected for it, the results so far (for the request
// log), and the stage runs over its input, its held answer and its stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guardrails/guardrail.h"
#include "guardrails/guardrail_set.h"

namespace aigw::guardrails {

class StreamGuard;

// Why a stage refused, and what the client gets.
struct BlockInfo {
  const Guardrail* guardrail = nullptr;
  int status = 400;
  std::string message;
  std::string type;
  std::string code;
};

class RequestGuardrails {
 public:
  // `selection` is the config's (it outlives the request, like the route it belongs to).
  RequestGuardrails(const Selection& selection, Endpoint endpoint);
  // A selection of the request's own (extended by the x-aigw-guardrails header).
  RequestGuardrails(Selection&& own, Endpoint endpoint);
  ~RequestGuardrails();
  RequestGuardrails(const RequestGuardrails&) = delete;
  RequestGuardrails& operator=(const RequestGuardrails&) = delete;

  const Selection& selection() const { return *selection_; }
  Endpoint endpoint() const { return endpoint_; }
  // One entry per guardrail and stage that ran (a stream's windows add up into one).
  const std::vector<GuardrailResult>& results() const { return results_; }
  const BlockInfo& blocked() const { return block_; }
  // Passthrough requests run only the input guardrails that ask for it (passthrough: true).
  void setPassthroughInput(std::vector<const Guardrail*> list) { passthrough_input_ = std::move(list); }
  const std::vector<const Guardrail*>& passthroughInput() const { return passthrough_input_; }

  // Runs one check and keeps the books (counters, result, on_error). A Block result has set
  // blocked(). Stream windows after the first of a stream add to its result instead of
  // counting another run.
  CheckResult runOne(const Guardrail& g, CheckInput& in);
  // Keeps the books for a result obtained otherwise (an async verdict, a check that could not
  // run: `r.error`), applying on_error. Returns the effective result.
  CheckResult record(const Guardrail& g, Stage stage, CheckResult r, uint64_t duration_us);

  // Output stage over a whole answer body (JSON). Returns false when a guardrail blocked;
  // rewrites `body` when one redacted.
  bool checkAnswer(std::string& body);
  // Stream stage: whether the answer's stream is checked at all.
  bool streaming() const;
  // Upstream SSE bytes in, what may reach the client appended to `out`. False: blocked.
  bool filterStream(std::string_view bytes, std::string& out);
  // The upstream stream ended: what was still held back. False: blocked.
  bool finishStream(std::string& out);
  // A new attempt answers: forget what an earlier one streamed (nothing of it reached the
  // client, or there would be no new attempt).
  void resetStream();

 private:
  void setBlock(const Guardrail& g, Stage stage, const CheckResult& r);

  Selection own_;
  const Selection* selection_;
  Endpoint endpoint_;
  std::vector<GuardrailResult> results_;
  BlockInfo block_;
  std::vector<const Guardrail*> passthrough_input_;
  std::unique_ptr<StreamGuard> stream_;
};

struct StageOutcome {
  enum class Status { Done, Blocked, Pending };
  Status status = Status::Done;
  bool changed = false;  // some text was redacted or rewritten
};

// Runs the guardrails of one stage over `in`, in priority order, stopping at the first block.
// A synchronous guardrail is checked in place. At an asynchronous one (moderation; Python
// guardrails later) run() returns Pending with that guardrail as pending(): the caller starts
// its check (Guardrail::startCheck), hands the verdict to resume() when it comes (a Rewrite
// replaces the texts), and calls run() again to go on from there. The input stage parks the
// exchange meanwhile (InputStage in guardrail_filter.cc); guardrails of equal priority could
// later run concurrently at that point. Output and stream stages take synchronous ones only.
class StageRun {
 public:
  StageRun(RequestGuardrails& req, const std::vector<const Guardrail*>& list, CheckInput in)
      : req_(req), list_(list), in_(in) {}
  StageOutcome run();
  const Guardrail* pending() const { return next_ < list_.size() ? list_[next_] : nullptr; }
  const CheckInput& input() const { return in_; }
  void resume(CheckResult r, uint64_t duration_us);

 private:
  RequestGuardrails& req_;
  const std::vector<const Guardrail*>& list_;
  CheckInput in_;
  size_t next_ = 0;
  StageOutcome outcome_;
};

// The block message for a guardrail (its configured one, or one that names it).
std::string blockMessage(const Guardrail& g, Stage stage, const CheckResult& r);

}  // namespace aigw::guardrails
