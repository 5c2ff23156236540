// The HTTP/1.1 framing of the one response a server connection is writing: what the head
// announces (Content-Length, chunked, close-delimited, no body at all), the head's bytes, the
// body pieces and the terminator, and whether the connection may serve another request after it.
// Plain state, no I/O: the connection sends the bytes these methods produce.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.h"

namespace aigw::http {

class ResponseFraming {
 public:
  // A new exchange. A HEAD request gets heads without bodies; HTTP/1.0 cannot read chunks;
  // `keep_alive`: the request allows another one after it (Connection, Upgrade, draining).
  void begin(bool head_request, bool http10, bool keep_alive);

  // Each of these appends to `out`, which should be empty, and is false (appending nothing)
  // once the head was sent or the response ended. `draining` ends keep-alive at the head.
  // The whole response, its length known (its body left out for HEAD).
  bool whole(std::string& out, int status, const HeaderList& headers, std::string_view body, bool draining);
  // A streamed head: content_length < 0 chunks on HTTP/1.1, is close-delimited on HTTP/1.0.
  // 1xx, 204 and 304 answers end with their head (RFC 9112 section 6.3).
  bool head(std::string& out, int status, const HeaderList& headers, int64_t content_length, bool draining);
  // One body piece as it goes on the wire; false when nothing is to be sent (no head yet, a
  // bodiless answer, HEAD, an empty piece, the response ended).
  bool body(std::string_view data, std::string& out) const;
  // Ends the response: the last chunk if it was chunked. False if it had ended already.
  bool end(std::string& out);
  // An error answer after which the connection closes, whatever was decided before.
  void error(std::string& out, int status, const HeaderList& headers, std::string_view body, bool draining);

  bool headSent() const { return head_sent_; }
  bool ended() const { return ended_; }
  bool keepAlive() const { return keep_alive_; }
  void dropKeepAlive() { keep_alive_ = false; }
  void abandon() { ended_ = true; }  // the connection was reset: nothing more is written

 private:
  void appendHead(std::string& out, int status, const HeaderList& headers, int64_t content_length, bool draining);

  bool head_sent_ = false;
  bool chunked_ = false;
  bool close_delimited_ = false;
  bool head_request_ = false;
  bool no_body_ = false;  // the status forbids a body (1xx, 204, 304)
  bool http10_ = false;
  bool keep_alive_ = true;
  bool ended_ = false;
};

}  // namespace aigw::http
