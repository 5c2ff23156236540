#include "gateway/worker.h"

#include <future>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "gateway/api_request.h"
#include "gateway/builtin_routes.h"
#include "gateway/config.h"
#include "gateway/exchange.h"
#include "guardrails/during_filter.h"
#include "guardrails/guardrail_filter.h"
#include "guardrails/guardrail_set.h"
#include "http/response.h"

namespace aigw {

Worker::Worker(uint32_t index, GatewayShared& shared, const std::vector<FilterFactory>& extra)
    : index_(index), shared_(shared), ids_(index), rng_(std::random_device{}() ^ (uint64_t{index} << 32)),
      pools_(loop_, shared.config->server().dns_ttl_ms),
      call_ctx_{loop_, rng_, shared.config->server().mock_mode, &pools_} {
  ctx_.loop = &loop_;
  ctx_.limits = shared.config->server().limits;
  ctx_.factory = this;
  ctx_.counters = &shared.counters;
  listener_.data = this;
  const GatewayConfig& config = *shared.config;
  cost_settings_ = cost::CostSettings{&config.prices(),         config.hooks().cost,       config.hooks().cost_timeout_ms,
                                      config.server().mock_mode, &shared.prompt_tokens,     &shared.completion_tokens,
                                      &shared.cost_hook_backstops, &shared.usage};
  filters_.push_back(std::make_unique<BuiltinRoutesFilter>(*this));
  filters_.push_back(std::make_unique<ApiRequestFilter>(*shared.config));
  filters_.push_back(std::make_unique<guardrails::GuardrailFilter>(shared.config->guardrails()));
  for (const auto& make : extra) filters_.push_back(make());
  // Last before dispatch: the during checks see the request as it goes upstream.
  const guardrails::GuardrailSet* set = shared.config->guardrails();
  if (set != nullptr && set->hasDuring()) {
    filters_.push_back(std::make_unique<guardrails::DuringGuardrailFilter>());
  }
  filters_.push_back(std::make_unique<ProviderDispatchFilter>());
  if (shared.config->log().enabled) {
    journal_ = std::make_unique<log::Journal>(shared.config->log(), index, shared.log,
                                              shared.config->log().memory ? &shared.log_handoff : nullptr);
  }
}

bool Worker::logRefuses() {
  const log::LogSettings& s = config().log();
  if (journal_ == nullptr || s.overflow != log::LogSettings::Overflow::Backpressure) return false;
  if (shared_.log.pending() <= s.max_pending_bytes) return false;
  shared_.log.backpressure_refusals.fetch_add(1, std::memory_order_relaxed);
  return true;
}

Worker::~Worker() { stop(); }

int Worker::start(int listen_fd) {
  std::promise<int> ready;
  std::future<int> result = ready.get_future();
  loop_.startThread([this, listen_fd, &ready] {
    int rc = uv_tcp_init(loop_.uv(), &listener_);
    listener_.data = this;
    if (rc == 0) rc = uv_tcp_open(&listener_, listen_fd);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, &Worker::onConnection);
    listening_ = rc == 0;
    // One worker checks the certificate files for all: a reload publishes to every worker.
    if (listening_ && index_ == 0 && shared_.tls != nullptr && shared_.tls->options().reload_interval_ms > 0) {
      net::ReloadableTlsContext* tls = shared_.tls.get();
      tls_poll_ = std::make_unique<Timer>(loop_.uv(), [tls] { tls->poll(); });
      const uint64_t every = tls->options().reload_interval_ms;
      tls_poll_->start(every, every);
    }
    ready.set_value(rc);
  });
  return result.get();
}

void Worker::onConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<Worker*>(server->data);
  if (status < 0) return;
  auto* client = new uv_tcp_t;
  uv_tcp_init(self->loop_.uv(), client);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(client)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(client), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return;
  }
  if (self->ctx_.draining || !self->shared_.counters.admit(self->config().server().max_connections)) {
    self->refuse(client);
    return;
  }
  if (self->shared_.tls != nullptr) {
    http::ServerConnection::adopt(self->ctx_, client, self->shared_.tls->current(self->tls_view_));
    return;
  }
  http::ServerConnection::adopt(self->ctx_, client);
}

