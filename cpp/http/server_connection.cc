#include "http/server_connection.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "core/log.h"
#include "http/response.h"
#include "net/tls_session.h"

namespace aigw::http {
namespace {

struct WriteRequest {
  uv_write_t req;
  std::string data;
  ServerConnection* conn;
};

// kWrite: bytes are queued for the client. When it fires, the connection closes only if the
// client took none of our bytes during the last idle_timeout_ms (a send timeout); otherwise it
// is re-armed. Progress is counted in bytes the peer acknowledged, not in write callbacks: one
// uv_write may be megabytes, and the kernel's send buffer (megabytes on loopback) drains long
// before libuv's queue moves. The idle phase begins only once the queue is flushed.
enum TimerPhase : int { kNone = 0, kHeader, kBody, kIdle, kLinger, kFail, kWrite };

thread_local char t_read_buffer[64 * 1024];

uv_stream_t* stream(uv_tcp_t* t) { return reinterpret_cast<uv_stream_t*>(t); }

}  // namespace

ServerConnection::ServerConnection(ServerContext& ctx, uv_tcp_t* tcp)
    : ctx_(ctx), tcp_(tcp), parser_(ctx.limits.parser), timer_(ctx.loop->uv(), [this] { onTimeout(); }) {
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
  if (uv_read_start(stream(client), &ServerConnection::onAlloc, &ServerConnection::onRead) != 0) {
    conn->close(false);
    return;
  }
  conn->reading_ = true;
  conn->setPhase(kHeader, ctx.limits.header_timeout_ms);
}

void ServerConnection::setPhase(int phase, uint64_t ms) {
  if (failed_ || closing_) return;
  timer_phase_ = phase;
  if (phase == kWrite) write_mark_ = bytesDelivered();
  if (phase == kNone) {
    timer_.stop();
  } else {
    timer_.start(ms);
  }
}

void ServerConnection::onAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buffer;
  buf->len = sizeof(t_read_buffer);
}

void ServerConnection::onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ServerConnection*>(s->data);
  if (nread > 0) {
    if (self->tls_ != nullptr) {
      self->handleEncrypted(buf->base, static_cast<size_t>(nread));
    } else {
      self->handleData(buf->base, static_cast<size_t>(nread));
    }
    return;
  }
  if (nread == 0) return;  // EAGAIN
  if (self->tls_ != nullptr && !self->tls_->handshakeDone() && !self->closing_) {
    // Gone in the middle of the handshake. Nothing at all sent is a port probe, not a failure.
    if (self->tls_bytes_seen_ && !self->close_after_flush_) {
      self->ctx_.counters->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
    }
    self->close(false);
    return;
  }
  if (nread == UV_EOF && !self->lingering_) {
    self->onPeerEof();
    return;
  }
  // A read error, or EOF while lingering. A client that leaves while its request is in flight
  // aborts it.
  self->close(self->handler_ != nullptr && !self->response_ended_);
}

// EOF may be a half-close (shutdown(SHUT_WR)): the client has sent everything and still reads.
// Closing at once would cancel queued writes and cut a finished response short behind a clean
// FIN, so requests already received are answered and the queue is flushed before closing.
void ServerConnection::onPeerEof() {
  peer_eof_ = true;
  reading_ = false;  // libuv stops reading at EOF
  if (closing_) return;
  if (handler_ != nullptr && !response_ended_) {
    // EOF while a request runs: the client is treated as gone (its request is cancelled).
    close(/*client_gone=*/true);
    return;
  }
  if (close_after_flush_) {
    if (uv_stream_get_write_queue_size(stream(tcp_)) == 0) close(false);
    return;  // onWrite -> beginLinger closes once flushed
  }
  processBuffered();
}

void ServerConnection::closeIfInputDone() {
  if (peer_eof_ && handler_ == nullptr && !closing_ && !failed_ && !write_blocked_ && !close_after_flush_) {
    closeAfterFlush();
  }
}

