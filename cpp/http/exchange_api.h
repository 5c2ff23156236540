// The seam between the HTTP server connection and whatever answers requests (the gateway
// pipeline, or a test). Lifetime rules:
//  - The connection creates one RequestHandler per request, through RequestHandlerFactory,
//    and owns it until the response ends or the client goes away.
//  - A handler must not use its ResponseWriter after endResponse()/respond() or after
//    onClientGone(); the connection destroys the handler on the next loop iteration.
//  - Responses are written in request order; the connection reads no further request of a
//    pipeline until the current response ends.
//  - A streamed request body may still be arriving when the response ends: the connection
//    then closes after the response instead of reusing a half-read stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/event_loop.h"
#include "http/headers.h"
#include "http/request.h"

namespace aigw::http {

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Whole response in one write. `headers` must not contain framing headers.
  virtual void respond(int status, const HeaderList& headers, std::string_view body) = 0;
  // Streaming: head now (content_length < 0 means chunked), body pieces, then end.
  virtual void writeHead(int status, const HeaderList& headers, int64_t content_length) = 0;
  virtual void writeBody(std::string_view data) = 0;
  virtual void endResponse() = 0;
  // Resets the client connection (RST) without a response; used to simulate faults.
  virtual void resetConnection() = 0;
  // Bytes queued for the client past the high watermark: stop producing until onWritable().
  virtual bool writeBlocked() const = 0;
  virtual bool headSent() const = 0;
  // Streamed request bodies: stop / restart reading the client while the consumer catches up.
  virtual void pauseRequestBody() = 0;
  virtual void resumeRequestBody() = 0;
};

class RequestHandler : public DeferredDeletable {
 public:
  // Called once, after the handler is stored by the connection: begin work here.
  virtual void start() = 0;
  // The client went away (or the server is shutting down) before the response ended.
  virtual void onClientGone() = 0;
  // The client drained the write queue below the low watermark after writeBlocked().
  virtual void onWritable() {}
  // Streamed request bodies only (see RequestHandlerFactory::streamRequestBody): the body
  // arrives after start(), piece by piece, then onRequestEnd().
  virtual void onRequestBody(std::string_view data) {}
  virtual void onRequestEnd() {}
};
using RequestHandlerPtr = std::unique_ptr<RequestHandler>;

class RequestHandlerFactory {
 public:
  virtual ~RequestHandlerFactory() = default;
  virtual RequestHandlerPtr createHandler(Request&& request, ResponseWriter& writer) = 0;
  // Decided when the headers are complete: true hands the request to a handler right away and
  // streams its body (up to max_streamed_body_bytes) instead of buffering it whole first.
  virtual bool streamRequestBody(const Request& head) { return false; }
  // Id for a response that never reached a handler (framing errors, limits).
  virtual std::string newRequestId() = 0;
};

}  // namespace aigw::http
