// The pipeline stage that selects a request's guardrails (its route's, plus those the
// x-aigw-guardrails header adds) and runs the input stage before dispatch. The output and
// stream stages run later, from the Exchange, on the RequestGuardrails this stage leaves there.
// With no guardrail configured it returns at once: no allocation, no JSON parse.
#pragma once

#include "gateway/pipeline.h"

namespace aigw::guardrails {

// Header naming guardrails to add for one request ("a, b"); only request_selectable ones.
inline constexpr const char* kSelectHeader = "x-aigw-guardrails";

class GuardrailFilter final : public Filter {
 public:
  const char* name() const override { return "guardrails"; }
  FilterStatus onRequest(Exchange& exchange) const override;
};

}  // namespace aigw::guardrails
