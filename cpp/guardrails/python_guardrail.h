// A guardrail written in Python (kind "python"): asynchronous like moderation. Its check is a
// job on the worker's HookQueue naming the guardrail and the stage, with an owned snapshot of
// what the stage checks; the Python hook thread runs the guardrail's check and answers with a
// verdict (JSON), which comes back to the worker's loop as a CheckResult. A backstop timer
// fails the check if no verdict comes (Python enforces the guardrail's own timeout first).
//
// Job: kind "guardrail", payload "<stage>:<name>\n{"texts":[...],<subject>}" (stage: input,
//   during or output; the first line lets Python pick the check without parsing the JSON),
//   where <subject> is AsyncCheckContext::subject() ("request":{...}[,"response":{...}]).
//   A stream window: "stream:<name>\n{"texts":[window],"window":{"choice":N,"final":B}}\n
//   {<subject>}": its own small JSON line first, so Python reads the window without parsing
//   the request (which may be large) unless the check asks for it.
// In a stream window an allow, redact or rewrite may add "hold":N (or "hold":"all"): the
// window's last N characters (after the edits) wait for a later window.
// Verdict: {"verdict":"allow"}
//          {"verdict":"block","status":400,"message":"...","type":"...","code":"..."}
//          {"verdict":"redact","redactions":[["text","replacement"],...]}
//          {"verdict":"rewrite","texts":[...]}   one per text sent, in order
//          {"verdict":"rewrite","body":{...}}    the whole new document (request or answer)
//          {"verdict":"error","message":"...","timeout":false}   the check failed: on_error
#pragma once

#include <cstdint>
#include <string>

#include "guardrails/guardrail.h"

namespace aigw::guardrails {

class PythonGuardrail final : public Guardrail {
 public:
  PythonGuardrail(GuardrailSettings settings, uint64_t timeout_ms, size_t window = 64)
      : Guardrail(std::move(settings)), timeout_ms_(timeout_ms), window_(window) {}

  // Used synchronously (it never is: StageRun starts it), it cannot decide.
  CheckResult check(CheckInput& in) const override;
  bool asynchronous() const override { return true; }
  AsyncCheckPtr startCheck(AsyncCheckContext& ctx, const CheckInput& in, CheckDone done) const override;

  // Stream windows hold back this many bytes, so text split across chunks is seen whole.
  size_t lookback() const override { return window_; }

  uint64_t timeoutMs() const { return timeout_ms_; }
  // The backstop: how long a check may wait for its verdict before it fails as timed out.
  // Python answers a timeout at the timeout itself (counted from when the hook thread took the
  // job); the slack only covers a hook thread that cannot run then, e.g. starved of the GIL by
  // sync hooks computing in their threads: a timeout then still fires on time, give or take
  // the slack, not whenever Python gets to it. aigw._cost_hook.BACKSTOP_SLACK_S is the same.
  static constexpr uint64_t kBackstopSlackMs = 100;
  uint64_t backstopMs() const { return timeout_ms_ + kBackstopSlackMs; }

  // The CheckResult for a verdict from the hook thread (ok = false: the hook layer failed).
  CheckResult verdictFor(bool ok, const std::string& result) const;
  // A failed check: 503 guardrail_error naming the guardrail, when on_error blocks.
  CheckResult failure(std::string reason, bool timeout) const;

 private:
  uint64_t timeout_ms_;
  size_t window_;
};

}  // namespace aigw::guardrails