void ServerConnection::handleData(const char* data, size_t len) {
  if (closing_ || failed_) return;
  if (lingering_ || close_after_flush_) {
    // Discarded: the connection is ending. Lingering keeps our FIN from becoming an RST that
    // could destroy the answer unread, but a client that keeps sending after a 413 does not
    // get to stream the rest of a gigabyte into the void.
    discarded_ += len;
    if (discarded_ > ctx_.limits.max_linger_bytes) close(false);
    return;
  }
  const bool must_buffer =
      (handler_ != nullptr && !streaming_body_) || buffered_off_ < buffered_.size() || write_blocked_;
  if (!must_buffer) {
    size_t used = consume(data, len);
    if (used >= len || closing_ || close_after_flush_) return;
    data += used;
    len -= used;
  }
  buffered_.append(data, len);
  if (buffered_.size() - buffered_off_ > ctx_.limits.max_buffered_input && reading_) {
    // The client pipelines faster than we answer: stop reading until we catch up.
    uv_read_stop(stream(tcp_));
    reading_ = false;
  }
  if (!handler_) processBuffered();
}

size_t ServerConnection::consume(const char* data, size_t len) {
  in_consume_ = true;
  size_t off = 0;
  while (off < len && (!handler_ || streaming_body_) && !closing_ && !failed_ && !close_after_flush_) {
    if (uv_stream_get_write_queue_size(stream(tcp_)) > ctx_.limits.write_high_watermark) {
      write_blocked_ = true;  // the client is not reading our answers: wait before the next one
      if (timer_phase_ != kWrite) setPhase(kWrite, ctx_.limits.idle_timeout_ms);
      break;
    }
    if (!parser_.midMessage() && timer_phase_ != kHeader) setPhase(kHeader, ctx_.limits.header_timeout_ms);
    RequestParser::Result r = parser_.feed(data + off, len - off);
    off += r.consumed;
    switch (r.event) {
      case RequestParser::Event::NeedMore:
        if (parser_.inBody()) setPhase(kBody, ctx_.limits.body_timeout_ms);
        break;
      case RequestParser::Event::HeadersComplete:
        if (parser_.request().expect_continue) writeRaw(std::string("HTTP/1.1 100 Continue\r\n\r\n"));
        setPhase(kBody, ctx_.limits.body_timeout_ms);
        if (stream_decided_) startStreamedRequest();
        break;
      case RequestParser::Event::MessageComplete:
        if (streaming_body_) {
          streaming_body_ = false;
          keep_alive_ = keep_alive_ && parser_.request().keep_alive;
          parser_.nextMessage();
          setPhase(kNone, 0);
          if (handler_) handler_->onRequestEnd();
        } else {
          startRequest();
        }
        break;
      case RequestParser::Event::Error: {
        const int status = parser_.errorStatus();
        auto* counter = (status == 413 || status == 414 || status == 431) ? &ctx_.counters->limit_errors
                                                                          : &ctx_.counters->framing_errors;
        counter->fetch_add(1, std::memory_order_relaxed);
        sendErrorAndClose(status, parser_.errorReason());
        off = len;
        break;
      }
    }
  }
  in_consume_ = false;
  return off;
}

void ServerConnection::processBuffered() {
  if (in_consume_) return;
  while ((!handler_ || streaming_body_) && !closing_ && !failed_ && !close_after_flush_ && !write_blocked_ &&
         buffered_off_ < buffered_.size()) {
    size_t used = consume(buffered_.data() + buffered_off_, buffered_.size() - buffered_off_);
    buffered_off_ += used;
    if (used == 0) break;
  }
  if (buffered_off_ >= buffered_.size()) {
    buffered_.clear();
    buffered_off_ = 0;
  } else if (buffered_off_ > 16 * 1024) {
    buffered_.erase(0, buffered_off_);
    buffered_off_ = 0;
  }
  if (buffered_.size() - buffered_off_ <= ctx_.limits.max_buffered_input) startReading();
  closeIfInputDone();
}

void ServerConnection::startReading() {
  if (reading_ || closing_ || body_paused_ || peer_eof_) return;
  if (uv_read_start(stream(tcp_), &ServerConnection::onAlloc, &ServerConnection::onRead) == 0) reading_ = true;
}

