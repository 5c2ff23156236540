// Per-worker, per-upstream connection pool: reuses keep-alive connections (most recently used
// first), caps how many exist, queues a bounded number of waiters beyond the cap and refuses
// the rest at once. Lives on one loop thread; no locks.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "upstream/upstream_connection.h"

namespace aigw::upstream {

struct PoolOptions {
  uint64_t connect_timeout_ms = 10000;
  uint64_t keepalive_idle_ms = 60000;
  size_t max_connections = 256;  // per worker
  size_t max_pending = 1024;     // waiters beyond the cap
};

struct PoolCounters {
  uint64_t connects = 0;
  uint64_t connect_failures = 0;
  uint64_t reuses = 0;
  uint64_t overflows = 0;
};

class UpstreamPool final : private UpstreamConnection::Owner {
 public:
  class Waiter {
   public:
    virtual ~Waiter() = default;
    virtual void onPoolReady(UpstreamConnection* conn) = 0;
    virtual void onPoolFailure(CallErrorKind kind, const std::string& error) = 0;
  };

  UpstreamPool(EventLoop& loop, DnsCache& dns, Origin origin, std::shared_ptr<net::TlsClientContext> tls,
               PoolOptions options);
  // Every call using the pool must be gone first; connections still closing are disowned.
  ~UpstreamPool() override;

  // Hands the waiter a connection, now or later. `fresh`: never an idle one (used after a
  // reused connection turned out to be stale).
  void acquire(Waiter* waiter, bool fresh = false);
  void cancel(Waiter* waiter);
  // Gives a connection back after its response completed (or was abandoned).
  void release(UpstreamConnection* conn);
  // Closes every idle and connecting connection; later releases close theirs.
  void shutdown();

  const Origin& origin() const { return origin_; }
  size_t total() const { return total_; }
  size_t idle() const { return idle_.size(); }
  size_t pending() const { return pending_.size(); }
  const PoolCounters& counters() const { return counters_; }

 private:
  void onConnected(UpstreamConnection* conn) override;
  void onConnectFailed(UpstreamConnection* conn, CallErrorKind kind, const std::string& error) override;
  void onClosed(UpstreamConnection* conn) override;
  void openConnection();
  UpstreamConnection* takeIdle();
  void removeIdle(UpstreamConnection* conn);
  void lend(Waiter* waiter, UpstreamConnection* conn);
  // A closing connection stops counting against max_connections at once (its close callback
  // comes a loop iteration later): a retry on a fresh connection must find room.
  void retire(UpstreamConnection* conn);
  void openForWaiters();

  EventLoop& loop_;
  DnsCache& dns_;
  Origin origin_;
  UpstreamConnection::Settings settings_;
  PoolOptions options_;
  std::vector<UpstreamConnection*> idle_;     // most recently used at the back
  std::unordered_set<UpstreamConnection*> all_;
  std::unordered_set<UpstreamConnection*> lent_;  // handed to waiters, not yet released
  std::unordered_set<UpstreamConnection*> retired_;  // closing, already taken out of total_
  std::deque<Waiter*> pending_;
  size_t total_ = 0;       // open or opening (not closing)
  size_t connecting_ = 0;  // opened on behalf of pending waiters
  bool shut_down_ = false;
  PoolCounters counters_;
};

}  // namespace aigw::upstream
