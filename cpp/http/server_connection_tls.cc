// The HTTPS half of ServerConnection: TLS bytes in, plaintext to the HTTP layer, alerts and
// close_notify out. Only connections accepted with a TLS context come here.
#include "core/log.h"
#include "http/server_connection.h"
#include "net/tls_session.h"

namespace aigw::http {
namespace {

// What one read decrypts to; reused so a TLS read allocates nothing once warm. Safe to share
// on the thread: reads do not nest, and handleData copies what it keeps.
thread_local std::string t_plaintext;

}  // namespace

void ServerConnection::handleEncrypted(const char* data, size_t len) {
  if (closing_ || failed_ || lingering_ || close_after_flush_) return;  // discard: the connection is ending
  tls_bytes_seen_ = true;
  const bool was_done = tls_->handshakeDone();
  t_plaintext.clear();
  const net::TlsSession::Result r = tls_->feedEncrypted(data, len, &t_plaintext);
  flushTls();  // handshake messages, alerts, session tickets
  if (r != net::TlsSession::Result::Ok) {
    tlsFailed();
    return;
  }
  if (!was_done && tls_->handshakeDone()) ctx_.counters->tls_handshakes.fetch_add(1, std::memory_order_relaxed);
  if (!t_plaintext.empty()) handleData(t_plaintext.data(), t_plaintext.size());
  if (tls_->peerClosed() && !peer_eof_ && !closing_) {
    // close_notify: the client will send nothing more, which is an EOF to the HTTP layer.
    if (reading_) {
      uv_read_stop(stream());
      reading_ = false;
    }
    onPeerEof();
  }
}

void ServerConnection::tlsFailed() {
  if (tls_->handshakeDone()) {
    ctx_.counters->tls_errors.fetch_add(1, std::memory_order_relaxed);
    AIGW_LOG(Debug, "TLS error from a client: " + tls_->error());
    close(handler_ != nullptr && !response_ended_);  // its alert already went out
    return;
  }
  ctx_.counters->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
  AIGW_LOG(Debug, "TLS handshake with a client failed: " + tls_->error());
  if (tls_->plainHttpRequest()) {
    // Like nginx: a plain-HTTP client gets a plain-HTTP answer it can read instead of a reset.
    tls_.reset();
    sendErrorAndClose(400, "this port speaks HTTPS: send the request to https:// instead of http://");
    return;
  }
  // The alert that says why is queued: let it reach the client, then close (lingering, so the
  // rest of its handshake does not turn our FIN into a reset that destroys the alert).
  closeAfterFlush();
}

void ServerConnection::flushTls() {
  if (!tls_->hasEncrypted()) return;
  std::string out;
  tls_->takeEncrypted(&out);
  writeSocket(std::move(out));
}

void ServerConnection::sendCloseNotify() {
  if (tls_ == nullptr || !tls_->handshakeDone()) return;
  tls_->shutdown();  // idempotent; a failed session sends nothing
  flushTls();
}

}  // namespace aigw::http
