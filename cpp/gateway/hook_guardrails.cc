#include "gateway/hook_guardrails.h"

#include <nlohmann/json.hpp>

#include <memory>

#include "core/json_text.h"
#include "core/timer.h"
#include "gateway/config.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "hooks/hook_queue.h"

namespace aigw {
namespace {

bool isCredential(std::string_view name) {
  return name == "authorization" || name == "proxy-authorization" || name == "cookie" || name == "x-api-key" ||
         name == "api-key";
}

// What the parked request holds while Python decides: destroying it (the request ended)
// cancels the job and the backstop timer.
class HookWait final : public DeferredDeletable {
 public:
  HookWait(hooks::HookQueue& queue, EventLoop& loop) : queue_(queue), timer_(loop.uv(), [this] { onTimeout(); }) {}
  ~HookWait() override { queue_.cancel(ticket_); }
  void arm(hooks::HookQueue::TicketPtr ticket, uint64_t timeout_ms, std::function<void()> on_timeout) {
    ticket_ = std::move(ticket);
    on_timeout_ = std::move(on_timeout);
    if (timeout_ms > 0) timer_.start(timeout_ms);
  }

 private:
  void onTimeout() {
    queue_.cancel(ticket_);
    on_timeout_();
  }
  hooks::HookQueue& queue_;
  Timer timer_;
  hooks::HookQueue::TicketPtr ticket_;
  std::function<void()> on_timeout_;
};

void applyVerdict(Exchange& ex, bool ok, const std::string& result) {
  if (!ok) {
    ex.sendError(500, "the guardrail layer failed: " + result, "server_error", "guardrail_error");
    return;
  }
  const nlohmann::json verdict = nlohmann::json::parse(result, nullptr, false);
  if (!verdict.is_object()) {
    ex.sendError(500, "the guardrail layer returned an unreadable verdict", "server_error", "guardrail_error");
    return;
  }
  if (auto results = verdict.find("results"); results != verdict.end() && results->is_array()) {
    for (const auto& r : *results) ex.addGuardrailResult(r.dump());
  }
  const std::string action = verdict.value("action", "allow");
  if (action == "block") {
    http::HeaderList extra;
    extra.add("x-aigw-guardrail", verdict.value("guardrail", ""));
    int status = verdict.value("status", 400);
    if (status < 400 || status > 599) status = 400;
    ex.sendError(status, verdict.value("message", "blocked by a guardrail"),
                 verdict.value("type", "invalid_request_error"), verdict.value("code", "content_blocked"), {}, &extra);
    return;
  }
  if (action == "rewrite") {
    auto body = verdict.find("body");
    if (body == verdict.end() || !body->is_object()) {
      ex.sendError(500, "a guardrail rewrite carried no request body", "server_error", "guardrail_error");
      return;
    }
    ex.replaceBody(body->dump());
  }
  ex.continuePipeline();
}

}  // namespace

std::string inputSnapshot(Exchange& ex) {
  const ApiCall& api = ex.api();
  std::string out;
  out.reserve(256 + ex.request().body.size());
  out += "{\"request_id\":";
  appendJsonString(out, ex.id());
  out += ",\"endpoint\":";
  appendJsonString(out, endpointName(api.endpoint));
  out += ",\"path\":";
  appendJsonString(out, ex.request().path());
  out += ",\"model\":";
  appendJsonString(out, api.model);
  out += ",\"route\":";
  if (api.route != nullptr) {
    appendJsonString(out, api.route->name);
  } else {
    out += "null";
  }
  out += ",\"stream\":";
  out += api.stream ? "true" : "false";
  out += ",\"headers\":{";
  bool first = true;
  for (const auto& h : ex.request().headers) {
    if (isCredential(h.name)) continue;
    if (!first) out += ",";
    first = false;
    appendJsonString(out, h.name);
    out += ":";
    appendJsonString(out, h.value);
  }
  out += "},\"body\":";
  out += ex.request().body;  // a JSON object: the API request filter checked it
  out += "}";
  return out;
}

FilterStatus PythonInputGuardrailFilter::onRequest(Exchange& ex) const {
  if (!ex.api().json_object || ex.bodyStreamed()) return FilterStatus::Continue;
  const HookSettings& settings = ex.config().hooks();
  if (!settings.all_routes && (ex.api().route == nullptr || settings.routes.count(ex.api().route->name) == 0)) {
    return FilterStatus::Continue;  // no Python guardrail applies to this route
  }
  Worker& worker = ex.worker();
  hooks::HookQueue& queue = worker.shared().hooks;
  auto wait = std::make_unique<HookWait>(queue, worker.loop());
  HookWait* raw = wait.get();
  Exchange* exchange = &ex;
  // `done` and the timer only run while the exchange holds `wait` (its destructor cancels both).
  auto ticket = queue.submit(worker.loop(), "guardrails.input", inputSnapshot(ex),
                             [exchange](bool ok, std::string result) { applyVerdict(*exchange, ok, result); });
  raw->arm(std::move(ticket), timeout_ms_, [exchange, timeout = timeout_ms_] {
    exchange->sendError(503, "the guardrails gave no verdict within " + std::to_string(timeout) + " ms",
                        "service_unavailable_error", "guardrail_timeout");
  });
  ex.park(std::move(wait));
  return FilterStatus::StopIteration;
}

}  // namespace aigw
