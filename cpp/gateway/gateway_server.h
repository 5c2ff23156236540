// The gateway as one object: compiled config, N workers, start/stop/drain and statistics.
// This is what the Python module wraps; it never touches Python itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.h"
#include "gateway/worker.h"

namespace aigw {

class GatewayServer {
 public:
  // Returns null and sets `error` when the config document is invalid, or when `server.tls` names
  // files that do not make a certificate and key ("server.tls.key: ...").
  static std::unique_ptr<GatewayServer> create(std::string_view config_json, std::string* error);
  ~GatewayServer();

  // Binds, starts the workers and returns the port once every worker listens; -1 on error.
  int start(std::string* error);
  // Stops accepting, lets in-flight requests finish for up to drain_timeout_ms (< 0: the
  // configured default), then closes what is left and joins every thread. Idempotent.
  void stop(int64_t drain_timeout_ms = -1);

  // Adds a pipeline stage (one instance per worker) between request parsing and dispatch.
  // For embedders and tests; call before start().
  void addFilter(FilterFactory factory) { extra_filters_.push_back(std::move(factory)); }

  // Thread-safe: a stop() waiting for in-flight requests stops waiting and closes them now
  // (their records are still written). For a second SIGTERM.
  void endDrainNow() { drain_cut_.store(true); }

  // Thread-safe: rebuilds the client-facing TLS context from its files now, for new connections.
  // False with `error` when there is no `server.tls` or the files are refused; the current
  // certificate then stays.
  bool reloadTls(net::TlsLoadError* error);

  bool running() const;
  int port() const { return port_; }
  int workerCount() const { return static_cast<int>(shared_.workers); }
  const GatewayConfig& config() const { return *config_; }
  std::string statsJson() const;
  // The queue the Python hook thread serves (see hooks/hook_queue.h).
  hooks::HookQueue& hooks() { return shared_.hooks; }
  // Usage and cost totals (see cost::UsageBook::json).
  std::string usageJson(const cost::UsageBook::Filter& filter = {}) const { return shared_.usage.json(filter); }
  // The log thread reports how many of this run's journal bytes every sink has consumed; the
  // difference to what was written is what counts against log.max_pending_bytes.
  void setLogConsumed(uint64_t bytes) { shared_.log.consumed_bytes.store(bytes, std::memory_order_relaxed); }
  // The record lines handed off in memory since the last call (LogSettings::memory).
  std::string takeLogLines() { return shared_.log_handoff.take(); }

 private:
  explicit GatewayServer(std::shared_ptr<const GatewayConfig> config);

  std::shared_ptr<const GatewayConfig> config_;
  GatewayShared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<FilterFactory> extra_filters_;
  mutable std::mutex mutex_;
  int port_ = -1;
  bool running_ = false;
  std::atomic<bool> drain_cut_{false};
};

int defaultWorkerCount();

}  // namespace aigw
