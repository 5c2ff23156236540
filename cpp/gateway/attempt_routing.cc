// The attempt loop's routing side: the deadline and the waits between attempts, and acting on
// what RouteAttempts decides (launch, retry, fall back, give up). See docs/routing.md.
#include "core/clock.h"
#include "gateway/attempt_loop.h"

namespace aigw {

void AttemptLoop::nextAttempt() {
  if (relay_.finished()) return;
  switch (routes_.pick(req_.loop, [this] { onSlotGranted(); })) {
    case RouteAttempts::Pick::Launch: {
      const router::Target& target = routes_.launch();
      return startCall(*target.provider, &target);
    }
    case RouteAttempts::Pick::Queued: return;  // the deadline still runs while it waits
    case RouteAttempts::Pick::None:
      // No target of the route can take the request right now.
      return follow(routes_.noTarget(failure_ != nullptr || !last_error_.empty()));
  }
}

void AttemptLoop::onSlotGranted() {
  routes_.slotGranted();
  if (relay_.finished()) {
    routes_.end(router::Outcome::Neutral, 0, {});
    return;
  }
  const router::Target& target = routes_.launch();
  startCall(*target.provider, &target);
}

void AttemptLoop::follow(const RouteAttempts::Step& step) {
  if (relay_.finished()) return;
  switch (step.kind) {
    case RouteAttempts::Step::Kind::Next: return nextAttempt();
    case RouteAttempts::Step::Kind::Wait: return waitThen(step.wait_ms);
    case RouteAttempts::Step::Kind::GiveUp: return giveUp();
    case RouteAttempts::Step::Kind::Unavailable:
      return relay_.sendError(step.status, step.message, step.type, step.code, step.retry_after_s);
  }
}

// Waits (backoff, Retry-After) and then starts the next attempt, unless the deadline comes first.
void AttemptLoop::waitThen(uint64_t ms) {
  if (deadline_ns_ != 0 && monotonicNs() + ms * 1000000ull >= deadline_ns_) {
    giveUp();  // the wait alone would outlast the deadline
    return;
  }
  if (ms == 0) {
    nextAttempt();
    return;
  }
  if (!wait_timer_) wait_timer_ = std::make_unique<Timer>(req_.loop.uv(), [this] { nextAttempt(); });
  wait_timer_->start(ms);
}

// Out of options: the last failure is the answer.
void AttemptLoop::giveUp() {
  if (relay_.finished()) return;
  routes_.givingUp();
  if (failure_) {
    // The failure is the answer: usage it reported is counted (and priced) like any answer's.
    std::unique_ptr<HeldResponse> failure = std::move(failure_);
    routes_.addAnswerHeaders(failure->headers, failure->status, req_.id);
    req_.record.usage = failure_usage_;
    relay_.respond(std::move(failure));
    return;
  }
  const int status = last_error_kind_ == CallErrorKind::Timeout ? 504 : last_error_kind_ == CallErrorKind::Overflow ? 503 : 502;
  std::string message = last_error_;
  const size_t attempts = routes_.attempts().size();
  if (attempts > 1) message += " (" + std::to_string(attempts) + " attempts)";
  relay_.sendError(status, message, "upstream_error", {});
}

void AttemptLoop::onDeadline() {
  if (req_.record.ended) return;
  // Work the deadline bounds downstream ends first: during checks still running time out, and
  // their on_error may block (that is the answer then).
  out_->onEvent(AnswerEvent::Deadline);
  if (req_.record.ended) return;
  if (wait_timer_) wait_timer_->stop();
  const std::string message =
      "the request did not complete within its deadline of " + std::to_string(routes_.route()->timeout_ms) + " ms";
  releaseCall();
  const bool launched = routes_.launched();
  routes_.end(launched ? router::Outcome::Failure : router::Outcome::Neutral, 0, launched ? "deadline exceeded" : "");
  relay_.drop(true);
  if (out_->headSent()) {
    relay_.cut("timeout_error", message, "deadline_exceeded");
    return;
  }
  relay_.sendError(504, message, "timeout_error", "deadline_exceeded");
}

// Releases what the routing holds (slot, waiter, budget, timers); safe to call more than once.
void AttemptLoop::finishRouting() {
  routes_.finish();
  deadline_timer_.reset();
  wait_timer_.reset();
}

}  // namespace aigw
