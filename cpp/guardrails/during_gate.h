// The during stage's response side: while the request's during checks run beside the attempts,
// everything the client would get is held in the gate; when they all allowed it goes out (and
// the rest follows as usual), when one blocked the call in flight is cancelled, what was held
// dropped, and the block is the answer (docs/guardrails.md, "The during stage").
#pragma once

#include <memory>
#include <string>

#include "core/event_loop.h"
#include "guardrails/answer_gate.h"
#include "guardrails/during_checks.h"
#include "pipeline/answer_source.h"

namespace aigw::guardrails {

class DuringGate final : public AnswerGate {
 public:
  // Closed from the start; `checks` are running (DuringGuardrailFilter started them).
  DuringGate(ResponseStage& next, std::unique_ptr<DuringChecks> checks, RequestGuardrails& req, AnswerSource& source,
             EventLoop& loop, const std::string& request_id);

  // The checks decided (their callback, through the request).
  void decided(bool blocked);
  void onEvent(AnswerEvent e) override;

 private:
  std::unique_ptr<DuringChecks> checks_;
  RequestGuardrails& req_;
  AnswerSource& source_;
  EventLoop& loop_;
  const std::string& request_id_;
};

}  // namespace aigw::guardrails