// Over the connection cap: answer 503 at once (no parsing, no queueing) and close.
void Worker::refuse(uv_tcp_t* client) {
  shared_.counters.connections_refused.fetch_add(1, std::memory_order_relaxed);
  if (shared_.tls != nullptr) {
    // An HTTPS client cannot read a plain 503, and a handshake is the work we are shedding.
    uv_close(reinterpret_cast<uv_handle_t*>(client), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return;
  }
  const std::string body = http::openAiErrorBody(
      ctx_.draining ? "the gateway is shutting down" : "too many connections: the gateway is at its connection limit",
      "service_unavailable_error", "too_many_connections");
  std::string out;
  http::appendStatusLine(out, 503);
  http::appendHeader(out, "content-type", "application/json");
  http::appendHeader(out, "x-aigw-request-id", ids_.next());
  http::appendHeader(out, "content-length", std::to_string(body.size()));
  http::appendHeader(out, "connection", "close");
  out.append("\r\n");
  out.append(body);
  uv_buf_t buf = uv_buf_init(out.data(), static_cast<unsigned int>(out.size()));
  uv_try_write(reinterpret_cast<uv_stream_t*>(client), &buf, 1);
  uv_close(reinterpret_cast<uv_handle_t*>(client), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

void Worker::beginDrain() {
  loop_.post([this] {
    ctx_.draining = true;
    if (listening_) {
      listening_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    }
    for (http::ServerConnection* c = ctx_.head; c != nullptr;) {
      http::ServerConnection* next = c->next();
      c->drain();
      c = next;
    }
  });
}

void Worker::stop() {
  loop_.stopAndJoin([this] {
    ctx_.draining = true;
    if (listening_) {
      listening_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    }
    while (ctx_.head != nullptr) ctx_.head->abort();
    tls_poll_.reset();
    pools_.shutdown();
  });
}

bool Worker::streamRequestBody(const http::Request& head) { return shouldStreamRequestBody(head); }

http::RequestHandlerPtr Worker::createHandler(http::Request&& request, http::ResponseWriter& writer) {
  return std::make_unique<Exchange>(*this, std::move(request), writer);
}

std::string Worker::healthBody() const {
  nlohmann::json body;
  body["status"] = draining() ? "draining" : "ok";
  body["version"] = AIGW_VERSION;
  body["uptime_s"] = static_cast<double>(monotonicNs() - shared_.start_ns) / 1e9;
  body["workers"] = shared_.workers;
  body["connections"] = shared_.counters.connections_active.load(std::memory_order_relaxed);
  body["requests_in_flight"] = shared_.requests_in_flight.load(std::memory_order_relaxed);
  // Providers summarise their targets; routes list each target's state.
  const uint64_t now = monotonicNs();
  struct ProviderView {
    int64_t in_flight = 0;
    size_t targets = 0;
    size_t ejected = 0;
    uint64_t last_error_ms = 0;
    std::string last_error;
  };
  std::unordered_map<const Provider*, ProviderView> views;
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& route : config().routes().routes()) {
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : route->targets) {
      const router::TargetState& st = *t->state;
      const auto snap = st.breaker.snapshot(now);
      uint64_t error_ms = 0;
      std::string error = st.lastError(&error_ms);
      ProviderView& view = views[t->provider];
      const int64_t in_flight = st.in_flight.load(std::memory_order_relaxed);
      view.in_flight += in_flight;
      ++view.targets;
      if (snap.state != router::BreakerState::Closed) ++view.ejected;
      if (error_ms > view.last_error_ms) {
        view.last_error_ms = error_ms;
        view.last_error = error;
      }
      const int64_t ewma = st.ewma_ttfb_us.load(std::memory_order_relaxed);
      nlohmann::json entry = {
          {"target", t->label},
          {"provider", t->provider->name()},
          {"breaker", router::breakerStateName(snap.state)},
          {"consecutive_failures", snap.consecutive_failures},
          {"ejections", snap.total_ejections},
          {"in_flight", in_flight},
          {"pending", st.limit.pending()},
          {"attempts", st.attempts.load(std::memory_order_relaxed)},
          {"failures", st.failures.load(std::memory_order_relaxed)},
          {"cap_rejections", st.cap_rejections.load(std::memory_order_relaxed)},
          {"ttfb_ms", ewma < 0 ? nlohmann::json() : nlohmann::json(static_cast<double>(ewma) / 1000.0)},
          {"last_error", error.empty() ? nlohmann::json() : nlohmann::json(error)},
      };
      if (snap.state == router::BreakerState::Open) entry["ejected_for_ms"] = snap.ejected_for_ms;
      const uint64_t not_before = st.not_before_ns.load(std::memory_order_relaxed);
      if (not_before > now) entry["retry_after_ms"] = (not_before - now) / 1000000;
      targets.push_back(std::move(entry));
    }
    routes.push_back({{"name", route->name},
                      {"strategy", router::strategyName(route->plan.strategy)},
                      {"requests", route->requests.load(std::memory_order_relaxed)},
                      {"retries", route->retries.load(std::memory_order_relaxed)},
                      {"fallbacks", route->fallbacks.load(std::memory_order_relaxed)},
                      {"targets", std::move(targets)}});
  }
  nlohmann::json providers = nlohmann::json::array();
  for (const auto& p : config().providers()) {
    const ProviderView& view = views[p.get()];
    const char* status = view.targets > 0 && view.ejected == view.targets ? "down" : view.ejected > 0 ? "degraded" : "ok";
    nlohmann::json entry = {{"name", p->name()},
                            {"kind", p->kind()},
                            {"status", status},
                            {"in_flight", view.in_flight},
                            {"last_error", view.last_error.empty() ? nlohmann::json() : nlohmann::json(view.last_error)}};
    p->describe(entry);
    providers.push_back(std::move(entry));
  }
  body["providers"] = std::move(providers);
  body["routes"] = std::move(routes);
  if (const auto* g = config().guardrails()) body["guardrails"] = g->statsJson();
  return body.dump();
}

}  // namespace aigw
