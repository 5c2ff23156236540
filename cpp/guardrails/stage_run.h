// One stage run (input, output or stream window) over a request's selected guardrails: the
// priority order, concurrency of asynchronous guardrails of equal priority, cancellation at the
// first block, and applying each verdict's edits to the stage's texts (and, in a stream window,
// to its settled mark: a redaction moves it, a rewrite releases the whole window, a hold
// lowers it).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "guardrails/guardrail.h"

namespace aigw::guardrails {

class RequestGuardrails;

struct StageOutcome {
  enum class Status { Done, Blocked, Pending };
  Status status = Status::Done;
  bool changed = false;  // some text (or the whole document) was redacted or rewritten
};

// What a run with asynchronous guardrails needs from its owner (the exchange's stage).
class StageHost {
 public:
  virtual ~StageHost() = default;
  // Starts one asynchronous check (Guardrail::startCheck with the owner's context). `done`
  // may run before this returns.
  virtual AsyncCheckPtr startCheck(const Guardrail& g, const CheckInput& in, CheckDone done) = 0;
  // A check that finished or was cancelled: release it on a later loop turn (it may be on the
  // stack, and may own a provider call).
  virtual void dropCheck(AsyncCheckPtr check) = 0;
  // A rewrite replaced the whole document: install it and refill the texts CheckInput points
  // to. False: it cannot be used (the verdict then counts as an error).
  virtual bool replaceDocument(nlohmann::json doc) { return false; }
  // After run() returned Pending: the run ended (Done or Blocked). The last thing the run
  // does; the owner may release it from here (through deferred deletion).
  virtual void settled(StageOutcome outcome) = 0;
};

// Runs the guardrails of one stage over `in`, lowest priority first (config order breaks ties).
//
// Within one priority, the synchronous guardrails run first, in place and in config order
// (each sees the edits of the ones before); if none blocked, every asynchronous guardrail of
// that priority starts at once, on the texts as the synchronous ones left them. Their verdicts
// are applied in the order they arrive; the first block cancels the ones still running (their
// checks are cancelled: a Python one gets CancelledError) and ends the stage. The next priority
// starts when every check of this one has answered.
//
// run() returns Done or Blocked when it finished without waiting, else Pending: the run then
// goes on by itself as verdicts arrive, and tells the host through settled(). Without a host
// an asynchronous guardrail cannot run: it counts as a check that could not decide (on_error).
class StageRun final : public RunningChecks {
 public:
  StageRun(RequestGuardrails& req, const std::vector<const Guardrail*>& list, CheckInput in,
           StageHost* host = nullptr)
      : req_(req), list_(list), in_(in), host_(host) {}
  // Cancels the checks still running (the request ended first).
  ~StageRun();
  // The same, now: no verdict is applied and settled() is not called after this.
  void cancel();
  // RunningChecks: cancel() that books the running checks as cancelled.
  void cutShort() override;
  StageRun(const StageRun&) = delete;
  StageRun& operator=(const StageRun&) = delete;

  StageOutcome run();
  const CheckInput& input() const { return in_; }
  // How many times the texts changed so far (the host rebuilds what it derived from them).
  uint32_t edits() const { return edits_; }
  // The asynchronous checks running now.
  size_t running() const { return running_; }

 private:
  struct Slot {
    const Guardrail* guardrail;
    AsyncCheckPtr check;
    uint64_t started_ns = 0;
    bool waiting = false;
  };

  StageOutcome advance();
  void onVerdict(size_t slot, CheckResult r);
  // Applies a verdict's edits to the texts; false when they do not fit (an error).
  bool applyEdits(CheckResult& r);
  void cancelRunning();
  void noteChange() {
    outcome_.changed = true;
    ++edits_;
  }

  RequestGuardrails& req_;
  const std::vector<const Guardrail*>& list_;
  CheckInput in_;
  StageHost* host_;
  size_t next_ = 0;          // the first guardrail not started yet
  std::vector<Slot> slots_;  // the asynchronous checks of the current priority
  size_t running_ = 0;
  bool starting_ = false;    // inside the loop that starts a priority's checks
  bool pending_ = false;     // run() returned Pending: settled() will be called
  uint32_t edits_ = 0;
  StageOutcome outcome_;
};

// Replaces every occurrence of each `from` (longest first, one left-to-right pass) by its `to`
// in `text`; true when something changed. `mark` (optional) is a position in `text` kept in
// step: it moves with the replacements before it, and to the end of a replacement whose match
// spanned it.
bool replaceAll(std::string& text, const std::vector<std::pair<std::string, std::string>>& pairs,
                size_t* mark = nullptr);

// The byte offset where the last `chars` characters (UTF-8 code points) of `text` begin (0
// when it has fewer).
size_t utf8BeforeLast(const std::string& text, size_t chars);

}  // namespace aigw::guardrails
