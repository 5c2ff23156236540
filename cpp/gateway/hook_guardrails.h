// Python guardrails on the input stage: the request is copied into an owned snapshot, handed to
// the Python hook thread through the HookQueue, and parked until the verdict comes back on this
// worker's loop (allow: the pipeline goes on; block: an error answer; rewrite: a new body). The
// loop never waits on Python; a request whose client left cancels its job.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/pipeline.h"

namespace aigw {

class Exchange;

// The snapshot a Python guardrail sees: request id, endpoint, model, route, stream flag, the JSON
// body and the request headers minus credentials.
std::string inputSnapshot(Exchange& exchange);

class PythonInputGuardrailFilter final : public Filter {
 public:
  explicit PythonInputGuardrailFilter(uint64_t timeout_ms) : timeout_ms_(timeout_ms) {}
  const char* name() const override { return "python_guardrails"; }
  FilterStatus onRequest(Exchange& exchange) const override;

 private:
  uint64_t timeout_ms_;  // backstop: no verdict by then fails closed
};

}  // namespace aigw