bool ServerConnection::onHead(void* ctx, RequestParser& parser) {
  auto* self = static_cast<ServerConnection*>(ctx);
  if (!self->ctx_.factory->streamRequestBody(parser.request())) return false;
  self->stream_decided_ = true;
  parser.setBodyLimit(self->ctx_.limits.parser.max_streamed_body_bytes);
  parser.setBodyCallback(&ServerConnection::onBodyPiece);
  return true;
}

void ServerConnection::onBodyPiece(void* ctx, const char* data, size_t len) {
  auto* self = static_cast<ServerConnection*>(ctx);
  if (self->handler_ && self->streaming_body_) self->handler_->onRequestBody(std::string_view(data, len));
}

// The head is complete and the body will stream: the handler starts now; body pieces follow.
void ServerConnection::startStreamedRequest() {
  stream_decided_ = false;
  streaming_body_ = true;
  Request request = std::move(parser_.request());
  request.body_streamed = true;
  ctx_.counters->requests.fetch_add(1, std::memory_order_relaxed);
  head_sent_ = chunked_ = close_delimited_ = response_ended_ = false;
  head_request_ = request.method == "HEAD";
  http10_ = request.http_minor == 0;
  keep_alive_ = !request.upgrade && !ctx_.draining;  // combined with the parser's verdict at the end
  handler_ = ctx_.factory->createHandler(std::move(request), *this);
  handler_->start();
}

void ServerConnection::pauseRequestBody() {
  if (body_paused_ || closing_) return;
  body_paused_ = true;
  if (reading_) {
    uv_read_stop(stream(tcp_));
    reading_ = false;
  }
  if (streaming_body_) setPhase(kNone, 0);  // waiting on our consumer is not a slow client
}

void ServerConnection::resumeRequestBody() {
  if (!body_paused_) return;
  body_paused_ = false;
  if (closing_) return;
  if (streaming_body_) setPhase(kBody, ctx_.limits.body_timeout_ms);
  startReading();
}

void ServerConnection::startRequest() {
  Request request = std::move(parser_.request());
  parser_.nextMessage();
  setPhase(kNone, 0);
  ctx_.counters->requests.fetch_add(1, std::memory_order_relaxed);
  head_sent_ = chunked_ = close_delimited_ = response_ended_ = no_body_ = false;
  head_request_ = request.method == "HEAD";
  http10_ = request.http_minor == 0;
  keep_alive_ = request.keep_alive && !request.upgrade && !ctx_.draining;
  handler_ = ctx_.factory->createHandler(std::move(request), *this);
  handler_->start();
}

void ServerConnection::finishExchange() {
  if (handler_) ctx_.loop->deferredDelete(std::move(handler_));
  if (closing_ || failed_) return;
  if (streaming_body_) {
    // Answered before the body finished arriving: the rest is discarded while lingering.
    streaming_body_ = false;
    keep_alive_ = false;
    body_paused_ = false;
  }
  if (ctx_.draining) keep_alive_ = false;
  if (!keep_alive_) {
    closeAfterFlush();
    return;
  }
  if (buffered_off_ < buffered_.size()) {
    processBuffered();
  } else if (peer_eof_) {
    closeAfterFlush();
  } else if (uv_stream_get_write_queue_size(stream(tcp_)) > 0) {
    setPhase(kWrite, ctx_.limits.idle_timeout_ms);  // idle once flushed (onWrite)
  } else {
    setPhase(kIdle, ctx_.draining ? 0 : ctx_.limits.idle_timeout_ms);
  }
}

void ServerConnection::appendHead(std::string& out, int status, const HeaderList& headers, int64_t content_length) {
  appendStatusLine(out, status);
  for (const auto& h : headers) appendHeader(out, h.name, h.value);
  appendHeader(out, "date", httpDate());
  if (content_length >= 0) {
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", static_cast<long long>(content_length));
    appendHeader(out, "content-length", std::string_view(num, static_cast<size_t>(n)));
  } else if (chunked_) {
    appendHeader(out, "transfer-encoding", "chunked");
  }
  if (ctx_.draining) keep_alive_ = false;
  if (!keep_alive_) {
    appendHeader(out, "connection", "close");
  } else if (http10_) {
    appendHeader(out, "connection", "keep-alive");
  }
  out.append("\r\n");
}

