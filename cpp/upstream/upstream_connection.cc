#include "upstream/upstream_connection.h"

#include "net/read_buffer.h"

namespace aigw::upstream {
namespace {

constexpr size_t kWriteLowWatermark = 256 * 1024;  // streamed request bodies resume below this

uv_stream_t* stream(uv_tcp_t* t) {
  return reinterpret_cast<uv_stream_t*>(t);
}

}  // namespace

UpstreamConnection::UpstreamConnection(EventLoop& loop, DnsCache& dns, const Settings& settings, Owner* owner)
    : settings_(settings),
      owner_(owner),
      tcp_(new uv_tcp_t),
      timer_(loop.uv(), [this] { onTimer(); }),
      dial_(loop.uv(), dns, *settings_.origin, tcp_, *this),
      stream_(*settings_.origin, &UpstreamConnection::onWritten, this) {
  uv_tcp_init(loop.uv(), tcp_);
  tcp_->data = this;
}

UpstreamConnection::~UpstreamConnection() = default;

void UpstreamConnection::connect() {
  state_ = State::Dialing;
  timer_.start(settings_.connect_timeout_ms);
  dial_.start();
}

void UpstreamConnection::dialed() {
  uv_tcp_nodelay(tcp_, 1);
  if (uv_read_start(stream(tcp_), &net::threadReadBuffer, &UpstreamConnection::onRead) != 0) {
    connectFailed(CallErrorKind::Connect, "cannot read from " + settings_.origin->hostPort());
    return;
  }
  reading_ = true;
  if (!stream_.open(tcp_, settings_.tls) || !stream_.flush()) {
    fail(stream_.errorKind(), stream_.error());
    return;
  }
  if (stream_.handshaking()) {
    state_ = State::Handshaking;
    return;
  }
  connected();
}

void UpstreamConnection::connected() {
  state_ = State::Open;
  timer_.stop();
  if (owner_ != nullptr) owner_->onConnected(this);
}

void UpstreamConnection::onTimer() {
  switch (state_) {
    case State::Dialing:
    case State::Handshaking:
      connectFailed(CallErrorKind::Timeout, "connect to " + settings_.origin->hostPort() + " timed out after " +
                                                std::to_string(settings_.connect_timeout_ms) + " ms");
      break;
    case State::Idle:
      close();
      break;
    default:
      break;
  }
}

void UpstreamConnection::connectFailed(CallErrorKind kind, std::string error) {
  if (closing_) return;
  close();
  if (owner_ != nullptr) owner_->onConnectFailed(this, kind, error);
}

void UpstreamConnection::send(Exchange* exchange, std::string&& request) {
  state_ = State::Open;
  timer_.stop();
  relay_.begin(exchange, std::string_view(request).substr(0, 5) == "HEAD ");
  resumeReading();
  if (!closing_ && !stream_.write(std::move(request))) fail(stream_.errorKind(), stream_.error());
}

void UpstreamConnection::sendMore(std::string_view data) {
  if (closing_ || data.empty()) return;
  if (!stream_.write(data)) fail(stream_.errorKind(), stream_.error());
}

void UpstreamConnection::park() {
  relay_.detach();
  state_ = State::Idle;
  resumeReading();
  timer_.start(settings_.keepalive_idle_ms);
}

void UpstreamConnection::pauseReading() {
  paused_ = true;
  if (reading_ && !closing_) {
    uv_read_stop(stream(tcp_));
    reading_ = false;
  }
}

void UpstreamConnection::resumeReading() {
  paused_ = false;
  if (!reading_ && !closing_) {
    if (uv_read_start(stream(tcp_), &net::threadReadBuffer, &UpstreamConnection::onRead) == 0) reading_ = true;
  }
}

void UpstreamConnection::onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<UpstreamConnection*>(s->data);
  if (self->closing_ || nread == 0) return;
  if (nread < 0) {
    self->onReadEnd(nread);
    return;
  }
  std::string_view plain;
  if (!self->stream_.read(buf->base, static_cast<size_t>(nread), &plain)) {
    self->fail(self->stream_.errorKind(), self->stream_.error());
    return;
  }
  if (self->state_ == State::Handshaking && !self->stream_.handshaking()) self->connected();
  if (!plain.empty() && !self->closing_) {
    if (!self->relay_.active()) {
      self->close();  // bytes nobody asked for: this connection can no longer be trusted
      return;
    }
    if (!self->relay_.feed(plain.data(), plain.size())) {
      self->fail(CallErrorKind::Protocol,
                 "bad response from " + self->settings_.origin->hostPort() + ": " + self->relay_.error());
      return;
    }
  }
  if (!self->closing_ && self->stream_.peerClosed() && !self->relay_.active()) self->close();
}

void UpstreamConnection::onReadEnd(ssize_t status) {
  if (state_ == State::Dialing || state_ == State::Handshaking) {
    connectFailed(CallErrorKind::Connect,
                  "connection to " + settings_.origin->hostPort() + " closed during the TLS handshake");
    return;
  }
  if (!relay_.active()) {
    close();
    return;
  }
  if (status == UV_EOF && relay_.finishAtClose()) {
    close();  // a close-delimited body just ended; the exchange was told
    return;
  }
  fail(CallErrorKind::Reset,
       "upstream " + settings_.origin->hostPort() + " closed the connection " +
           (relay_.started() ? "in the middle of the response" : "before responding") +
           (status == UV_EOF ? "" : std::string(" (") + uv_strerror(static_cast<int>(status)) + ")"));
}

void UpstreamConnection::fail(CallErrorKind kind, std::string error) {
  if (closing_) return;
  if (kind == CallErrorKind::Connect) {
    connectFailed(kind, std::move(error));
    return;
  }
  Exchange* ex = relay_.detach();
  const bool started = relay_.started();
  close();
  if (ex != nullptr) ex->onResponseError(kind, error, started);
}

void UpstreamConnection::onWritten(void* ctx, int status) {
  auto* self = static_cast<UpstreamConnection*>(ctx);
  if (status == UV_ECANCELED || self->closing_) return;
  if (status < 0) {
    self->fail(CallErrorKind::Reset,
               "write to " + self->settings_.origin->hostPort() + " failed: " + uv_strerror(status));
    return;
  }
  Exchange* ex = self->relay_.exchange();
  if (ex != nullptr && self->stream_.queued() <= kWriteLowWatermark) ex->onRequestDrained();
}

void UpstreamConnection::close() {
  if (closing_) return;
  closing_ = true;
  relay_.detach();
  timer_.stop();
  dial_.cancel();
  uv_close(reinterpret_cast<uv_handle_t*>(tcp_), &UpstreamConnection::onClose);
}

void UpstreamConnection::onClose(uv_handle_t* h) {
  auto* self = static_cast<UpstreamConnection*>(h->data);
  delete reinterpret_cast<uv_tcp_t*>(h);
  if (self->owner_ != nullptr) self->owner_->onClosed(self);
  delete self;
}

}  // namespace aigw::upstream
