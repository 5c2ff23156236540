// The moderation guardrail: asks a provider's moderation endpoint (POST /v1/moderations,
// OpenAI's shape) about the request's texts and blocks when any result is flagged. It is the
// asynchronous built-in: the check is a provider call, so the input (or output) stage parks
// the request until the answer (or the timeout) comes.
#pragma once

#include <string>

#include "guardrails/guardrail.h"

namespace aigw::guardrails {

class ModerationGuardrail final : public Guardrail {
 public:
  ModerationGuardrail(GuardrailSettings settings, const Provider* provider, std::string model, uint64_t timeout_ms)
      : Guardrail(std::move(settings)), provider_(provider), model_(std::move(model)), timeout_ms_(timeout_ms) {}

  // Used synchronously (it never is: StageRun starts it), it cannot decide.
  CheckResult check(CheckInput& in) const override;
  bool asynchronous() const override { return true; }
  AsyncCheckPtr startCheck(AsyncCheckContext& ctx, const CheckInput& in, CheckDone done) const override;

  // The verdict for a moderation answer (status, body), for tests.
  static CheckResult verdictFor(int status, std::string_view body);

 private:
  const Provider* provider_;
  std::string model_;
  uint64_t timeout_ms_;
};

}  // namespace aigw::guardrails
