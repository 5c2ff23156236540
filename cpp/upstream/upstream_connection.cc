#include "upstream/upstream_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "net/tls_session.h"

namespace aigw::upstream {
namespace {

struct WriteRequest {
  uv_write_t req;
  std::string data;
  UpstreamConnection* conn;
};

thread_local char t_read_buffer[64 * 1024];
constexpr size_t kWriteLowWatermark = 256 * 1024;  // streamed request bodies resume below this

uv_stream_t* stream(uv_tcp_t* t) { return reinterpret_cast<uv_stream_t*>(t); }

void freeTcp(uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); }

std::string addressText(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, buf, sizeof(buf));
  } else if (a.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

}  // namespace

UpstreamConnection::UpstreamConnection(EventLoop& loop, DnsCache& dns, const Settings& settings, Owner* owner)
    : loop_(loop), dns_(dns), settings_(settings), owner_(owner), timer_(loop.uv(), [this] { onTimer(); }) {
  tcp_ = new uv_tcp_t;
  uv_tcp_init(loop_.uv(), tcp_);
  tcp_->data = this;
}

UpstreamConnection::~UpstreamConnection() = default;

std::string UpstreamConnection::describe() const {
  return settings_.origin->host + ":" + std::to_string(settings_.origin->port);
}

void UpstreamConnection::connect() {
  state_ = State::Resolving;
  timer_.start(settings_.connect_timeout_ms);
  auto lookup = dns_.resolve(settings_.origin->host, settings_.origin->port, [this](int status, const AddressList& a) {
    lookup_.reset();
    if (closing_) return;
    if (status < 0) {
      connectFailed(CallErrorKind::Connect,
                    "cannot resolve " + settings_.origin->host + ": " + std::string(uv_strerror(status)));
      return;
    }
    addresses_ = a;
    next_address_ = 0;
    connectNext();
  });
  if (lookup && !closing_) lookup_ = std::move(lookup);
}

void UpstreamConnection::connectNext() {
  while (next_address_ < addresses_.size()) {
    const sockaddr_storage& addr = addresses_[next_address_];
    if (next_address_ > 0) {
      // A failed connect leaves the socket unusable: start the next address on a new handle.
      uv_close(reinterpret_cast<uv_handle_t*>(tcp_), &freeTcp);
      tcp_ = new uv_tcp_t;
      uv_tcp_init(loop_.uv(), tcp_);
      tcp_->data = this;
    }
    auto* req = new uv_connect_t;
    req->data = this;
    int rc = uv_tcp_connect(req, tcp_, reinterpret_cast<const sockaddr*>(&addr), &UpstreamConnection::onConnect);
    if (rc == 0) {
      state_ = State::Connecting;
      return;
    }
    delete req;
    last_connect_error_ = "connect to " + describe() + " (" + addressText(addr) + ") failed: " + uv_strerror(rc);
    ++next_address_;
  }
  connectFailed(CallErrorKind::Connect, last_connect_error_.empty() ? "no address to connect to" : last_connect_error_);
}

void UpstreamConnection::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<UpstreamConnection*>(req->data);
  delete req;
  if (status == UV_ECANCELED || self->closing_) return;
  if (status < 0) {
    self->last_connect_error_ = "connect to " + self->describe() + " (" +
                                addressText(self->addresses_[self->next_address_]) + ") failed: " + uv_strerror(status);
    ++self->next_address_;
    self->connectNext();
    return;
  }
  self->onTcpConnected();
}

