#include "guardrails/stream_guard_stage.h"

#include "guardrails/block_answer.h"
#include "guardrails/exchange_stages.h"
#include "guardrails/request_guardrails.h"
#include "http/sse.h"

namespace aigw::guardrails {

StreamGuardStage::StreamGuardStage(ResponseStage& next, RequestContext& request, RequestGuardrails& req,
                                   AnswerSource& source)
    : ResponseStage(next), request_(request), req_(req), source_(source) {}

StreamGuardStage::~StreamGuardStage() { dropGuard(); }

void StreamGuardStage::writeHead(int status, const http::HeaderList& headers, int64_t content_length) {
  if (status < 400 && http::isEventStream(headers)) {
    guarding_ = true;
    head_ = std::make_unique<Head>(Head{status, headers, content_length});
    return;
  }
  next_.writeHead(status, headers, content_length);
}

void StreamGuardStage::writeBody(std::string_view data) {
  if (!guarding_) return next_.writeBody(data);
  if (!guard_) guard_ = std::make_unique<StreamGuard>(req_, req_.endpoint(), static_cast<StreamHost&>(*this));
  guard_->feed(data);  // what may go out comes back through streamOut()
}

void StreamGuardStage::endResponse() {
  if (guard_) {
    guard_->finish();  // what it still holds goes out, then streamFinished()
    return;
  }
  sendHead();  // an event stream with no events
  next_.endResponse();
}

void StreamGuardStage::sendHead() {
  if (!head_) return;
  std::unique_ptr<Head> head = std::move(head_);
  next_.writeHead(head->status, head->headers, head->content_length);
}

void StreamGuardStage::dropGuard() {
  guarding_ = false;
  head_.reset();
  if (!guard_) return;
  guard_->detach();
  request_.loop().deferredDelete(std::move(guard_));  // it may be on the stack
}

void StreamGuardStage::onEvent(AnswerEvent e) {
  if (e != AnswerEvent::Deadline) dropGuard();  // a restart or a client gone: what it held stays unsent
  ResponseStage::onEvent(e);
}

void StreamGuardStage::streamOut(std::string_view bytes) {
  sendHead();
  next_.writeBody(bytes);
}

void StreamGuardStage::streamFinished() {
  sendHead();
  next_.endResponse();
}

// The answer stops here: a clean error response when nothing went out yet, else an error event
// and a clean end of the stream. The provider did answer: its attempt counts as one.
void StreamGuardStage::streamBlocked() {
  const bool head_out = head_ == nullptr;
  dropGuard();
  source_.stopAnswer();
  if (!head_out || !next_.headSent()) {
    respondBlock(next_, req_.blocked(), request_.id());
    return;
  }
  endStreamWithBlock(next_, req_.blocked());
}

void StreamGuardStage::streamDrained() {
  // The producer may have paused on the guard's full queue; nothing else would wake it.
  source_.resumeAnswer();
}

AsyncCheckPtr StreamGuardStage::startStreamCheck(const Guardrail& g, const CheckInput& in,
                                                 std::function<std::string_view()> subject, CheckDone done) {
  return startCheck(request_, g, in, std::move(subject), std::move(done));
}

void StreamGuardStage::appendStreamSubject(std::string& out) {
  appendRequestSubject(out, request_, request_.request().body);
}

void StreamGuardStage::releaseLater(DeferredDeletablePtr p) { request_.loop().deferredDelete(std::move(p)); }

}  // namespace aigw::guardrails