void ServerConnection::respond(int status, const HeaderList& headers, std::string_view body) {
  if (response_ended_ || head_sent_) return;
  std::string out;
  out.reserve(192 + headers.size() * 48 + body.size());
  appendHead(out, status, headers, static_cast<int64_t>(body.size()));
  if (!head_request_) out.append(body);
  head_sent_ = true;
  writeRaw(std::move(out));
  endResponse();
}

void ServerConnection::writeHead(int status, const HeaderList& headers, int64_t content_length) {
  if (response_ended_ || head_sent_) return;
  // 1xx, 204 and 304 answers end with their head (RFC 9112 section 6.3): no chunked framing
  // (its last-chunk would be read as the start of the next response), and no Content-Length
  // on 1xx/204 (RFC 9110 section 8.6). A 304 may repeat the length of the selected resource.
  no_body_ = status < 200 || status == 204 || status == 304;
  if (no_body_ && status != 304) content_length = -1;
  if (content_length < 0 && !no_body_) {
    if (http10_) {
      close_delimited_ = true;
      keep_alive_ = false;
    } else {
      chunked_ = true;
    }
  }
  std::string out;
  out.reserve(192 + headers.size() * 48);
  appendHead(out, status, headers, content_length);
  head_sent_ = true;
  writeRaw(std::move(out));
}

void ServerConnection::writeBody(std::string_view data) {
  if (response_ended_ || !head_sent_ || head_request_ || no_body_ || data.empty()) return;
  if (chunked_) {
    std::string out;
    out.reserve(data.size() + 16);
    appendChunk(out, data);
    writeRaw(std::move(out));
  } else {
    writeRaw(std::string(data));
  }
}

void ServerConnection::endResponse() {
  if (response_ended_) return;
  response_ended_ = true;
  if (chunked_ && !head_request_) writeRaw(std::string(kLastChunk));
  if (close_delimited_) keep_alive_ = false;
  finishExchange();
}

void ServerConnection::resetConnection() {
  response_ended_ = true;
  if (handler_) ctx_.loop->deferredDelete(std::move(handler_));
  close(false, /*reset=*/true);
}

bool ServerConnection::writeBlocked() const { return write_blocked_ || failed_ || closing_; }

uint64_t ServerConnection::bytesPending() const {
  uint64_t pending = uv_stream_get_write_queue_size(stream(tcp_));
  uv_os_fd_t fd;
  int unacked = 0;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp_), &fd) == 0 && ioctl(fd, SIOCOUTQ, &unacked) == 0 &&
      unacked > 0) {
    pending += static_cast<uint64_t>(unacked);
  }
  return pending;
}

uint64_t ServerConnection::bytesDelivered() const {
  const uint64_t pending = bytesPending();
  return handed_total_ > pending ? handed_total_ - pending : 0;
}

void ServerConnection::writeRaw(std::string&& data) {
  if (closing_ || failed_ || data.empty()) return;
  if (tls_ != nullptr) {
    if (tls_->writePlain(data) != net::TlsSession::Result::Ok) {
      ctx_.counters->tls_errors.fetch_add(1, std::memory_order_relaxed);
      failSoon();
      return;
    }
    flushTls();
    return;
  }
  writeSocket(std::move(data));
}

void ServerConnection::failSoon() {
  failed_ = true;
  timer_phase_ = kFail;
  timer_.start(0);
}

