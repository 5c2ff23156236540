// The during stage of one request: its guardrails check the request's texts while the upstream
// call runs beside them. All of them start at once (no priority order: they cannot change the
// request, only block it); the first block wins and cancels the others; when every one allowed,
// the answer held meanwhile may go out. Independent of the Exchange (during_filter.cc glues it
// to one), so it runs any Guardrail: synchronous ones decide inside start(), asynchronous ones
// (moderation; Python ones later) through startCheck() and their AsyncCheck.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/timer.h"
#include "guardrails/guardrail.h"

namespace aigw::guardrails {

class RequestGuardrails;

class DuringChecks final : public DeferredDeletable, public RunningChecks {
 public:
  enum class State { Running, Allowed, Blocked };
  // Runs once, on the loop thread, when the state leaves Running after start() returned.
  // Blocked: the request's RequestGuardrails::blocked() says why.
  using Decided = std::function<void(State)>;

  // `req` outlives this object (both belong to one request); `list` is a subset of its
  // selection's `during`.
  DuringChecks(RequestGuardrails& req, EventLoop& loop, std::vector<const Guardrail*> list);
  // Cancels the checks still running (their callbacks never run).
  ~DuringChecks() override;
  DuringChecks(const DuringChecks&) = delete;
  DuringChecks& operator=(const DuringChecks&) = delete;

  // Starts every check over `texts` (the request's, after the input stage). Synchronous ones
  // run now, on a copy of the texts; a block among them (or from an asynchronous check that
  // answered at once) returns Blocked and starts nothing more. Running: `decided` will say how
  // it ended. `deadline_ms` > 0: checks still running then are timeouts, and their on_error
  // decides (the request's deadline bounds the stage like it bounds the attempts).
  State start(AsyncCheckContext& ctx, Endpoint endpoint, const std::vector<std::string*>& texts,
              const nlohmann::json* body, size_t body_bytes, uint64_t deadline_ms, Decided decided);
  State state() const { return state_; }
  // Checks still running.
  size_t running() const { return running_; }
  // Every check still running times out now. Its own deadline timer calls it (the answer may
  // be complete and held, the Exchange's deadline gone), and so does the Exchange's deadline
  // before it answers 504: whichever fires first, the checks' on_error decides first.
  void expire();
  // RunningChecks: the request's record is written while checks run (the client left).
  void cutShort() override;

 private:
  struct Check {
    const Guardrail* guardrail = nullptr;
    AsyncCheckPtr handle;  // null once answered (or for a check that answered at once)
    uint64_t started_ns = 0;
    bool running = false;
  };

  void onVerdict(size_t i, CheckResult r);
  // Books one verdict; decides the stage on a block or on the last allow.
  void conclude(const Guardrail& g, CheckResult r, uint64_t duration_us);
  // Cancels the running checks; `book`: as cancelled in the request's results.
  void cancelRunning(bool book);
  void notify();

  RequestGuardrails& req_;
  EventLoop& loop_;
  std::vector<const Guardrail*> list_;
  std::vector<Check> checks_;
  size_t running_ = 0;
  State state_ = State::Running;
  bool starting_ = true;  // inside start(): a decision is returned, not reported
  Decided decided_;
  std::unique_ptr<Timer> deadline_;
};

}  // namespace aigw::guardrails
