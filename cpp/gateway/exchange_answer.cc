// The answer hold: a complete, non-streamed 2xx answer that output guardrails check waits here
// (held, nothing written yet) until they decide. Asynchronous ones (Python, moderation) park
// the exchange meanwhile; a client that leaves or a deadline that passes ends the wait.
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "guardrails/exchange_stages.h"
#include "guardrails/request_guardrails.h"

namespace aigw {

// The body goes to the stage while it runs (so a deadline that drops held_ meanwhile leaves
// it nothing dangling) and comes back with the verdict.
void Exchange::holdAnswer() {
  DeferredDeletablePtr stage = guardrails::runOutputStage(
      *this, *guardrails_, std::move(held_->body),
      [this](bool blocked, std::string body) { answerChecked(blocked, std::move(body)); });
  if (stage) park(std::move(stage));
}

void Exchange::answerChecked(bool blocked, std::string body) {
  if (done_ || !held_) return;
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));  // the stage is on the stack
  if (blocked) return blockAnswer();
  held_->body = std::move(body);
  respondHeld(std::move(held_));
}

}  // namespace aigw
