// One request's guardrails: what was selected for it, the results so far (for the request
// log), and the books of every check (counters, results, the block).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guardrails/guardrail.h"
#include "guardrails/guardrail_set.h"
#include "guardrails/stage_run.h"

namespace aigw::guardrails {

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
  // A check that was cancelled because a sibling blocked first, or cut short (a run, without
  // a verdict).
  void recordCancelled(const Guardrail& g, Stage stage, uint64_t duration_us);
  // The request's record is being written: every check still in flight is cancelled and
  // booked as cancelled (RunningChecks).
  void cutShort();

  // Whether the output stage checks this request's whole (non-streamed) answers. The stage
  // itself runs from the Exchange (OutputStage, exchange_stages.cc): it may wait for
  // asynchronous guardrails.
  bool checksAnswer() const;
  // Stream stage: whether the answer's stream is checked at all (the Exchange then runs it
  // through a StreamGuard over these books).
  bool streaming() const;

 private:
  void setBlock(const Guardrail& g, Stage stage, const CheckResult& r);
  GuardrailResult& entryFor(const Guardrail& g, Stage stage, uint64_t duration_us);

  Selection own_;
  const Selection* selection_;
  Endpoint endpoint_;
  std::vector<GuardrailResult> results_;
  BlockInfo block_;
  std::vector<const Guardrail*> passthrough_input_;
  friend class RunningChecks;
  std::vector<RunningChecks*> running_;
};

// The block message for a guardrail (its configured one, or one that names it).
std::string blockMessage(const Guardrail& g, Stage stage, const CheckResult& r);

}  // namespace aigw::guardrails
