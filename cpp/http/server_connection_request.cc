// ServerConnection's request side: parsing (one request at a time, pipelined bytes held back),
// dispatch to a handler, and streamed request bodies.
#include "http/server_connection.h"

namespace aigw::http {

void ServerConnection::onStreamData(const char* data, size_t len) {
  const bool must_buffer =
      (handler_ != nullptr && !streaming_body_) || buffered_off_ < buffered_.size() || stream_.backlogged();
  if (!must_buffer) {
    size_t used = consume(data, len);
    if (used >= len || stream_.closing() || stream_.finishing()) return;
    data += used;
    len -= used;
  }
  buffered_.append(data, len);
  if (buffered_.size() - buffered_off_ > ctx_.limits.max_buffered_input) {
    stream_.stopReading();  // the client pipelines faster than we answer: stop until we catch up
  }
  if (!handler_) processBuffered();
}

size_t ServerConnection::consume(const char* data, size_t len) {
  in_consume_ = true;
  size_t off = 0;
  while (off < len && (!handler_ || streaming_body_) && stream_.accepting()) {
    if (stream_.throttleInput()) break;  // the client is not reading our answers: wait before the next one
    if (!parser_.midMessage() && deadline_.phase() != ConnectionDeadline::kHeader) {
      deadline_.arm(ConnectionDeadline::kHeader, ctx_.limits.header_timeout_ms);
    }
    RequestParser::Result r = parser_.feed(data + off, len - off);
    off += r.consumed;
    switch (r.event) {
      case RequestParser::Event::NeedMore:
        if (parser_.inBody()) deadline_.arm(ConnectionDeadline::kBody, ctx_.limits.body_timeout_ms);
        break;
      case RequestParser::Event::HeadersComplete:
        if (parser_.request().expect_continue) stream_.write(std::string("HTTP/1.1 100 Continue\r\n\r\n"));
        deadline_.arm(ConnectionDeadline::kBody, ctx_.limits.body_timeout_ms);
        if (stream_decided_) startExchange(/*streamed=*/true);
        break;
      case RequestParser::Event::MessageComplete:
        if (streaming_body_) {
          streaming_body_ = false;
          if (!parser_.request().keep_alive) framing_.dropKeepAlive();
          parser_.nextMessage();
          deadline_.arm(ConnectionDeadline::kNone, 0);
          if (handler_) handler_->onRequestEnd();
        } else {
          startExchange(/*streamed=*/false);
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
  while ((!handler_ || streaming_body_) && stream_.accepting() && !stream_.backlogged() &&
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
  if (buffered_.size() - buffered_off_ <= ctx_.limits.max_buffered_input && !body_paused_) stream_.startReading();
  // After the client's EOF: once nothing more can be answered, close when the queue is flushed.
  if (stream_.peerEof() && handler_ == nullptr && stream_.accepting() && !stream_.backlogged()) {
    stream_.closeAfterFlush();
  }
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

void ServerConnection::startExchange(bool streamed) {
  Request request = std::move(parser_.request());
  if (streamed) {
    // The head is complete and the body will stream: the handler starts now; pieces follow.
    stream_decided_ = false;
    streaming_body_ = true;
    request.body_streamed = true;
  } else {
    parser_.nextMessage();
    deadline_.arm(ConnectionDeadline::kNone, 0);
  }
  ctx_.counters->requests.fetch_add(1, std::memory_order_relaxed);
  // A streamed request's own keep-alive is known at its end (combined then).
  const bool keep_alive = (streamed || request.keep_alive) && !request.upgrade && !ctx_.draining;
  framing_.begin(request.method == "HEAD", request.http_minor == 0, keep_alive);
  handler_ = ctx_.factory->createHandler(std::move(request), *this);
  handler_->start();
}

void ServerConnection::pauseRequestBody() {
  if (body_paused_ || stream_.closing()) return;
  body_paused_ = true;
  stream_.stopReading();
  if (streaming_body_) deadline_.arm(ConnectionDeadline::kNone, 0);  // waiting on our consumer is not a slow client
}

void ServerConnection::resumeRequestBody() {
  if (!body_paused_) return;
  body_paused_ = false;
  if (stream_.closing()) return;
  if (streaming_body_) deadline_.arm(ConnectionDeadline::kBody, ctx_.limits.body_timeout_ms);
  stream_.startReading();
}

}  // namespace aigw::http
