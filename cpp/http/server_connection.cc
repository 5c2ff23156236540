// ServerConnection's life: adoption, the one timer and its phases, draining, the lingering
// close after the last response, and the close that frees it.
#include "http/server_connection.h"

#include "core/log.h"
#include "net/tls_session.h"

namespace aigw::http {

ServerConnection::ServerConnection(ServerContext& ctx, uv_tcp_t* tcp)
    : ctx_(ctx),
      tcp_(tcp),
      out_(tcp, &ServerConnection::onWritten, this),
      parser_(ctx.limits.parser),
      timer_(ctx.loop->uv(), [this] { onTimeout(); }) {
  tcp_->data = this;
  parser_.setHeadCallback(&ServerConnection::onHead, this);
  next_ = ctx_.head;
  if (next_ != nullptr) next_->prev_ = this;
  ctx_.head = this;
  ++ctx_.live;
}

ServerConnection::~ServerConnection() {
  ctx_.counters->connections_active.fetch_sub(1, std::memory_order_relaxed);
  --ctx_.live;
  delete tcp_;
}

void ServerConnection::adopt(ServerContext& ctx, uv_tcp_t* client, std::shared_ptr<const net::TlsServerContext> tls) {
  auto* conn = new ServerConnection(ctx, client);
  ctx.counters->connections_accepted.fetch_add(1, std::memory_order_relaxed);
  uv_tcp_nodelay(client, 1);
  if (tls != nullptr) {
    conn->tls_ = std::make_unique<net::TlsSession>(std::move(tls));
    if (conn->tls_->start() != net::TlsSession::Result::Ok) {
      AIGW_LOG(Error, "TLS: " + conn->tls_->error());
      conn->close(false);
      return;
    }
  }
  if (uv_read_start(conn->stream(), &ServerConnection::onAlloc, &ServerConnection::onRead) != 0) {
    conn->close(false);
    return;
  }
  conn->reading_ = true;
  conn->setPhase(kHeader, ctx.limits.header_timeout_ms);
}

void ServerConnection::setPhase(int phase, uint64_t ms) {
  if (failed_ || closing_) return;
  timer_phase_ = phase;
  if (phase == kWrite) write_mark_ = out_.delivered();
  if (phase == kNone) {
    timer_.stop();
  } else {
    timer_.start(ms);
  }
}

void ServerConnection::failSoon() {
  failed_ = true;
  timer_phase_ = kFail;
  timer_.start(0);
}

void ServerConnection::onTimeout() {
  switch (timer_phase_) {
    case kHeader:
      if (tls_ != nullptr && !tls_->handshakeDone()) {
        ctx_.counters->tls_handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
        close(false);
      } else if (parser_.midMessage()) {
        ctx_.counters->timeouts.fetch_add(1, std::memory_order_relaxed);
        sendErrorAndClose(408, "timed out reading the request headers");
      } else {
        close(false);
      }
      break;
    case kBody:
      ctx_.counters->timeouts.fetch_add(1, std::memory_order_relaxed);
      sendErrorAndClose(408, "timed out reading the request body");
      break;
    case kFail:
      close(handler_ != nullptr && !response_ended_);
      break;
    case kIdle:
      if (out_.pending() > 0) {
        // The kernel still holds bytes a slow reader has not taken: closing now would leave
        // them to an orphaned socket. Wait on its progress instead.
        setPhase(kWrite, ctx_.limits.idle_timeout_ms);
        break;
      }
      close(false);
      break;
    case kWrite:
      if (out_.pending() == 0) {
        if (handler_ != nullptr) {
          setPhase(kNone, 0);
        } else {
          setPhase(kIdle, ctx_.limits.idle_timeout_ms);
        }
        break;
      }
      if (out_.delivered() > write_mark_) {
        setPhase(kWrite, ctx_.limits.idle_timeout_ms);  // slow but moving
        break;
      }
      // The client has taken none of our bytes for idle_timeout_ms.
      ctx_.counters->timeouts.fetch_add(1, std::memory_order_relaxed);
      close(handler_ != nullptr && !response_ended_);
      break;
    default:
      close(false);
      break;
  }
}

bool ServerConnection::idle() const {
  return !handler_ && !parser_.midMessage() && buffered_off_ >= buffered_.size() && !close_after_flush_;
}

void ServerConnection::drain() {
  if (closing_) return;
  if (idle()) {
    // An answer may still be flushing to a slow reader: let it finish before closing.
    if (out_.queued() == 0) {
      close(false);
    } else {
      closeAfterFlush();
    }
  } else {
    keep_alive_ = false;
  }
}

void ServerConnection::abort() { close(handler_ != nullptr && !response_ended_); }

void ServerConnection::closeAfterFlush() {
  if (close_after_flush_ || closing_) return;
  close_after_flush_ = true;
  setPhase(kLinger, ctx_.limits.linger_ms + ctx_.limits.idle_timeout_ms);
  if (out_.queued() == 0) beginLinger();
}

// After the last response: half-close, then read and discard until the client closes or the
// linger time passes, so unread request bytes do not turn our FIN into an RST that could
// destroy the response before the client reads it.
void ServerConnection::beginLinger() {
  if (lingering_ || closing_ || failed_) return;
  if (peer_eof_) {
    close(false);  // everything is flushed and the client has nothing more to send
    return;
  }
  sendCloseNotify();  // before our FIN, queued behind the last response
  lingering_ = true;
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, stream(), &ServerConnection::onShutdown) != 0) {
    delete req;
    close(false);
    return;
  }
  if (!reading_ && uv_read_start(stream(), &ServerConnection::onAlloc, &ServerConnection::onRead) == 0) {
    reading_ = true;
  }
  setPhase(kLinger, ctx_.limits.linger_ms);
}

void ServerConnection::onShutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<ServerConnection*>(req->data);
  delete req;
  if (status == UV_ECANCELED) return;
  if (status < 0 && !self->closing_) self->close(false);
}

void ServerConnection::close(bool client_gone, bool reset) {
  if (closing_) return;
  // Best effort (what does not fit the socket now is dropped with it): a client that sees
  // close_notify knows the close was ours and nothing was cut off.
  if (!reset && !failed_ && !lingering_) sendCloseNotify();
  closing_ = true;
  timer_.stop();
  if (handler_) {
    RequestHandlerPtr h = std::move(handler_);
    if (client_gone) {
      ctx_.counters->client_aborts.fetch_add(1, std::memory_order_relaxed);
      h->onClientGone();
    }
    ctx_.loop->deferredDelete(std::move(h));
  }
  if (prev_ != nullptr) prev_->next_ = next_; else ctx_.head = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  if (reset) {
    uv_tcp_close_reset(tcp_, &ServerConnection::onClose);
  } else {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp_), &ServerConnection::onClose);
  }
}

void ServerConnection::onClose(uv_handle_t* h) { delete static_cast<ServerConnection*>(h->data); }

}  // namespace aigw::http
