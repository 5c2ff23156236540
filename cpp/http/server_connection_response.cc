// ServerConnection as the ResponseWriter: the response's bytes (framed by ResponseFraming) go
// to its stream; what follows the end of an exchange (the next pipelined request, idle, or
// the close); error answers.
#include "http/response.h"
#include "http/server_connection.h"

namespace aigw::http {

void ServerConnection::respond(int status, const HeaderList& headers, std::string_view body) {
  std::string out;
  if (!framing_.whole(out, status, headers, body, ctx_.draining)) return;
  stream_.write(std::move(out));
  endResponse();
}

void ServerConnection::writeHead(int status, const HeaderList& headers, int64_t content_length) {
  std::string out;
  if (!framing_.head(out, status, headers, content_length, ctx_.draining)) return;
  stream_.write(std::move(out));
}

void ServerConnection::writeBody(std::string_view data) {
  std::string out;
  if (!framing_.body(data, out)) return;
  stream_.write(std::move(out));
}

void ServerConnection::endResponse() {
  std::string last_chunk;
  if (!framing_.end(last_chunk)) return;
  stream_.write(std::move(last_chunk));
  if (handler_) ctx_.loop->deferredDelete(std::move(handler_));
  if (stream_.closing() || stream_.failed()) return;
  if (streaming_body_) {
    // Answered before the body finished arriving: the rest is discarded while lingering.
    streaming_body_ = false;
    framing_.dropKeepAlive();
    body_paused_ = false;
  }
  if (ctx_.draining) framing_.dropKeepAlive();
  if (!framing_.keepAlive()) {
    stream_.closeAfterFlush();
    return;
  }
  if (buffered_off_ < buffered_.size()) {
    processBuffered();
  } else if (stream_.peerEof()) {
    stream_.closeAfterFlush();
  } else if (stream_.out().queued() > 0) {
    deadline_.armWrite(stream_.out().delivered());  // idle once flushed (kFlushed)
  } else {
    deadline_.arm(ConnectionDeadline::kIdle, ctx_.draining ? 0 : ctx_.limits.idle_timeout_ms);
  }
}

void ServerConnection::resetConnection() {
  framing_.abandon();
  if (handler_) ctx_.loop->deferredDelete(std::move(handler_));
  close(false, /*reset=*/true);
}

bool ServerConnection::writeBlocked() const {
  return stream_.backlogged() || stream_.failed() || stream_.closing();
}

void ServerConnection::sendErrorAndClose(int status, std::string_view message) {
  HeaderList headers;
  headers.add("content-type", "application/json");
  headers.add("x-aigw-request-id", ctx_.factory->newRequestId());
  std::string body = openAiErrorBody(message, errorTypeForStatus(status));
  std::string out;
  framing_.error(out, status, headers, body, ctx_.draining);
  stream_.write(std::move(out));
  stream_.closeAfterFlush();
}

}  // namespace aigw::http