void UpstreamConnection::onTcpConnected() {
  uv_tcp_nodelay(tcp_, 1);
  if (uv_read_start(stream(tcp_), &UpstreamConnection::onAlloc, &UpstreamConnection::onRead) != 0) {
    connectFailed(CallErrorKind::Connect, "cannot read from " + describe());
    return;
  }
  reading_ = true;
  if (settings_.tls) {
    state_ = State::Handshaking;
    tls_ = std::make_unique<net::TlsSession>(settings_.tls, settings_.origin->host, settings_.origin->port);
    if (tls_->start() != net::TlsSession::Result::Ok) {
      connectFailed(CallErrorKind::Connect, "TLS handshake with " + describe() + " failed: " + tls_->error());
      return;
    }
    flushTls();
    return;
  }
  state_ = State::Ready;
  timer_.stop();
  if (owner_ != nullptr) owner_->onConnected(this);
}

void UpstreamConnection::handshakeProgress() {
  if (state_ != State::Handshaking || !tls_->handshakeDone()) return;
  state_ = State::Ready;
  timer_.stop();
  if (owner_ != nullptr) owner_->onConnected(this);
}

void UpstreamConnection::onTimer() {
  switch (state_) {
    case State::Resolving:
    case State::Connecting:
    case State::Handshaking:
      connectFailed(CallErrorKind::Timeout, "connect to " + describe() + " timed out after " +
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
  exchange_ = exchange;
  state_ = State::Active;
  reusable_ = false;
  timer_.stop();
  // Only the request knows whether the response may carry a body.
  parser_.reset(this, std::string_view(request).substr(0, 5) == "HEAD ");
  resumeReading();
  if (tls_) {
    if (tls_->writePlain(request) != net::TlsSession::Result::Ok) {
      fail(CallErrorKind::Protocol, "TLS error writing to " + describe() + ": " + tls_->error());
      return;
    }
    flushTls();
  } else {
    writeRaw(std::move(request));
  }
}

void UpstreamConnection::sendMore(std::string_view data) {
  if (closing_ || data.empty()) return;
  if (tls_) {
    if (tls_->writePlain(data) != net::TlsSession::Result::Ok) {
      fail(CallErrorKind::Protocol, "TLS error writing to " + describe() + ": " + tls_->error());
      return;
    }
    flushTls();
  } else {
    writeRaw(std::string(data));
  }
}

size_t UpstreamConnection::writeQueueSize() const {
  return closing_ ? 0 : uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(tcp_));
}

void UpstreamConnection::park() {
  exchange_ = nullptr;
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
    if (uv_read_start(stream(tcp_), &UpstreamConnection::onAlloc, &UpstreamConnection::onRead) == 0) reading_ = true;
  }
}

void UpstreamConnection::onAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buffer;
  buf->len = sizeof(t_read_buffer);
}

void UpstreamConnection::onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<UpstreamConnection*>(s->data);
  if (self->closing_ || nread == 0) return;
  if (nread < 0) {
    switch (self->state_) {
      case State::Resolving:
      case State::Connecting:
      case State::Handshaking:
        self->connectFailed(CallErrorKind::Connect,
                            "connection to " + self->describe() + " closed during the TLS handshake");
        return;
      case State::Active:
        if (nread == UV_EOF && self->parser_.started() && self->parser_.finish()) {
          self->close();  // a close-delimited body just ended; onComplete already ran
          return;
        }
        self->fail(CallErrorKind::Reset, std::string("upstream ") + self->describe() + " closed the connection " +
                                             (self->parser_.started() ? "in the middle of the response"
                                                                      : "before responding") +
                                             (nread == UV_EOF ? "" : std::string(" (") + uv_strerror(static_cast<int>(nread)) + ")"));
        return;
      default:
        self->close();
        return;
    }
  }
  if (self->tls_) {
    std::string plain;
    auto r = self->tls_->feedEncrypted(buf->base, static_cast<size_t>(nread), &plain);
    self->flushTls();
    if (r != net::TlsSession::Result::Ok) {
      if (self->state_ == State::Handshaking) {
        self->connectFailed(CallErrorKind::Connect,
                            "TLS handshake with " + self->describe() + " failed: " + self->tls_->error());
      } else {
        self->fail(CallErrorKind::Protocol, "TLS error from " + self->describe() + ": " + self->tls_->error());
      }
      return;
    }
    self->handshakeProgress();
    if (!plain.empty() && !self->closing_) self->handlePlain(plain.data(), plain.size());
    if (!self->closing_ && self->tls_->peerClosed() && self->state_ != State::Active) self->close();
    return;
  }
  self->handlePlain(buf->base, static_cast<size_t>(nread));
}