void ServerConnection::writeSocket(std::string&& data) {
  if (closing_ || failed_ || data.empty()) return;
  uv_stream_t* s = stream(tcp_);
  if (uv_stream_get_write_queue_size(s) == 0) {
    uv_buf_t b = uv_buf_init(data.data(), static_cast<unsigned int>(data.size()));
    int n = uv_try_write(s, &b, 1);
    if (n > 0) handed_total_ += static_cast<uint64_t>(n);
    if (n == static_cast<int>(data.size())) return;
    if (n > 0) {
      data.erase(0, static_cast<size_t>(n));
    } else if (n != UV_EAGAIN) {
      failSoon();  // never close inside a handler's call
      return;
    }
  }
  auto* w = new WriteRequest{{}, std::move(data), this};
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned int>(w->data.size()));
  if (uv_write(&w->req, s, &b, 1, &ServerConnection::onWrite) != 0) {
    delete w;
    failSoon();
    return;
  }
  handed_total_ += b.len;
  if (uv_stream_get_write_queue_size(s) > ctx_.limits.write_high_watermark) write_blocked_ = true;
  if (timer_phase_ == kNone) setPhase(kWrite, ctx_.limits.idle_timeout_ms);
}

void ServerConnection::onWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteRequest*>(req);
  ServerConnection* self = w->conn;
  delete w;
  if (status == UV_ECANCELED || self->closing_) return;
  if (status < 0) {
    self->close(self->handler_ != nullptr && !self->response_ended_);
    return;
  }
  const size_t queued = uv_stream_get_write_queue_size(stream(self->tcp_));
  if (self->timer_phase_ == kWrite && queued == 0) {
    // Everything is flushed: leave the write phase.
    if (self->handler_ != nullptr) {
      self->setPhase(kNone, 0);
    } else {
      self->setPhase(kIdle, self->ctx_.limits.idle_timeout_ms);
    }
  }
  if (self->write_blocked_ && queued <= self->ctx_.limits.write_low_watermark) {
    self->write_blocked_ = false;
    if (self->handler_) {
      self->handler_->onWritable();
    } else {
      self->processBuffered();
    }
  }
  // Re-read the queue: the calls above may have started the next answer and queued more.
  if (self->close_after_flush_ && uv_stream_get_write_queue_size(stream(self->tcp_)) == 0) self->beginLinger();
}

void ServerConnection::sendErrorAndClose(int status, std::string_view message) {
  HeaderList headers;
  headers.add("content-type", "application/json");
  headers.add("x-aigw-request-id", ctx_.factory->newRequestId());
  keep_alive_ = false;
  head_request_ = false;
  chunked_ = false;
  std::string body = openAiErrorBody(message, errorTypeForStatus(status));
  std::string out;
  appendHead(out, status, headers, static_cast<int64_t>(body.size()));
  out.append(body);
  writeRaw(std::move(out));
  closeAfterFlush();
}

void ServerConnection::closeAfterFlush() {
  if (close_after_flush_ || closing_) return;
  close_after_flush_ = true;
  setPhase(kLinger, ctx_.limits.linger_ms + ctx_.limits.idle_timeout_ms);
  if (uv_stream_get_write_queue_size(stream(tcp_)) == 0) beginLinger();
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
  if (uv_shutdown(req, stream(tcp_), &ServerConnection::onShutdown) != 0) {
    delete req;
    close(false);
    return;
  }
  if (!reading_ && uv_read_start(stream(tcp_), &ServerConnection::onAlloc, &ServerConnection::onRead) == 0) {
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
      if (bytesPending() > 0) {
        // The kernel still holds bytes a slow reader has not taken: closing now would leave
        // them to an orphaned socket. Wait on its progress instead.
        setPhase(kWrite, ctx_.limits.idle_timeout_ms);
        break;
      }
      close(false);
      break;
    case kWrite:
      if (bytesPending() == 0) {
        if (handler_ != nullptr) {
          setPhase(kNone, 0);
        } else {
          setPhase(kIdle, ctx_.limits.idle_timeout_ms);
        }
        break;
      }
      if (bytesDelivered() > write_mark_) {
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
    if (uv_stream_get_write_queue_size(stream(tcp_)) == 0) {
      close(false);
    } else {
      closeAfterFlush();
    }
  } else {
    keep_alive_ = false;
  }
}

void ServerConnection::abort() { close(handler_ != nullptr && !response_ended_); }

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
