// Incremental parser of an upstream's HTTP/1.1 response (llhttp, strict), with a header limit.
// Informational (1xx) responses are skipped. Anything malformed is a protocol error, after
// which the connection must be discarded.
// onComplete is the last thing feed() or finish() does, after llhttp has returned: the
// listener may reset() the parser from inside it (a pooled connection handed straight to the
// next request).
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "http/header_accumulator.h"
#include "http/headers.h"

namespace aigw::http {

class ResponseParser {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onHead(int status, HeaderList& headers, int64_t content_length) = 0;
    virtual void onBody(std::string_view data) = 0;
    virtual void onComplete(bool keep_alive) = 0;
  };

  explicit ResponseParser(size_t max_header_bytes = 64 * 1024);
  ResponseParser(const ResponseParser&) = delete;  // llhttp's callbacks point at this object
  ResponseParser& operator=(const ResponseParser&) = delete;
  // Expects a new response (for the next request on the connection). A response to HEAD has
  // no body whatever its headers say, and only the caller knows the request was a HEAD.
  void reset(Listener* listener, bool head_request = false);
  // Returns false on malformed input; error() says why.
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
  void deliverComplete();

  llhttp_t parser_;
  Listener* listener_ = nullptr;
  HeaderAccumulator fields_;  // counts the head's names and values against max_header_bytes
  HeaderList headers_;
  bool head_request_ = false;
  bool informational_ = false;
  bool started_ = false;
  bool complete_ = false;
  bool keep_alive_ = false;
  std::string error_;
};

}  // namespace aigw::http