void UpstreamConnection::handlePlain(const char* data, size_t len) {
  if (state_ != State::Active) {
    close();  // bytes nobody asked for: this connection can no longer be trusted
    return;
  }
  if (!parser_.feed(data, len)) {
    fail(CallErrorKind::Protocol, "bad response from " + describe() + ": " + parser_.error());
  }
}

void UpstreamConnection::onHead(int status, http::HeaderList& headers, int64_t content_length) {
  if (exchange_ != nullptr) exchange_->onResponseHead(status, headers, content_length);
}

void UpstreamConnection::onBody(std::string_view data) {
  if (exchange_ != nullptr) exchange_->onResponseBody(data);
}

void UpstreamConnection::onComplete(bool keep_alive) {
  reusable_ = keep_alive;
  ++served_;
  state_ = State::Ready;
  Exchange* ex = exchange_;
  exchange_ = nullptr;
  if (ex != nullptr) ex->onResponseComplete();
}

void UpstreamConnection::fail(CallErrorKind kind, std::string error) {
  if (closing_) return;
  Exchange* ex = exchange_;
  exchange_ = nullptr;
  const bool started = parser_.started();
  close();
  if (ex != nullptr) ex->onResponseError(kind, error, started);
}

void UpstreamConnection::flushTls() {
  if (!tls_ || !tls_->hasEncrypted() || closing_) return;
  std::string out;
  tls_->takeEncrypted(&out);
  writeRaw(std::move(out));
}

void UpstreamConnection::writeRaw(std::string&& data) {
  if (closing_ || data.empty()) return;
  uv_stream_t* s = stream(tcp_);
  if (uv_stream_get_write_queue_size(s) == 0) {
    uv_buf_t b = uv_buf_init(data.data(), static_cast<unsigned int>(data.size()));
    int n = uv_try_write(s, &b, 1);
    if (n == static_cast<int>(data.size())) return;
    if (n > 0) {
      data.erase(0, static_cast<size_t>(n));
    } else if (n != UV_EAGAIN) {
      fail(CallErrorKind::Reset, "write to " + describe() + " failed: " + uv_strerror(n));
      return;
    }
  }
  auto* w = new WriteRequest{{}, std::move(data), this};
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned int>(w->data.size()));
  int rc = uv_write(&w->req, s, &b, 1, &UpstreamConnection::onWrite);
  if (rc != 0) {
    delete w;
    fail(CallErrorKind::Reset, "write to " + describe() + " failed: " + uv_strerror(rc));
  }
}

void UpstreamConnection::onWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteRequest*>(req);
  UpstreamConnection* self = w->conn;
  delete w;
  if (status == UV_ECANCELED || self->closing_) return;
  if (status < 0) {
    self->fail(CallErrorKind::Reset, "write to " + self->describe() + " failed: " + uv_strerror(status));
    return;
  }
  if (self->exchange_ != nullptr && uv_stream_get_write_queue_size(stream(self->tcp_)) <= kWriteLowWatermark) {
    self->exchange_->onRequestDrained();
  }
}

void UpstreamConnection::close() {
  if (closing_) return;
  closing_ = true;
  exchange_ = nullptr;
  timer_.stop();
  lookup_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(tcp_), &UpstreamConnection::onClose);
}

void UpstreamConnection::onClose(uv_handle_t* h) {
  auto* self = static_cast<UpstreamConnection*>(h->data);
  delete reinterpret_cast<uv_tcp_t*>(h);
  if (self->owner_ != nullptr) self->owner_->onClosed(self);
  delete self;
}

}  // namespace aigw::upstream
