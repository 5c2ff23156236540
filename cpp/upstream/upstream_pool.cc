#include "upstream/upstream_pool.h"

#include <algorithm>

namespace aigw::upstream {

UpstreamPool::UpstreamPool(EventLoop& loop, DnsCache& dns, Origin origin, std::shared_ptr<net::TlsClientContext> tls,
                           PoolOptions options)
    : loop_(loop), dns_(dns), origin_(std::move(origin)), options_(options) {
  settings_.origin = &origin_;
  settings_.tls = std::move(tls);
  settings_.connect_timeout_ms = options_.connect_timeout_ms;
  settings_.keepalive_idle_ms = options_.keepalive_idle_ms;
}

UpstreamPool::~UpstreamPool() {
  shutdown();
  for (UpstreamConnection* c : all_) c->disown();
}

void UpstreamPool::shutdown() {
  shut_down_ = true;
  std::vector<UpstreamConnection*> conns(all_.begin(), all_.end());
  for (UpstreamConnection* c : conns) {
    // Lent connections belong to their calls, which close them when they are destroyed.
    if (!lent_.count(c)) c->close();
  }
  idle_.clear();
  std::deque<Waiter*> waiters;
  waiters.swap(pending_);
  for (Waiter* w : waiters) w->onPoolFailure(CallErrorKind::Internal, "the gateway is shutting down");
}

void UpstreamPool::acquire(Waiter* waiter, bool fresh) {
  if (shut_down_) {
    waiter->onPoolFailure(CallErrorKind::Internal, "the gateway is shutting down");
    return;
  }
  if (!fresh) {
    if (UpstreamConnection* conn = takeIdle()) {
      ++counters_.reuses;
      lend(waiter, conn);
      return;
    }
  }
  if (total_ < options_.max_connections) {
    pending_.push_back(waiter);
    openConnection();
    return;
  }
  // Waiters for connections being opened are not queued behind the cap: only the rest count
  // against max_pending.
  if (pending_.size() < connecting_ + options_.max_pending) {
    pending_.push_back(waiter);
    return;
  }
  ++counters_.overflows;
  waiter->onPoolFailure(CallErrorKind::Overflow, "connection pool for " + origin_.key() + " is full (" +
                                                     std::to_string(options_.max_connections) + " connections, " +
                                                     std::to_string(options_.max_pending) + " waiting)");
}

void UpstreamPool::cancel(Waiter* waiter) {
  auto it = std::find(pending_.begin(), pending_.end(), waiter);
  if (it != pending_.end()) pending_.erase(it);
}

void UpstreamPool::openConnection() {
  ++total_;
  ++connecting_;
  ++counters_.connects;
  auto* conn = new UpstreamConnection(loop_, dns_, settings_, this);
  all_.insert(conn);
  conn->connect();
}

UpstreamConnection* UpstreamPool::takeIdle() {
  while (!idle_.empty()) {
    UpstreamConnection* conn = idle_.back();
    idle_.pop_back();
    if (!conn->closing()) return conn;
    retire(conn);
  }
  return nullptr;
}

void UpstreamPool::removeIdle(UpstreamConnection* conn) {
  auto it = std::find(idle_.begin(), idle_.end(), conn);
  if (it != idle_.end()) idle_.erase(it);
}

void UpstreamPool::lend(Waiter* waiter, UpstreamConnection* conn) {
  lent_.insert(conn);
  waiter->onPoolReady(conn);
}

void UpstreamPool::retire(UpstreamConnection* conn) {
  if (all_.count(conn) && retired_.insert(conn).second && total_ > 0) --total_;
}

void UpstreamPool::openForWaiters() {
  // Room for waiters that had to queue behind the cap (each opening serves one of them).
  while (!shut_down_ && pending_.size() > connecting_ && total_ < options_.max_connections) openConnection();
}

void UpstreamPool::release(UpstreamConnection* conn) {
  lent_.erase(conn);
  if (shut_down_ || !conn->reusable()) {
    conn->close();
    retire(conn);
    openForWaiters();
    return;
  }
  if (!pending_.empty()) {
    Waiter* w = pending_.front();
    pending_.pop_front();
    ++counters_.reuses;
    lend(w, conn);
    return;
  }
  conn->park();
  idle_.push_back(conn);
}

void UpstreamPool::onConnected(UpstreamConnection* conn) {
  if (connecting_ > 0) --connecting_;
  if (shut_down_) {
    conn->close();
    return;
  }
  if (pending_.empty()) {
    conn->park();
    idle_.push_back(conn);
    return;
  }
  Waiter* w = pending_.front();
  pending_.pop_front();
  lend(w, conn);
}

void UpstreamPool::onConnectFailed(UpstreamConnection* conn, CallErrorKind kind, const std::string& error) {
  if (connecting_ > 0) --connecting_;
  ++counters_.connect_failures;
  retire(conn);
  if (pending_.empty()) return;
  // The failure belongs to the oldest waiter; the others keep waiting for their own attempts
  // (or for connections released by other calls).
  Waiter* w = pending_.front();
  pending_.pop_front();
  w->onPoolFailure(kind, error);
  openForWaiters();
}

void UpstreamPool::onClosed(UpstreamConnection* conn) {
  removeIdle(conn);
  all_.erase(conn);
  lent_.erase(conn);
  if (!retired_.erase(conn) && total_ > 0) --total_;
  openForWaiters();
}

}  // namespace aigw::upstream
