// Incremental HTTP/1.x request parser: llhttp in strict mode plus the gateway's limits.
// It stops (pauses) after each complete request so a connection answers pipelined requests
// one at a time, in order, holding at most one parsed request in memory.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "http/header_accumulator.h"
#include "http/request.h"

namespace aigw::http {

struct ParserLimits {
  size_t max_header_bytes = 32 * 1024;      // whole header block -> 431
  size_t max_url_bytes = 8 * 1024;          // request-target -> 414
  size_t max_body_bytes = 16 * 1024 * 1024; // de-chunked body -> 413
  size_t max_streamed_body_bytes = size_t{512} << 20;  // bodies streamed through (uploads) -> 413
  size_t max_headers = 128;                 // field count -> 431
  size_t max_chunk_extension_bytes = 1024;  // per request -> 400
};

class RequestParser {
 public:
  enum class Event {
    NeedMore,         // every byte consumed; feed more
    HeadersComplete,  // paused after the headers of a request that sent Expect: 100-continue
    MessageComplete,  // paused after a whole request; take it with request()
    Error,            // framing or limit error; answer error_status() and close
  };
  struct Result {
    Event event;
    size_t consumed;  // bytes of the input used; feed the rest again after handling the event
  };

  // Called from inside the parser when a request's headers are complete, before the body: may
  // change the body limit or install a body callback for this message. Returning true pauses
  // the parser there (feed() returns HeadersComplete).
  using HeadCallback = bool (*)(void* ctx, RequestParser& parser);
  // Receives body bytes instead of request().body (streamed bodies).
  using BodyCallback = void (*)(void* ctx, const char* data, size_t len);

  explicit RequestParser(const ParserLimits& limits);
  void setHeadCallback(HeadCallback cb, void* ctx) {
    head_cb_ = cb;
    head_ctx_ = ctx;
  }
  // For the current message only (reset by nextMessage()).
  void setBodyLimit(size_t limit) { body_limit_ = limit; }
  void setBodyCallback(BodyCallback cb) { body_cb_ = cb; }
  // The declared body length of the current message, or -1 (chunked or none).
  int64_t contentLength() const { return content_length_; }
  bool chunked() const { return chunked_; }
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  Result feed(const char* data, size_t len);
  // The request being parsed (complete after MessageComplete).
  Request& request() { return request_; }
  // After MessageComplete: prepares for the next request on the same connection.
  void nextMessage();
  // True once any byte of the current request arrived (distinguishes idle from slow client).
  bool midMessage() const { return started_; }
  // True when the current message's headers are complete (the body is being read).
  bool inBody() const { return headers_done_; }

  int errorStatus() const { return error_status_; }
  const std::string& errorReason() const { return error_reason_; }

 private:
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);
  static int onChunkExtension(llhttp_t* p, const char* at, size_t len);
  static int onChunkHeader(llhttp_t* p);
  static const llhttp_settings_t* settings();

  int fail(int status, const char* reason);
  // The line scanner: checks the line structure of a header (or trailer) section before llhttp
  // sees it, because llhttp 8 accepts obs-fold and a bare LF there (see request_parser.cc), and
  // the request target's bytes and length.
  void startLineScan(bool after_start_line);
  // Returns the offset of the first byte that breaks the rules (setting *status and *reason),
  // or len.
  size_t scanLines(const char* data, size_t len, int* status, const char** reason);

  ParserLimits limits_;
  llhttp_t parser_;
  Request request_;
  HeaderAccumulator fields_;  // unbounded: the line scanner counts the block (max_header_bytes)
  bool started_ = false;
  bool headers_done_ = false;
  size_t header_bytes_ = 0;  // header and trailer block of the current request (the scanner's)
  size_t chunk_ext_bytes_ = 0;
  bool paused_for_continue_ = false;
  HeadCallback head_cb_ = nullptr;
  void* head_ctx_ = nullptr;
  BodyCallback body_cb_ = nullptr;
  size_t body_limit_;
  size_t body_bytes_ = 0;
  int64_t content_length_ = -1;
  bool chunked_ = false;
  bool paused_for_trailers_ = false;
  bool upgraded_ = false;
  // Line scanner state.
  bool scan_active_ = true;
  bool scan_prev_cr_ = false;
  bool scan_in_name_ = false;  // inside a header line's field name (before its colon)
  size_t scan_line_len_ = 0;
  size_t scan_lines_ = 0;
  size_t scan_spaces_ = 0;      // in the request line: the target is after the first
  size_t scan_target_len_ = 0;
  int error_status_ = 0;
  std::string error_reason_;
};

}  // namespace aigw::http
