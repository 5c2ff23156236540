// The Exchange's side of the stream stage: a guarded event stream's bytes go through the
// attempt's StreamGuard, which hands back what may reach the client (at once for synchronous
// guardrails, when their verdicts come for Python ones), a block, or the end. While a window
// waits for verdicts the guard queues what follows; past its bound the upstream is paused
// (callBlocked) and resumed when the queue drains.
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "guardrails/exchange_stages.h"
#include "guardrails/request_guardrails.h"

namespace aigw {

bool Exchange::guardsStream() const {
  return guardrails_ && event_stream_ && !failing_ && status_ < 400 && guardrails_->streaming();
}

void Exchange::dropStreamGuard() {
  if (!stream_guard_) return;
  stream_guard_->detach();
  worker_.loop().deferredDelete(std::move(stream_guard_));  // it may be on the stack
}

void Exchange::streamOut(std::string_view bytes) {
  if (done_) return;
  relayBody(bytes);
}

void Exchange::streamBlocked() {
  if (done_) return;
  blockAnswer();
}

void Exchange::streamFinished() {
  if (done_) return;
  endAnswer();
}

void Exchange::streamDrained() {
  // The call may have paused on the guard's full queue; nothing else would wake it.
  if (!done_ && call_ && !callBlocked()) call_->resume();
}

guardrails::AsyncCheckPtr Exchange::startStreamCheck(const guardrails::Guardrail& g, const guardrails::CheckInput& in,
                                                     std::function<std::string_view()> subject,
                                                     guardrails::CheckDone done) {
  return guardrails::startCheck(*this, g, in, std::move(subject), std::move(done));
}

void Exchange::appendStreamSubject(std::string& out) { guardrails::appendRequestSubject(out, *this, request_.body); }

void Exchange::releaseLater(DeferredDeletablePtr p) { worker_.loop().deferredDelete(std::move(p)); }

}  // namespace aigw
