#include "guardrails/output_guard_stage.h"

#include "guardrails/block_answer.h"
#include "guardrails/exchange_stages.h"
#include "guardrails/request_guardrails.h"
#include "http/sse.h"

namespace aigw::guardrails {

OutputGuardStage::OutputGuardStage(ResponseStage& next, RequestContext& request, RequestGuardrails& req,
                                   const RecordState& record, AnswerSource& source)
    : ResponseStage(next), request_(request), req_(req), record_(record), source_(source) {}

OutputGuardStage::~OutputGuardStage() = default;

void OutputGuardStage::respond(int status, const http::HeaderList& headers, std::string_view body) {
  if (!record_.relayed || record_.blocked || status >= 300 || http::isEventStream(headers) || !req_.checksAnswer()) {
    return next_.respond(status, headers, body);
  }
  held_ = std::make_unique<Held>(Held{status, headers});
  // The body goes to the checks while they run and comes back with the verdict.
  DeferredDeletablePtr run = runOutputStage(request_, req_, std::string(body),
                                            [this](bool blocked, std::string b) { checked(blocked, std::move(b)); });
  if (run) checks_ = std::move(run);
}

void OutputGuardStage::checked(bool blocked, std::string body) {
  if (checks_) request_.loop().deferredDelete(std::move(checks_));  // we are inside its callback
  if (!held_) return;
  std::unique_ptr<Held> held = std::move(held_);
  if (blocked) {
    source_.stopAnswer();
    respondBlock(next_, req_.blocked(), request_.id());
    return;
  }
  next_.respond(held->status, held->headers, body);
}

void OutputGuardStage::onEvent(AnswerEvent e) {
  if (e != AnswerEvent::Deadline) {
    checks_.reset();  // cancels the checks: no verdict comes back
    held_.reset();
  }
  ResponseStage::onEvent(e);
}

}  // namespace aigw::guardrails
