// The Exchange's side of the during stage: holding the answer while the during guardrails run
// beside the attempts, then letting it out or replacing it with the block (docs/guardrails.md,
// "The during stage"). The checks themselves are guardrails::DuringChecks (during_filter.cc
// starts them).
#include "core/clock.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "guardrails/during_checks.h"
#include "guardrails/request_guardrails.h"
#include "http/response.h"

namespace aigw {

void Exchange::holdForDuring(std::unique_ptr<guardrails::DuringChecks> checks) {
  during_ = std::move(checks);
  gate_.close();
}

void Exchange::duringDecided(bool blocked) {
  if (blocked) {
    blockDuring();
  } else {
    releaseDuring();
  }
}

void Exchange::releaseDuring() {
  // We are inside the checks' callback: release them on the next loop turn.
  if (during_) worker_.loop().deferredDelete(std::move(during_));
  gate_.open();
  // The call may have paused while the gate was full; nothing else would wake it.
  if (!done_ && call_ && !callBlocked()) call_->resume();
}

void Exchange::blockDuring() {
  if (during_) worker_.loop().deferredDelete(std::move(during_));
  if (done_ && !gate_.closed()) return;  // the answer already went out (or the client left)
  const guardrails::BlockInfo& block = guardrails_->blocked();
  // The attempt in flight is cancelled like a client abort cancels it: the provider call is
  // destroyed, which closes its upstream connection mid-response.
  const bool in_flight = call_ != nullptr && !done_;
  if (call_) releaseCall();
  dropStreamGuard();
  if (target_ != nullptr) {
    endAttempt(router::Outcome::Neutral, 0,
               in_flight ? "cancelled: the request was blocked by guardrail '" + block.guardrail->name() + "'" : "");
  }
  if (wait_timer_) wait_timer_->stop();
  if (in_flight) block.guardrail->counters().upstream_cancels.fetch_add(1, std::memory_order_relaxed);
  held_.reset();
  failure_.reset();
  sse_head_held_ = false;
  failing_ = false;
  gate_.discard();  // nothing of it reached the client
  done_ = true;
  status_ = block.status;
  http::HeaderList h = baseHeaders();
  h.add("content-type", "application/json");
  h.add("x-aigw-guardrail", block.guardrail->name());
  writer_.respond(block.status, h, http::openAiErrorBody(block.message, block.type, block.code));
}

}  // namespace aigw
