// The provider seam: how the pipeline asks one provider (mock, OpenAI-compatible upstream,
// later Anthropic, Gemini ...) to answer one API call, and how the answer comes back.
// A call reports, in order: onCallHead once, onCallBody any number of times, then exactly one
// of onCallEnd or onCallError (onCallError may also come before any head); onCallUsage may come
// any time after the head, each time the call learns more of its usage. Destroying the
// ProviderCall cancels it; no observer method runs after that.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/call.h"
#include "core/event_loop.h"
#include "http/headers.h"
#include "core/lazy_json.h"
#include "http/request.h"

namespace aigw::upstream {
class PoolRegistry;
}

namespace aigw {

class CallObserver {
 public:
  virtual ~CallObserver() = default;
  // content_length < 0: the body length is unknown (streamed).
  virtual void onCallHead(int status, http::HeaderList headers, int64_t content_length) = 0;
  virtual void onCallBody(std::string_view data) = 0;
  virtual void onCallEnd(const CallUsage& usage) = 0;
  virtual void onCallError(CallErrorKind kind, std::string message) = 0;
  // The usage the answer reported so far (a stream's usage event), so a call that fails or is
  // abandoned afterwards still counts it. onCallEnd carries the final counts.
  virtual void onCallUsage(const CallUsage& usage) {}
  // True while the client cannot take more bytes; the call should wait for resume().
  virtual bool callBlocked() const = 0;
  // Streamed request bodies: the call cannot take more body bytes for now (true) / again (false).
  virtual void pauseRequestBody(bool pause) {}
};

class ProviderCall : public DeferredDeletable {
 public:
  // The observer is writable again after callBlocked() returned true.
  virtual void resume() {}
  // Streamed request bodies (CallRequest::body_streamed): the body after start(), then its end.
  virtual void onRequestBody(std::string_view data) {}
  virtual void onRequestEnd() {}
};
using ProviderCallPtr = std::unique_ptr<ProviderCall>;

struct CallRequest {
  Endpoint endpoint;
  const http::Request& http;
  std::string_view json_text;       // the JSON body to send (the client's, or rewritten for the target)
  const LazyJson& body;             // json_text parsed on first use (.get())
  bool json_object;                 // the body is a JSON object
  std::string_view model;           // the model name the client asked for
  std::string_view upstream_model;  // the provider's name for it
  bool stream = false;
  std::string_view request_id;
  std::string_view path_suffix;     // Passthrough: the target after "/v1" (path and query)
  bool body_streamed = false;       // the body follows through ProviderCall::onRequestBody
  // Per-attempt timeouts from the route (0: the provider's own). Upstream providers apply them;
  // the in-process mock has no connection to time.
  uint64_t connect_timeout_ms = 0;  // waiting for a connection (DNS, TCP, TLS, pool queue)
  uint64_t first_byte_timeout_ms = 0;
  uint64_t idle_timeout_ms = 0;
  // The API json_text is written in: OpenAI's, unless the attempt is same-API (the client's
  // bytes for a provider that speaks the client's API; the answer then goes back untranslated).
  ApiShape shape = ApiShape::OpenAi;
  // The route's drop_params: request fields a translating provider drops instead of refusing.
  const std::vector<std::string>* drop_params = nullptr;
};

// Per-worker services a call may use.
struct CallContext {
  EventLoop& loop;
  std::mt19937_64& rng;
  bool mock_mode = false;  // serving as a standalone mock upstream (`aigw mock`)
  upstream::PoolRegistry* pools = nullptr;
};

class Provider {
 public:
  virtual ~Provider() = default;
  const std::string& name() const { return name_; }
  virtual const char* kind() const = 0;
  // The API this provider speaks natively: an attempt from a client speaking it may carry the
  // client's own bytes (CallRequest::shape).
  virtual ApiShape nativeShape() const { return ApiShape::OpenAi; }
  // Thread-safe: called from any worker; everything per call lives in the returned object.
  virtual ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const = 0;
  // Extra fields for /health.
  virtual void describe(nlohmann::json& out) const {}
  // Something about this provider's config the operator must hear at start (empty: nothing).
  virtual std::string startupWarning() const { return {}; }
  // Thread-safe: new credentials from outside the data plane (a refresher), as JSON; the next
  // attempts use them. False with `error` when this provider takes none or `pushed` is not
  // what its kind takes. Const like the rest of a compiled config: credentials are not config,
  // they live in a synchronized slot of their own (providers/credential_slot.h).
  virtual bool acceptCredentials(const nlohmann::json& pushed, std::string* error) const {
    *error = "provider '" + name_ + "' (kind " + kind() + ") takes no credentials from a hook";
    return false;
  }

 protected:
  explicit Provider(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};
using ProviderPtr = std::unique_ptr<Provider>;

}  // namespace aigw
