#include "gateway/gateway_server.h"

#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "guardrails/guardrail_set.h"
#include "net/listen_socket.h"

namespace aigw {

int defaultWorkerCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

std::unique_ptr<GatewayServer> GatewayServer::create(std::string_view config_json, std::string* error) {
  auto config = GatewayConfig::fromJson(config_json, error);
  if (!config) return nullptr;
  std::unique_ptr<GatewayServer> server(new GatewayServer(std::move(config)));
  // Built now, so a bad certificate fails the start instead of the first handshake.
  if (const auto& tls = server->config_->server().tls) {
    net::TlsLoadError e;
    server->shared_.tls = net::ReloadableTlsContext::create(*tls, &e);
    if (server->shared_.tls == nullptr) {
      *error = "server.tls." + e.field + ": " + e.message;
      return nullptr;
    }
  }
  return server;
}

bool GatewayServer::reloadTls(net::TlsLoadError* error) {
  if (shared_.tls == nullptr) {
    error->field.clear();
    error->message = "server.tls is not configured";
    return false;
  }
  return shared_.tls->reload(error);
}

GatewayServer::GatewayServer(std::shared_ptr<const GatewayConfig> config) : config_(std::move(config)) {
  shared_.config = config_.get();
}

GatewayServer::~GatewayServer() { stop(0); }

int GatewayServer::start(std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (running_) return port_;
  const ServerSettings& s = config_->server();
  setLogLevel(parseLogLevel(s.log_level));
  const int count = s.workers > 0 ? s.workers : defaultWorkerCount();
  std::vector<int> fds;
  const int port = net::bindReusePortGroup(s.host, s.port, count, &fds, error);
  if (port < 0) return -1;

  shared_.workers = count;
  shared_.start_ns = monotonicNs();
  shared_.draining.store(false);
  workers_.clear();
  for (int i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(static_cast<uint32_t>(i), shared_, extra_filters_);
    int rc = worker->start(fds[static_cast<size_t>(i)]);
    if (rc != 0) {
      *error = std::string("worker failed to listen: ") + uv_strerror(rc);
      for (size_t j = static_cast<size_t>(i) + 1; j < fds.size(); ++j) ::close(fds[j]);
      worker->stop();
      for (auto& w : workers_) w->stop();
      workers_.clear();
      return -1;
    }
    workers_.push_back(std::move(worker));
  }
  for (const auto& p : config_->providers()) {
    const std::string warning = p->startupWarning();
    if (!warning.empty()) AIGW_LOG(Warning, warning);
  }
  port_ = port;
  running_ = true;
  return port_;
}

void GatewayServer::stop(int64_t drain_timeout_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!running_) return;
  if (drain_timeout_ms < 0) drain_timeout_ms = static_cast<int64_t>(config_->server().drain_timeout_ms);
  shared_.draining.store(true);
  for (auto& w : workers_) w->beginDrain();
  const uint64_t deadline = monotonicNs() + static_cast<uint64_t>(drain_timeout_ms) * 1000000ull;
  while (shared_.counters.connections_active.load() > 0 && monotonicNs() < deadline && !drain_cut_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& w : workers_) w->stop();
  workers_.clear();
  running_ = false;
  drain_cut_.store(false);
}

bool GatewayServer::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

std::string GatewayServer::statsJson() const {
  const auto& c = shared_.counters;
  nlohmann::json j;
  j["running"] = running();
  j["workers"] = shared_.workers;
  j["uptime_s"] = shared_.start_ns ? static_cast<double>(monotonicNs() - shared_.start_ns) / 1e9 : 0.0;
  j["connections_active"] = c.connections_active.load();
  j["connections_accepted"] = c.connections_accepted.load();
  j["connections_refused"] = c.connections_refused.load();
  j["requests"] = c.requests.load();
  j["requests_in_flight"] = shared_.requests_in_flight.load();
  j["framing_errors"] = c.framing_errors.load();
  j["limit_errors"] = c.limit_errors.load();
  j["timeouts"] = c.timeouts.load();
  j["client_aborts"] = c.client_aborts.load();
  if (const net::ReloadableTlsContext* tls = shared_.tls.get()) {
    const net::TlsServerContextPtr current = tls->current();  // a reload may free the old one meanwhile
    const net::CertificateInfo& cert = current->certificate();
    const std::string last_error = tls->lastError();
    j["tls"] = {{"handshakes", c.tls_handshakes.load()},
                {"handshake_failures", c.tls_handshake_failures.load()},
                {"handshake_timeouts", c.tls_handshake_timeouts.load()},
                {"errors", c.tls_errors.load()},
                {"reloads", tls->reloads()},
                {"reload_failures", tls->reloadFailures()},
                {"last_reload_error", last_error.empty() ? nlohmann::json() : nlohmann::json(last_error)},
                {"certificate",
                 {{"subject", cert.subject}, {"serial", cert.serial}, {"not_after", cert.not_after},
                  {"expired", cert.expired}}}};
  }
  uint64_t retries = 0, budget_denied = 0, fallbacks = 0, unavailable = 0, cap_rejections = 0, ejections = 0;
  const uint64_t now = monotonicNs();
  for (const auto& route : config_->routes().routes()) {
    retries += route->retries.load();
    budget_denied += route->retries_budget_denied.load();
    fallbacks += route->fallbacks.load();
    unavailable += route->unavailable.load();
    for (const auto& t : route->targets) {
      cap_rejections += t->state->cap_rejections.load();
      ejections += t->state->breaker.snapshot(now).total_ejections;
    }
  }
  j["routing"] = {{"retries", retries},           {"retry_budget_denied", budget_denied},
                  {"fallbacks", fallbacks},       {"unavailable", unavailable},
                  {"cap_rejections", cap_rejections}, {"ejections", ejections}};
  const log::LogCounters& lc = shared_.log;
  j["log"] = {{"enabled", config_->log().enabled},
              {"records_written", lc.records.load()},
              {"journal_bytes", lc.bytes.load()},
              {"pending_bytes", lc.pending()},
              {"journal_files", lc.journal_files.load()},
              {"records_spilled", lc.spilled.load()},
              {"backpressure_refusals", lc.backpressure_refusals.load()},
              {"records_dropped", lc.dropped.load()}};
  j["guardrails"] = config_->guardrails() != nullptr ? config_->guardrails()->statsJson() : nlohmann::json::object();
  j["usage"] = {{"prompt_tokens", shared_.prompt_tokens.load()}, {"completion_tokens", shared_.completion_tokens.load()}};
  if (config_->hooks().cost) j["cost_hook"] = {{"backstop_timeouts", shared_.cost_hook_backstops.load()}};
  return j.dump();
}

}  // namespace aigw
