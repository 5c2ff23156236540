#include "http/request_parser.h"

#include <cstring>

namespace aigw::http {
namespace {
RequestParser* self(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }

bool hasForbiddenByte(const std::string& v) {
  for (char c : v) {
    if (c == '\0' || c == '\r' || c == '\n') return true;
  }
  return false;
}

// request-target bytes are visible ASCII; llhttp 8 lets a TAB through.
bool validTargetByte(unsigned char c) { return c > 0x20 && c < 0x7f; }
}  // namespace

const llhttp_settings_t* RequestParser::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = &RequestParser::onMessageBegin;
    st.on_url = &RequestParser::onUrl;
    st.on_header_field = &RequestParser::onHeaderField;
    st.on_header_value = &RequestParser::onHeaderValue;
    st.on_header_value_complete = &RequestParser::onHeaderValueComplete;
    st.on_headers_complete = &RequestParser::onHeadersComplete;
    st.on_body = &RequestParser::onBody;
    st.on_message_complete = &RequestParser::onMessageComplete;
    st.on_chunk_extension_name = &RequestParser::onChunkExtension;
    st.on_chunk_extension_value = &RequestParser::onChunkExtension;
    st.on_chunk_header = &RequestParser::onChunkHeader;
    return st;
  }();
  return &s;
}

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits), body_limit_(limits.max_body_bytes) {
  llhttp_init(&parser_, HTTP_REQUEST, settings());
  parser_.data = this;
  // No lenient flags: strict framing is a security property here (request smuggling).
}

int RequestParser::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  llhttp_set_error_reason(&parser_, reason);
  return HPE_USER;
}

int RequestParser::onMessageBegin(llhttp_t* p) {
  auto* s = self(p);
  s->started_ = true;
  return 0;
}

int RequestParser::onUrl(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  s->started_ = true;
  // Backstops: the line scanner refuses these bytes before llhttp sees them.
  if (s->request_.target.size() + len > s->limits_.max_url_bytes) return s->fail(414, "request URI too long");
  for (size_t i = 0; i < len; ++i) {
    if (!validTargetByte(static_cast<unsigned char>(at[i]))) return s->fail(400, "invalid character in request target");
  }
  s->request_.target.append(at, len);
  return 0;
}

// The size of the header block (max_header_bytes) is counted by the line scanner, which sees
// every byte of it before llhttp does.
int RequestParser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  self(p)->fields_.addNamePiece(at, len);  // no byte limit of its own: cannot fail
  return 0;
}

int RequestParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  self(p)->fields_.addValuePiece(at, len);
  return 0;
}

int RequestParser::onHeaderValueComplete(llhttp_t* p) {
  auto* s = self(p);
  const std::string& name = s->fields_.name();
  const std::string& value = s->fields_.value();
  if (name.empty()) return s->fail(400, "empty header field name");
  if (hasForbiddenByte(value)) return s->fail(400, "invalid character in header value");
  if (s->headers_done_) {
    // A trailer field. Trailers are never merged into the header section (RFC 9110 6.5.1): a
    // trailing Host or Content-Length must not change what the request means. They still count
    // against max_header_bytes; they are dropped.
    s->fields_.dropField();
    return 0;
  }
  if (s->request_.headers.size() >= s->limits_.max_headers) return s->fail(431, "too many request header fields");
  if (equalsIgnoreCase(name, "transfer-encoding") && !equalsIgnoreCase(value, "chunked")) {
    // The gateway decodes exactly one coding. Any other spelling ("chunked, identity", "gzip,
    // chunked", "chunked " ...) is how request smuggling starts, so it is refused before
    // trimming; llhttp alone accepts several of them.
    return s->fail(400, "unsupported Transfer-Encoding (only 'chunked' is accepted)");
  }
  s->fields_.finishField(s->request_.headers);
  return 0;
}

