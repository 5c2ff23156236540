// The request in flight on an upstream connection: the response parser's events handed to the
// exchange that sent it, and whether the connection may carry another request afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/call.h"
#include "http/response_parser.h"

namespace aigw::upstream {

// The request currently using an upstream connection (UpstreamConnection::Exchange).
class UpstreamExchange {
 public:
  virtual ~UpstreamExchange() = default;
  virtual void onResponseHead(int status, http::HeaderList& headers, int64_t content_length) = 0;
  virtual void onResponseBody(std::string_view data) = 0;
  virtual void onResponseComplete() = 0;
  // The connection failed; it is closing. `response_started`: some response bytes arrived.
  virtual void onResponseError(CallErrorKind kind, const std::string& error, bool response_started) = 0;
  // The request bytes queued for the socket fell below the low watermark.
  virtual void onRequestDrained() {}
};

class ResponseRelay final : private http::ResponseParser::Listener {
 public:
  ResponseRelay() = default;
  ResponseRelay(const ResponseRelay&) = delete;
  ResponseRelay& operator=(const ResponseRelay&) = delete;

  // A request went out: its response goes to `exchange`. Only the request knows whether the
  // response may carry a body (not to a HEAD).
  void begin(UpstreamExchange* exchange, bool head_request);
  // Response bytes; false when they are malformed (error()).
  bool feed(const char* data, size_t len) { return parser_.feed(data, len); }
  // The peer closed: true when that ended a close-delimited body (the exchange was told).
  bool finishAtClose() { return parser_.started() && parser_.finish(); }
  // No more events to the exchange, which is returned (null when there was none).
  UpstreamExchange* detach();

  UpstreamExchange* exchange() const { return exchange_; }
  // A request is out and its response has not ended (even when its exchange was detached).
  bool active() const { return active_; }
  bool started() const { return parser_.started(); }
  const std::string& error() const { return parser_.error(); }
  // The last response ended and allowed another request on the connection.
  bool reusable() const { return reusable_; }
  uint64_t served() const { return served_; }

 private:
  // http::ResponseParser::Listener
  void onHead(int status, http::HeaderList& headers, int64_t content_length) override;
  void onBody(std::string_view data) override;
  void onComplete(bool keep_alive) override;

  http::ResponseParser parser_;
  UpstreamExchange* exchange_ = nullptr;
  uint64_t served_ = 0;
  bool active_ = false;
  bool reusable_ = false;
};

}  // namespace aigw::upstream
