// Incremental parser of an upstream's HTTP/1.1 response (llhttp, strict), with a header limit.
// Informational (1xx) responses are skipped. Anything malformed is a protocol error, after
// which the connection must be discarded.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.h"

namespace aigw::upstream {

class ResponseParser {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onHead(int status, http::HeaderList& headers, int64_t content_length) = 0;
    virtual void onBody(std::string_view data) = 0;
    virtual void onComplete(bool keep_alive) = 0;
  };

  explicit ResponseParser(size_t max_header_bytes = 64 * 1024);
  // Expects a new response (for the next request on the connection).
  void reset(Listener* listener);
  // Returns false on malformed input; error() says why. Listener::onComplete runs last, after
  // llhttp has returned, so it may reset() this parser for the next request on the connection.
  bool feed(const char* data, size_t len);
  // The peer closed: completes a close-delimited body, or fails a truncated one.
  bool finish();
  bool started() const { return started_; }
  bool complete() const { return complete_; }
  const std::string& error() const { return error_; }

 private:
  static int onMessageBegin(llhttp_t* p);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);
  static const llhttp_settings_t* settings();
  void notifyComplete(bool keep_alive);

  llhttp_t parser_;
  Listener* listener_ = nullptr;
  size_t max_header_bytes_;
  size_t header_bytes_ = 0;
  http::HeaderList headers_;
  std::string field_;
  std::string value_;
  bool informational_ = false;
  bool started_ = false;
  bool complete_ = false;
  bool keep_alive_ = false;
  std::string error_;
};

}  // namespace aigw::upstream
