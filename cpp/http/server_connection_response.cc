// ServerConnection as the ResponseWriter: the response's framing (Content-Length, chunked,
// close-delimited, bodiless statuses), error answers, and the writes with their watermarks.
#include "http/server_connection.h"

#include <cstdio>

#include "http/response.h"
#include "net/tls_session.h"

namespace aigw::http {

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

void ServerConnection::writeSocket(std::string&& data) {
  if (closing_ || failed_ || data.empty()) return;
  switch (out_.write(std::move(data))) {
    case net::WriteQueue::Result::kSent:
      return;
    case net::WriteQueue::Result::kFailed:
      failSoon();  // never close inside a handler's call
      return;
    case net::WriteQueue::Result::kQueued:
      break;
  }
  if (out_.queued() > ctx_.limits.write_high_watermark) write_blocked_ = true;
  if (timer_phase_ == kNone) setPhase(kWrite, ctx_.limits.idle_timeout_ms);
}

void ServerConnection::onWritten(void* ctx, int status) {
  auto* self = static_cast<ServerConnection*>(ctx);
  if (status == UV_ECANCELED || self->closing_) return;
  if (status < 0) {
    self->close(self->handler_ != nullptr && !self->response_ended_);
    return;
  }
  const size_t queued = self->out_.queued();
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
  if (self->close_after_flush_ && self->out_.queued() == 0) self->beginLinger();
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

}  // namespace aigw::http
