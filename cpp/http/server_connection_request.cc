// ServerConnection's request side: reads, parsing (one request at a time, pipelined bytes held
// back), streamed request bodies, and what follows the end of an exchange.
#include "http/server_connection.h"

#include "net/tls_session.h"

namespace aigw::http {
namespace {

thread_local char t_read_buffer[64 * 1024];

}  // namespace

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
    if (out_.queued() == 0) close(false);
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
    uv_read_stop(stream());
    reading_ = false;
  }
  if (!handler_) processBuffered();
}

size_t ServerConnection::consume(const char* data, size_t len) {
  in_consume_ = true;
  size_t off = 0;
  while (off < len && (!handler_ || streaming_body_) && !closing_ && !failed_ && !close_after_flush_) {
    if (out_.queued() > ctx_.limits.write_high_watermark) {
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
  if (uv_read_start(stream(), &ServerConnection::onAlloc, &ServerConnection::onRead) == 0) reading_ = true;
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
    uv_read_stop(stream());
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
  } else if (out_.queued() > 0) {
    setPhase(kWrite, ctx_.limits.idle_timeout_ms);  // idle once flushed (onWrite)
  } else {
    setPhase(kIdle, ctx_.draining ? 0 : ctx_.limits.idle_timeout_ms);
  }
}

}  // namespace aigw::http
