#include "upstream/upstream_stream.h"

#include "net/tls_session.h"

namespace aigw::upstream {

UpstreamStream::UpstreamStream(const Origin& origin, net::WriteQueue::Written written, void* owner)
    : origin_(origin), written_(written), owner_(owner) {}

UpstreamStream::~UpstreamStream() = default;

bool UpstreamStream::open(uv_tcp_t* tcp, const std::shared_ptr<net::TlsClientContext>& tls) {
  out_.emplace(tcp, written_, owner_);
  if (!tls) return true;
  tls_ = std::make_unique<net::TlsSession>(tls, origin_.host, origin_.port);
  if (tls_->start() != net::TlsSession::Result::Ok) {
    return failed(CallErrorKind::Connect, "TLS handshake with " + origin_.hostPort() + " failed: " + tls_->error());
  }
  return true;
}

bool UpstreamStream::write(std::string&& data) {
  if (!tls_) return send(std::move(data));
  return write(std::string_view(data));
}

bool UpstreamStream::write(std::string_view data) {
  if (!tls_) return send(std::string(data));
  if (tls_->writePlain(data) != net::TlsSession::Result::Ok) {
    return failed(CallErrorKind::Protocol, "TLS error writing to " + origin_.hostPort() + ": " + tls_->error());
  }
  return flush();
}

bool UpstreamStream::read(const char* data, size_t len, std::string_view* plain) {
  if (!tls_) {
    *plain = std::string_view(data, len);
    return true;
  }
  const bool handshaking = !tls_->handshakeDone();
  const auto r = tls_->feedEncrypted(data, len, plain);
  // Even a failed read may have produced bytes to send (the alert telling the server why).
  if (!flush()) return false;
  if (r != net::TlsSession::Result::Ok) {
    if (handshaking) {
      return failed(CallErrorKind::Connect, "TLS handshake with " + origin_.hostPort() + " failed: " + tls_->error());
    }
    return failed(CallErrorKind::Protocol, "TLS error from " + origin_.hostPort() + ": " + tls_->error());
  }
  return true;
}

bool UpstreamStream::flush() {
  if (!tls_ || !tls_->hasEncrypted()) return true;
  std::string out;
  tls_->takeEncrypted(&out);
  return send(std::move(out));
}

bool UpstreamStream::handshaking() const {
  return tls_ && !tls_->handshakeDone();
}

bool UpstreamStream::peerClosed() const {
  return tls_ && tls_->peerClosed();
}

bool UpstreamStream::send(std::string&& bytes) {
  if (bytes.empty()) return true;
  if (out_->write(std::move(bytes)) != net::WriteQueue::Result::kFailed) return true;
  return failed(CallErrorKind::Reset, "write to " + origin_.hostPort() + " failed: " + uv_strerror(out_->error()));
}

bool UpstreamStream::failed(CallErrorKind kind, std::string error) {
  error_kind_ = kind;
  error_ = std::move(error);
  return false;
}

}  // namespace aigw::upstream