int RequestParser::onHeadersComplete(llhttp_t* p) {
  auto* s = self(p);
  Request& r = s->request_;
  s->headers_done_ = true;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  r.http_major = p->http_major;
  r.http_minor = p->http_minor;
  if (r.http_major != 1) return s->fail(505, "HTTP version not supported");
  const size_t hosts = r.headers.count("host");
  if (hosts > 1) return s->fail(400, "duplicate Host header");
  if (hosts == 0 && r.http_minor >= 1) return s->fail(400, "missing Host header");
  if (r.target.empty() || (r.target[0] != '/' && r.target != "*")) {
    // Absolute-form targets are for proxies; this gateway is an origin server.
    return s->fail(400, "request target must be an absolute path");
  }
  s->content_length_ = (p->flags & F_CONTENT_LENGTH) ? static_cast<int64_t>(p->content_length) : -1;
  s->chunked_ = (p->flags & F_CHUNKED) != 0;
  if (p->upgrade || p->method == HTTP_CONNECT) r.upgrade = true;
  // The head callback may raise the body limit (streamed uploads) before it is checked.
  const bool pause = s->head_cb_ != nullptr && s->head_cb_(s->head_ctx_, *s);
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s->body_limit_) {
    return s->fail(413, "request body too large");
  }
  bool expect = false;
  if (const std::string* value = r.headers.find("expect")) {
    if (equalsIgnoreCase(*value, "100-continue") && r.http_minor >= 1) {
      r.expect_continue = true;
      expect = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    }
  }
  if (expect || pause) {
    s->paused_for_continue_ = true;
    return HPE_PAUSED;
  }
  return 0;
}

int RequestParser::onBody(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  s->body_bytes_ += len;
  if (s->body_bytes_ > s->body_limit_) return s->fail(413, "request body too large");
  if (s->body_cb_ != nullptr) {
    s->body_cb_(s->head_ctx_, at, len);
    return 0;
  }
  if (s->request_.body.empty() && (p->flags & F_CONTENT_LENGTH)) {
    s->request_.body.reserve(static_cast<size_t>(p->content_length) + len);
  }
  s->request_.body.append(at, len);
  return 0;
}

int RequestParser::onChunkExtension(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  s->chunk_ext_bytes_ += len;
  if (s->chunk_ext_bytes_ > s->limits_.max_chunk_extension_bytes) return s->fail(400, "chunk extensions too long");
  return 0;
}

int RequestParser::onChunkHeader(llhttp_t* p) {
  // The last chunk: a trailer section follows. Pause so feed() can point the line scanner at it.
  if (p->content_length == 0) {
    self(p)->paused_for_trailers_ = true;
    return HPE_PAUSED;
  }
  return 0;
}

int RequestParser::onMessageComplete(llhttp_t* p) {
  auto* s = self(p);
  // After an upgrade request the bytes that follow are not HTTP/1: never keep the connection.
  s->request_.keep_alive = llhttp_should_keep_alive(p) != 0 && !s->request_.upgrade;
  return HPE_PAUSED;
}

void RequestParser::startLineScan(bool after_start_line) {
  scan_active_ = true;
  scan_prev_cr_ = false;
  scan_in_name_ = false;
  scan_line_len_ = 0;
  scan_lines_ = after_start_line ? 1 : 0;
  scan_spaces_ = 0;
  scan_target_len_ = 0;
}

// llhttp 8.1 (with every lenient flag off) still accepts a header line folded onto the next
// one (obs-fold) and a bare LF ending the request line or the last line of a trailer section.
// RFC 9112 lets a server reject both, and a front proxy that reads them differently would see
// different requests than we do, so this scanner refuses them. It runs ahead of llhttp over the
// request line and header section (and later the trailer section) and stops at the empty line
// that ends it; it never looks at body bytes.
// It also checks the request target's bytes and length, and counts the header (and trailer)
// block against max_header_bytes: llhttp refuses a bad byte inside a target or field with its
// own reason before handing the span over, so checks made in the span callbacks gave a
// different error (400, 414 or 431) depending on where a read ended.
size_t RequestParser::scanLines(const char* data, size_t len, int* status, const char** reason) {
  *status = 400;
  for (size_t i = 0; i < len; ++i) {
    const char c = data[i];
    if (c == '\n') {
      if (!scan_prev_cr_) {
        *reason = "bare LF in the request head";
        return i;
      }
      scan_prev_cr_ = false;
      scan_in_name_ = false;
      if (scan_line_len_ == 0 && scan_lines_ > 0) {
        scan_active_ = false;  // the empty line that ends the section
        return len;
      }
      if (scan_lines_ > 0 && (header_bytes_ += 2) > limits_.max_header_bytes) {  // the CRLF
        *status = 431;
        *reason = "request header fields too large";
        return i;
      }
      if (scan_line_len_ > 0) ++scan_lines_;  // empty lines before the request line are skipped
      scan_line_len_ = 0;
      continue;
    }
    if (scan_prev_cr_) {
      *reason = "bare CR in the request head";
      return i;
    }
    if (c == '\r') {
      scan_prev_cr_ = true;
      continue;
    }
    if (scan_line_len_ == 0 && scan_lines_ > 0) {
      if (c == ' ' || c == '\t') {
        *reason = "obsolete line folding (obs-fold) is not accepted";
        return i;
      }
      scan_in_name_ = true;  // a header (or trailer) line starts with its field name
    }
    if (scan_in_name_) {
      if (c == ':') {
        scan_in_name_ = false;
      } else if (c == ' ' || c == '\t') {
        // RFC 9112 5.1: "Authorization : x" must be refused. llhttp 8 accepts it and keeps the
        // name with its space, which an upstream may read as the header without it.
        *reason = "whitespace between a header field name and the colon";
        return i;
      }
    }
    if (scan_lines_ > 0 && ++header_bytes_ > limits_.max_header_bytes) {
      *status = 431;
      *reason = "request header fields too large";
      return i;
    }
    if (scan_lines_ == 0) {  // the request line: method SP target SP version
      if (c == ' ') {
        if (scan_spaces_ == 0 || scan_target_len_ > 0) ++scan_spaces_;  // llhttp 8 skips a run of them
      } else if (scan_spaces_ == 1) {
        if (!validTargetByte(static_cast<unsigned char>(c))) {
          *reason = "invalid character in request target";
          return i;
        }
        if (++scan_target_len_ > limits_.max_url_bytes) {
          *status = 414;
          *reason = "request URI too long";
          return i;
        }
      }
    }
    ++scan_line_len_;
  }
  return len;
}

