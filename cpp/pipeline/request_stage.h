// Request stages: an ordered chain of stateless stages (Envoy's decoder filters), built once per
// worker from the compiled config. A stage lets the request continue to the next one, or stops
// iteration because it answered the request or started async work that resumes the chain
// through RequestContext::continuePipeline(). Per-request state lives behind RequestContext,
// which is all a stage sees of the exchange: stages below the gateway never include it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "http/headers.h"
#include "http/request.h"
#include "pipeline/api_call.h"

namespace aigw {

namespace hooks {
class HookQueue;
}
// Per-request guardrail state. Declared, not included: the guardrails area sits above this one
// and owns the type; the exchange (above both) destroys it.
namespace guardrails {
class RequestGuardrails;
class DuringChecks;
}

enum class FilterStatus { Continue, StopIteration };

// One request as the request stages see it.
class RequestContext {
 public:
  virtual http::Request& request() = 0;
  virtual ApiCall& api() = 0;
  virtual const std::string& id() const = 0;
  virtual uint64_t startNs() const = 0;
  bool bodyStreamed() { return request().body_streamed; }

  // The worker's services: its loop, the per-call context, the Python hook queue.
  virtual EventLoop& loop() = 0;
  virtual CallContext& callContext() = 0;
  virtual hooks::HookQueue& hookQueue() = 0;

  // Runs the stages from the current position until one stops iteration.
  virtual void continuePipeline() = 0;
  // A stage that stops iteration for async work hands that work over here: it is destroyed
  // (and must then cancel itself) if the exchange ends first, or released once the work calls
  // continuePipeline().
  virtual void park(DeferredDeletablePtr work) = 0;

  // Answers and ends the exchange.
  virtual void sendJson(int status, std::string_view body) = 0;
  // An OpenAI-shaped error; empty `type` derives it from the status.
  virtual void sendError(int status, std::string_view message, std::string_view type = {},
                         std::string_view code = {}, std::string_view param = {},
                         const http::HeaderList* extra = nullptr) = 0;
  // Answers api(): through its route's attempts, or straight from its provider (the terminal stage).
  virtual void dispatch() = 0;

  // The guardrails that apply to this request (null when none do), left by the guardrail stage;
  // the response stages and the record read them.
  virtual void setGuardrails(std::unique_ptr<guardrails::RequestGuardrails> g) = 0;
  virtual guardrails::RequestGuardrails* guardrails() = 0;
  // The during checks still running when the request is dispatched: the answer is held until
  // they decide (guardrails/during_gate.h).
  virtual void holdForDuring(std::unique_ptr<guardrails::DuringChecks> checks) = 0;
  // The during checks decided (also before dispatch, when a synchronous one blocked): a block is
  // the answer, an allow lets the held answer out.
  virtual void duringDecided(bool blocked) = 0;

 protected:
  ~RequestContext() = default;
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual const char* name() const = 0;
  virtual FilterStatus onRequest(RequestContext& request) const = 0;
};
using FilterPtr = std::unique_ptr<Filter>;
using FilterChain = std::vector<FilterPtr>;
// Makes one worker's instance of an extra stage (stages are per worker: no sharing, no locks).
using FilterFactory = std::function<FilterPtr()>;

}  // namespace aigw
