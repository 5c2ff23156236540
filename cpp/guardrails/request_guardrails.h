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
  RequestGuardrails(Selection selection, Endpoint endpoint);
  ~RequestGuardrails();

  const Selection& selection() const { return selection_; }
  Endpoint endpoint() const { return endpoint_; }
  // One entry per guardrail and stage that ran (a stream's windows add up into one).
  const std::vector<GuardrailResult>& results() const { return results_; }
  const BlockInfo& blocked() const { return block_; }

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

 private:
  void setBlock(const Guardrail& g, Stage stage, const CheckResult& r);

  Selection selection_;
  Endpoint endpoint_;
  std::vector<GuardrailResult> results_;
  BlockInfo block_;
  std::unique_ptr<StreamGuard> stream_;
};

struct StageOutcome {
  enum class Status { Done, Blocked, Pending };
  Status status = Status::Done;
  bool changed = false;  // some text was redacted or rewritten
};

// Runs the guardrails of one stage over `in`, in priority order, stopping at the first block.
// Every built-in answers synchronously, so run() returns Done or Blocked today. The seam for a
// guardrail whose check completes later (Python on the hook thread, a moderation call): run()
// keeps its position in `next_`; such a guardrail would make it return Pending after posting
// an owned snapshot of the texts, and its completion would call resume(result) on the loop
// thread, which records the verdict (applying a Rewrite to the texts) and carries on from
// next_. The input filter parks the exchange meanwhile (Exchange::park, cancelled by the
// exchange's end) and calls continuePipeline() when the run is Done; the output stage keeps
// the held answer until then. Guardrails of equal priority could run concurrently there.
class StageRun {
 public:
  StageRun(RequestGuardrails& req, const std::vector<const Guardrail*>& list, CheckInput in)
      : req_(req), list_(list), in_(in) {}
  StageOutcome run();

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
