#include "guardrails/during_gate.h"

#include "guardrails/block_answer.h"
#include "guardrails/request_guardrails.h"

namespace aigw::guardrails {

DuringGate::DuringGate(ResponseStage& next, std::unique_ptr<DuringChecks> checks, RequestGuardrails& req,
                       AnswerSource& source, EventLoop& loop, const std::string& request_id)
    : AnswerGate(next), checks_(std::move(checks)), req_(req), source_(source), loop_(loop), request_id_(request_id) {
  close();
}

void DuringGate::decided(bool blocked) {
  // We are inside the checks' callback: release them on the next loop turn.
  if (checks_) loop_.deferredDelete(std::move(checks_));
  if (!blocked) {
    open();
    // The call may have paused while the gate was full; nothing else would wake it.
    source_.resumeAnswer();
    return;
  }
  if (!closed()) return;  // the answer already went out (or the client left)
  const BlockInfo& block = req_.blocked();
  // The attempt in flight is cancelled like a client abort cancels it: the provider call is
  // destroyed, which closes its upstream connection mid-response.
  if (source_.abandonAnswer("cancelled: the request was blocked by guardrail '" + block.guardrail->name() + "'")) {
    block.guardrail->counters().upstream_cancels.fetch_add(1, std::memory_order_relaxed);
  }
  discard();  // nothing of it reached the client
  respondBlock(next_, block, request_id_);
}

void DuringGate::onEvent(AnswerEvent e) {
  switch (e) {
    case AnswerEvent::Deadline:
      // The checks time out first: their on_error may block (that is the answer then).
      if (checks_) checks_->expire();
      break;
    case AnswerEvent::ClientGone:
      checks_.reset();  // cancels them now: none of their callbacks runs after this
      discard();
      break;
    case AnswerEvent::Restart:
      break;  // what the gate holds already left the producer: a cut still goes out in order
  }
  ResponseStage::onEvent(e);
}

}  // namespace aigw::guardrails
