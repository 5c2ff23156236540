#include "http/server_tls.h"

#include "core/log.h"
#include "net/tls_session.h"

namespace aigw::http {

ServerTls::ServerTls(ServerCounters& counters) : counters_(counters) {}

ServerTls::~ServerTls() = default;

bool ServerTls::start(std::shared_ptr<const net::TlsServerContext> ctx) {
  session_ = std::make_unique<net::TlsSession>(std::move(ctx));
  if (session_->start() != net::TlsSession::Result::Ok) {
    AIGW_LOG(Error, "TLS: " + session_->error());
    return false;
  }
  return true;
}

ServerTls::Read ServerTls::open(const char* data, size_t len, std::string_view* plain, std::string* wire) {
  bytes_seen_ = true;
  const bool was_done = session_->handshakeDone();
  const net::TlsSession::Result r = session_->feedEncrypted(data, len, plain);
  session_->takeEncrypted(wire);
  if (r != net::TlsSession::Result::Ok) return failed();
  if (!was_done && session_->handshakeDone()) counters_.tls_handshakes.fetch_add(1, std::memory_order_relaxed);
  return Read::kOk;
}

ServerTls::Read ServerTls::failed() {
  if (session_->handshakeDone()) {
    counters_.tls_errors.fetch_add(1, std::memory_order_relaxed);
    AIGW_LOG(Debug, "TLS error from a client: " + session_->error());
    return Read::kBroken;
  }
  counters_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
  AIGW_LOG(Debug, "TLS handshake with a client failed: " + session_->error());
  if (session_->plainHttpRequest()) {
    // Like nginx: a plain-HTTP client gets a plain-HTTP answer it can read instead of a reset.
    session_.reset();
    return Read::kPlainHttp;
  }
  return Read::kHandshakeFailed;
}

bool ServerTls::seal(std::string_view plain, std::string* wire) {
  if (session_->writePlain(plain) != net::TlsSession::Result::Ok) {
    counters_.tls_errors.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  session_->takeEncrypted(wire);
  return true;
}

std::string ServerTls::closeNotify() {
  std::string wire;
  if (session_ == nullptr || !session_->handshakeDone()) return wire;
  session_->shutdown();  // idempotent; a failed session sends nothing
  session_->takeEncrypted(&wire);
  return wire;
}

bool ServerTls::peerClosed() const {
  return session_->peerClosed();
}

bool ServerTls::handshakeTimedOut() {
  if (session_ == nullptr || session_->handshakeDone()) return false;
  counters_.tls_handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool ServerTls::handshakeAbandoned(bool ending) {
  if (session_ == nullptr || session_->handshakeDone()) return false;
  if (bytes_seen_ && !ending) counters_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace aigw::http
