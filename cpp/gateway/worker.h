// A worker: one loop thread with its own SO_REUSEPORT listener, connections, request ids and
// per-call services. It is the RequestHandlerFactory of its connections: each request becomes
// an Exchange that runs the worker's filter chain.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>

#include "core/event_loop.h"
#include "core/request_id.h"
#include "core/timer.h"
#include "cost/cost_stage.h"
#include "cost/usage_book.h"
#include "pipeline/request_stage.h"
#include "hooks/hook_queue.h"
#include "http/exchange_api.h"
#include "http/server_connection.h"
#include "log/journal.h"
#include "net/reloadable_tls_context.h"
#include "providers/provider.h"
#include "upstream/pool_registry.h"

namespace aigw {

class GatewayConfig;

// State every worker of one gateway shares: read-only config, atomics.
struct GatewayShared {
  const GatewayConfig* config = nullptr;
  http::ServerCounters counters;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> requests_in_flight{0};  // exchanges alive (from parse to response end)
  std::atomic<uint64_t> prompt_tokens{0};
  std::atomic<uint64_t> completion_tokens{0};
  cost::UsageBook usage;  // totals by day, provider and model (gw.usage(), GET /v1/usage)
  log::LogCounters log;
  log::RecordHandoff log_handoff;  // records in memory for the log thread (LogSettings::memory)
  uint64_t start_ns = 0;
  int workers = 0;
  hooks::HookQueue hooks;  // jobs for the Python hook thread
  std::atomic<uint64_t> cost_hook_backstops{0};  // answers the cost hook left past its backstop
  // HTTPS for clients (server.tls); null: plain HTTP. Worker 0 polls its files.
  std::unique_ptr<net::ReloadableTlsContext> tls;
};

class Worker final : public http::RequestHandlerFactory {
 public:
  // `extra` stages run after the API request is understood and before it is dispatched.
  Worker(uint32_t index, GatewayShared& shared, const std::vector<FilterFactory>& extra = {});
  ~Worker() override;

  // Starts the loop thread listening on `listen_fd` (which it takes over). Returns 0 once
  // listening, or a negative libuv error.
  int start(int listen_fd);
  // Thread-safe: stop accepting, close idle connections, let the others finish.
  void beginDrain();
  // Thread-safe: close every connection (cancelling what is in flight) and join the thread.
  void stop();

  EventLoop& loop() { return loop_; }
  const GatewayConfig& config() const { return *shared_.config; }
  const FilterChain& filters() const { return filters_; }
  CallContext& callContext() { return call_ctx_; }
  const cost::CostSettings& costSettings() const { return cost_settings_; }
  bool draining() const { return shared_.draining.load(std::memory_order_relaxed); }
  GatewayShared& shared() { return shared_; }
  std::string healthBody() const;
  // This worker's request-log journal; null when the log is disabled.
  log::Journal* journal() { return journal_.get(); }
  // Backpressure mode and the journal is over its bound: refuse a new request (and count it).
  bool logRefuses();

  // http::RequestHandlerFactory
  http::RequestHandlerPtr createHandler(http::Request&& request, http::ResponseWriter& writer) override;
  std::string newRequestId() override { return ids_.next(); }
  bool streamRequestBody(const http::Request& head) override;

 private:
  static void onConnection(uv_stream_t* server, int status);
  void refuse(uv_tcp_t* client);

  uint32_t index_;
  GatewayShared& shared_;
  EventLoop loop_;
  uv_tcp_t listener_;
  bool listening_ = false;
  http::ServerContext ctx_;
  RequestIdGenerator ids_;
  std::mt19937_64 rng_;
  upstream::PoolRegistry pools_;
  net::ReloadableTlsContext::View tls_view_;  // this worker's copy of the current certificate
  std::unique_ptr<Timer> tls_poll_;           // worker 0: the certificate file check
  CallContext call_ctx_;
  cost::CostSettings cost_settings_;  // the cost stage's, compiled once
  FilterChain filters_;
  std::unique_ptr<log::Journal> journal_;
};

}  // namespace aigw
