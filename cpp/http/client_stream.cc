#include "http/client_stream.h"

#include <utility>

#include "net/read_buffer.h"

namespace aigw::http {
namespace {

uv_stream_t* asStream(uv_tcp_t* tcp) {
  return reinterpret_cast<uv_stream_t*>(tcp);
}

}  // namespace

ClientStream::ClientStream(uv_tcp_t* tcp, const ServerLimits& limits, ServerCounters& counters,
                           ConnectionDeadline& deadline, Owner& owner)
    : tcp_(tcp),
      limits_(limits),
      deadline_(deadline),
      owner_(owner),
      out_(tcp, &ClientStream::onWritten, this),
      tls_(counters) {
  tcp_->data = this;
}

ClientStream::~ClientStream() {
  delete tcp_;
}

bool ClientStream::start(std::shared_ptr<const net::TlsServerContext> tls) {
  uv_tcp_nodelay(tcp_, 1);
  if (tls != nullptr && !tls_.start(std::move(tls))) return false;
  if (uv_read_start(asStream(tcp_), &net::threadReadBuffer, &ClientStream::onRead) != 0) return false;
  reading_ = true;
  return true;
}

void ClientStream::startReading() {
  if (reading_ || closing_ || peer_eof_) return;
  if (uv_read_start(asStream(tcp_), &net::threadReadBuffer, &ClientStream::onRead) == 0) reading_ = true;
}

void ClientStream::stopReading() {
  if (!reading_) return;
  uv_read_stop(asStream(tcp_));
  reading_ = false;
}

void ClientStream::onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ClientStream*>(s->data);
  if (nread > 0) {
    if (self->tls_.active()) {
      self->handleEncrypted(buf->base, static_cast<size_t>(nread));
    } else {
      self->deliver(buf->base, static_cast<size_t>(nread));
    }
    return;
  }
  if (nread == 0) return;  // EAGAIN
  // Gone in the middle of the handshake. Nothing at all sent is a port probe, not a failure.
  if (!self->closing_ && self->tls_.handshakeAbandoned(self->close_after_flush_)) {
    self->owner_.onStreamEvent(Event::kFinished);
    return;
  }
  if (nread == UV_EOF && !self->lingering_) {
    self->peer_eof_ = true;
    self->reading_ = false;  // libuv stops reading at EOF
    self->owner_.onStreamEvent(Event::kPeerEof);
    return;
  }
  // A read error, or EOF while lingering.
  self->owner_.onStreamEvent(Event::kBroken);
}

void ClientStream::deliver(const char* data, size_t len) {
  if (closing_ || failed_) return;
  if (lingering_ || close_after_flush_) {
    // Discarded: the connection is ending. Lingering keeps our FIN from becoming an RST that
    // could destroy the answer unread, but a client that keeps sending after a 413 does not
    // get to stream the rest of a gigabyte into the void.
    discarded_ += len;
    if (discarded_ > limits_.max_linger_bytes) owner_.onStreamEvent(Event::kFinished);
    return;
  }
  owner_.onStreamData(data, len);
}

// HTTPS: decrypts, sends what the TLS session produced (handshake, alerts), passes the
// plaintext on.
void ClientStream::handleEncrypted(const char* data, size_t len) {
  if (closing_ || failed_ || lingering_ || close_after_flush_) return;  // discard: the connection is ending
  std::string_view plain;
  std::string wire;
  const ServerTls::Read r = tls_.open(data, len, &plain, &wire);
  writeSocket(std::move(wire));  // handshake messages, alerts, session tickets
  switch (r) {
    case ServerTls::Read::kOk:
      break;
    case ServerTls::Read::kBroken:
      owner_.onStreamEvent(Event::kBroken);  // its alert already went out
      return;
    case ServerTls::Read::kHandshakeFailed:
      // The alert that says why is queued: let it reach the client, then close (lingering, so
      // the rest of its handshake does not turn our FIN into a reset that destroys the alert).
      closeAfterFlush();
      return;
    case ServerTls::Read::kPlainHttp:
      owner_.onStreamEvent(Event::kPlainHttp);
      return;
  }
  if (!plain.empty()) deliver(plain.data(), plain.size());
  if (tls_.peerClosed() && !peer_eof_ && !closing_) {
    // close_notify: the client will send nothing more, which is an EOF to the HTTP layer.
    stopReading();
    peer_eof_ = true;
    owner_.onStreamEvent(Event::kPeerEof);
  }
}