RequestParser::Result RequestParser::feed(const char* data, size_t len) {
  if (error_status_ != 0) return {Event::Error, len};
  if (upgraded_) {
    error_status_ = 400;
    error_reason_ = "bytes after an upgrade request";
    return {Event::Error, len};
  }
  if (paused_for_continue_) {
    paused_for_continue_ = false;
    llhttp_resume(&parser_);
  }
  size_t off = 0;
  while (true) {
    // llhttp only ever sees the bytes before the first one the scanner refuses, so whichever
    // error comes first in the stream is the one reported, however the bytes were split.
    const char* scan_error = nullptr;
    int scan_status = 400;
    size_t run = len - off;
    if (scan_active_) run = scanLines(data + off, run, &scan_status, &scan_error);
    const char* start = data + off;
    llhttp_errno_t err = run > 0 ? llhttp_execute(&parser_, start, run) : HPE_OK;
    if (err == HPE_OK) {
      if (scan_error != nullptr) {
        fail(scan_status, scan_error);
        return {Event::Error, len};
      }
      return {Event::NeedMore, len};
    }
    const size_t consumed = off + static_cast<size_t>(llhttp_get_error_pos(&parser_) - start);
    if (err == HPE_PAUSED) {
      if (paused_for_trailers_) {
        paused_for_trailers_ = false;
        llhttp_resume(&parser_);
        startLineScan(/*after_start_line=*/true);
        off = consumed;
        continue;
      }
      return {paused_for_continue_ ? Event::HeadersComplete : Event::MessageComplete, consumed};
    }
    if (err == HPE_PAUSED_UPGRADE) {
      upgraded_ = true;
      if (!started_) {
        // llhttp reports the upgrade after on_message_complete already returned the request.
        error_status_ = 400;
        error_reason_ = "bytes after an upgrade request";
        return {Event::Error, len};
      }
      // Upgrade/CONNECT: the request is complete; what follows is not HTTP/1. The connection
      // answers this request and closes.
      request_.keep_alive = false;
      return {Event::MessageComplete, consumed};
    }
    if (err == HPE_PAUSED_H2_UPGRADE) {
      error_status_ = 505;
      error_reason_ = "HTTP/2 is not supported on this port";
      return {Event::Error, len};
    }
    if (error_status_ == 0) {
      error_status_ = 400;
      const char* reason = llhttp_get_error_reason(&parser_);
      error_reason_ = std::string("malformed request: ") + (reason != nullptr ? reason : llhttp_errno_name(err));
    }
    return {Event::Error, len};
  }
}

void RequestParser::nextMessage() {
  request_.clear();
  fields_.startSection();
  started_ = false;
  headers_done_ = false;
  header_bytes_ = 0;
  chunk_ext_bytes_ = 0;
  body_limit_ = limits_.max_body_bytes;
  body_cb_ = nullptr;
  body_bytes_ = 0;
  content_length_ = -1;
  chunked_ = false;
  startLineScan(/*after_start_line=*/false);
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
}

}  // namespace aigw::http
