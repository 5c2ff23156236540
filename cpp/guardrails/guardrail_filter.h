// The pipeline stage that selects a request's guardrails (its route's, plus those the
// x-aigw-guardrails header adds) and runs the input stage before dispatch. The output and
// stream stages run later, from the Exchange, on the RequestGuardrails this stage leaves there.
// With no guardrail configured it returns at once: no allocation, no JSON parse.
#pragma once

#include "pipeline/request_stage.h"

namespace aigw::guardrails {

// Header naming guardrails to add for one request ("a, b"); only request_selectable ones.
inline constexpr const char* kSelectHeader = "x-aigw-guardrails";

class GuardrailSet;

class GuardrailFilter final : public Filter {
 public:
  // `set`: the config's guardrails (null: none configured; the header may still name one).
  explicit GuardrailFilter(const GuardrailSet* set) : set_(set) {}
  const char* name() const override { return "guardrails"; }
  FilterStatus onRequest(RequestContext& request) const override;

 private:
  const GuardrailSet* set_;
};

}  // namespace aigw::guardrails