void ClientStream::write(std::string&& data) {
  if (closing_ || failed_ || data.empty()) return;
  if (!tls_.active()) {
    writeSocket(std::move(data));
    return;
  }
  std::string wire;
  if (!tls_.seal(data, &wire)) {
    failed_ = true;
    deadline_.fail();
    return;
  }
  writeSocket(std::move(wire));
}

void ClientStream::writeSocket(std::string&& data) {
  if (closing_ || failed_ || data.empty()) return;
  switch (out_.write(std::move(data))) {
    case net::WriteQueue::Result::kSent:
      return;
    case net::WriteQueue::Result::kFailed:
      failed_ = true;
      deadline_.fail();  // never close inside a handler's call
      return;
    case net::WriteQueue::Result::kQueued:
      break;
  }
  if (out_.queued() > limits_.write_high_watermark) backlogged_ = true;
  if (deadline_.phase() == ConnectionDeadline::kNone) deadline_.armWrite(out_.delivered());
}

bool ClientStream::throttleInput() {
  if (out_.queued() <= limits_.write_high_watermark) return false;
  backlogged_ = true;
  if (deadline_.phase() != ConnectionDeadline::kWrite) deadline_.armWrite(out_.delivered());
  return true;
}

void ClientStream::onWritten(void* ctx, int status) {
  auto* self = static_cast<ClientStream*>(ctx);
  if (status == UV_ECANCELED || self->closing_) return;
  if (status < 0) {
    self->owner_.onStreamEvent(Event::kBroken);
    return;
  }
  const size_t queued = self->out_.queued();
  if (queued == 0 && self->deadline_.phase() == ConnectionDeadline::kWrite) {
    self->owner_.onStreamEvent(Event::kFlushed);
  }
  if (self->backlogged_ && queued <= self->limits_.write_low_watermark) {
    self->backlogged_ = false;
    self->owner_.onStreamEvent(Event::kWritable);
  }
  // Re-read the queue: the owner may have started the next answer and queued more.
  if (self->close_after_flush_ && self->out_.queued() == 0) self->beginLinger();
}

void ClientStream::closeAfterFlush() {
  if (close_after_flush_ || closing_) return;
  close_after_flush_ = true;
  deadline_.arm(ConnectionDeadline::kLinger, limits_.linger_ms + limits_.idle_timeout_ms);
  if (out_.queued() == 0) beginLinger();
}

// After the last response: half-close, then read and discard until the client closes or the
// linger time passes, so unread request bytes do not turn our FIN into an RST that could
// destroy the response before the client reads it.
void ClientStream::beginLinger() {
  if (lingering_ || closing_ || failed_) return;
  if (peer_eof_) {
    owner_.onStreamEvent(Event::kFinished);  // everything is flushed and the client has nothing more to send
    return;
  }
  writeSocket(tls_.closeNotify());  // before our FIN, queued behind the last response
  lingering_ = true;
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, asStream(tcp_), &ClientStream::onShutdown) != 0) {
    delete req;
    owner_.onStreamEvent(Event::kFinished);
    return;
  }
  if (!reading_ && uv_read_start(asStream(tcp_), &net::threadReadBuffer, &ClientStream::onRead) == 0) reading_ = true;
  deadline_.arm(ConnectionDeadline::kLinger, limits_.linger_ms);
}

void ClientStream::onShutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<ClientStream*>(req->data);
  delete req;
  if (status == UV_ECANCELED) return;
  if (status < 0 && !self->closing_) self->owner_.onStreamEvent(Event::kFinished);
}

void ClientStream::close(bool reset) {
  if (closing_) return;
  // Best effort (what does not fit the socket now is dropped with it): a client that sees
  // close_notify knows the close was ours and nothing was cut off.
  if (!reset && !failed_ && !lingering_) writeSocket(tls_.closeNotify());
  closing_ = true;
  deadline_.stop();
  if (reset) {
    uv_tcp_close_reset(tcp_, &ClientStream::onClose);
  } else {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp_), &ClientStream::onClose);
  }
}

void ClientStream::onClose(uv_handle_t* h) {
  // The owner frees itself, and this stream with it: touch nothing after.
  static_cast<ClientStream*>(h->data)->owner_.onStreamEvent(Event::kClosed);
}

}  // namespace aigw::http
