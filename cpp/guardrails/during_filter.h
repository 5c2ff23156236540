// The pipeline stage that starts a request's during guardrails, last before dispatch (after
// the input stages, so they see the request as it goes upstream). The upstream call starts
// at once beside them; the DuringGate response stage holds the answer until they decide (during_gate.h).
// In the pipeline only when some guardrail runs at the during stage (or an embedder added
// stages that may select one); a request without during guardrails passes untouched.
#pragma once

#include "pipeline/request_stage.h"

namespace aigw::guardrails {

class DuringGuardrailFilter final : public Filter {
 public:
  const char* name() const override { return "during_guardrails"; }
  FilterStatus onRequest(RequestContext& request) const override;
};

}  // namespace aigw::guardrails
