// ServerConnection's life: adoption, what each of its timer's phases means when it runs out,
// draining, what its stream reports, and the close that frees it.
#include "http/server_connection.h"

namespace aigw::http {

ServerConnection::ServerConnection(ServerContext& ctx, uv_tcp_t* tcp)
    : ctx_(ctx),
      deadline_(ctx.loop->uv(), ctx.limits.idle_timeout_ms, [this] { onTimeout(); }),
      stream_(tcp, ctx.limits, *ctx.counters, deadline_, *this),
      parser_(ctx.limits.parser) {
  parser_.setHeadCallback(&ServerConnection::onHead, this);
  next_ = ctx_.head;
  if (next_ != nullptr) next_->prev_ = this;
  ctx_.head = this;
  ++ctx_.live;
}

ServerConnection::~ServerConnection() {
  ctx_.counters->connections_active.fetch_sub(1, std::memory_order_relaxed);
  --ctx_.live;
}

void ServerConnection::adopt(ServerContext& ctx, uv_tcp_t* client, std::shared_ptr<const net::TlsServerContext> tls) {
  auto* conn = new ServerConnection(ctx, client);
  ctx.counters->connections_accepted.fetch_add(1, std::memory_order_relaxed);
  if (!conn->stream_.start(std::move(tls))) {
    conn->close(false);
    return;
  }
  conn->deadline_.arm(ConnectionDeadline::kHeader, ctx.limits.header_timeout_ms);
}

void ServerConnection::onTimeout() {
  const bool running = handler_ != nullptr && !framing_.ended();
  const net::WriteQueue& out = stream_.out();
  switch (deadline_.phase()) {
    case ConnectionDeadline::kHeader:
      if (stream_.handshakeTimedOut()) {
        close(false);
      } else if (parser_.midMessage()) {
        ctx_.counters->timeouts.fetch_add(1, std::memory_order_relaxed);
        sendErrorAndClose(408, "timed out reading the request headers");
      } else {
        close(false);
      }
      break;
    case ConnectionDeadline::kBody:
      ctx_.counters->timeouts.fetch_add(1, std::memory_order_relaxed);
      sendErrorAndClose(408, "timed out reading the request body");
      break;
    case ConnectionDeadline::kFail:
      close(running);
      break;
    case ConnectionDeadline::kIdle:
      if (!deadline_.extend(handler_ != nullptr, out.pending(), out.delivered())) close(false);
      break;
    case ConnectionDeadline::kWrite:
      if (!deadline_.extend(handler_ != nullptr, out.pending(), out.delivered())) {
        // The client has taken none of our bytes for idle_timeout_ms.
        ctx_.counters->timeouts.fetch_add(1, std::memory_order_relaxed);
        close(running);
      }
      break;
    default:
      close(false);
      break;
  }
}

void ServerConnection::drain() {
  if (stream_.closing()) return;
  const bool idle = !handler_ && !parser_.midMessage() && buffered_off_ >= buffered_.size() && !stream_.finishing();
  if (idle) {
    // An answer may still be flushing to a slow reader: let it finish before closing.
    if (stream_.out().queued() == 0) {
      close(false);
    } else {
      stream_.closeAfterFlush();
    }
  } else {
    framing_.dropKeepAlive();
  }
}

void ServerConnection::abort() {
  close(handler_ != nullptr && !framing_.ended());
}

void ServerConnection::onStreamEvent(ClientStream::Event event) {
  const bool running = handler_ != nullptr && !framing_.ended();
  switch (event) {
    case ClientStream::Event::kPeerEof:
      // EOF may be a half-close (shutdown(SHUT_WR)): the client has sent everything and still
      // reads. Closing at once would cancel queued writes and cut a finished response short
      // behind a clean FIN, so requests already received are answered and the queue is
      // flushed before closing.
      if (stream_.closing()) return;
      if (running) {
        close(/*client_gone=*/true);  // EOF while a request runs: the client is treated as gone
      } else if (stream_.finishing()) {
        if (stream_.out().queued() == 0) close(false);  // else the stream closes once flushed
      } else {
        processBuffered();
      }
      return;
    case ClientStream::Event::kBroken:
      close(running);
      return;
    case ClientStream::Event::kFinished:
      close(false);
      return;
    case ClientStream::Event::kPlainHttp:
      sendErrorAndClose(400, "this port speaks HTTPS: send the request to https:// instead of http://");
      return;
    case ClientStream::Event::kFlushed:
      deadline_.flushed(handler_ != nullptr);
      return;
    case ClientStream::Event::kWritable:
      if (handler_) {
        handler_->onWritable();
      } else {
        processBuffered();
      }
      return;
    case ClientStream::Event::kClosed:
      delete this;
      return;
  }
}

void ServerConnection::close(bool client_gone, bool reset) {
  if (stream_.closing()) return;
  stream_.close(reset);  // the socket's close completes on the loop (kClosed), after this
  if (handler_) {
    RequestHandlerPtr h = std::move(handler_);
    if (client_gone) {
      ctx_.counters->client_aborts.fetch_add(1, std::memory_order_relaxed);
      h->onClientGone();
    }
    ctx_.loop->deferredDelete(std::move(h));
  }
  if (prev_ != nullptr)
    prev_->next_ = next_;
  else
    ctx_.head = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
}

}  // namespace aigw::http
