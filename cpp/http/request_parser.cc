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

int RequestParser::addHeaderBytes(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ > limits_.max_header_bytes) return fail(431, "request header fields too large");
  return 0;
}

int RequestParser::onMessageBegin(llhttp_t* p) {
  auto* s = self(p);
  s->started_ = true;
  return 0;
}

int RequestParser::onUrl(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  s->started_ = true;
  if (s->request_.target.size() + len > s->limits_.max_url_bytes) return s->fail(414, "request URI too long");
  s->request_.target.append(at, len);
  return 0;
}

int RequestParser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (int rc = s->addHeaderBytes(len)) return rc;
  s->field_.append(at, len);
  return 0;
}

int RequestParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (int rc = s->addHeaderBytes(len)) return rc;
  s->value_.append(at, len);
  return 0;
}

int RequestParser::onHeaderValueComplete(llhttp_t* p) {
  auto* s = self(p);
  if (s->request_.headers.size() >= s->limits_.max_headers) return s->fail(431, "too many request header fields");
  if (int rc = s->addHeaderBytes(4)) return rc;  // ": " and CRLF
  if (hasForbiddenByte(s->value_)) return s->fail(400, "invalid character in header value");
  if (s->headers_done_) {
    // A trailer field of a chunked body. Merging it into the header section would let it
    // pass every check made on the headers (and anything in front of us that inspects only
    // the headers): RFC 9110 6.5.1. Nothing here uses trailers, so drop them; their bytes
    // still count against max_header_bytes.
    s->field_.clear();
    s->value_.clear();
    return 0;
  }
  while (!s->value_.empty() && (s->value_.back() == ' ' || s->value_.back() == '\t')) s->value_.pop_back();
  toLowerAscii(s->field_);
  s->request_.headers.add(std::move(s->field_), std::move(s->value_));
  s->field_.clear();
  s->value_.clear();
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
  const bool pause = s->head_cb_ != nullptr && s->head_cb_(s->head_ctx_, *s);
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s->body_limit_) {
    return s->fail(413, "request body too large");
  }
  bool expect = false;
  if (const std::string* value = r.headers.find("expect")) {
    if (equalsIgnoreCase(*value, "100-continue") && r.http_minor >= 1) {
      r.expect_continue = true;
      const bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
      expect = has_body;
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

int RequestParser::onMessageComplete(llhttp_t* p) {
  auto* s = self(p);
  s->request_.keep_alive = llhttp_should_keep_alive(p) != 0;
  return HPE_PAUSED;
}

// llhttp 8 accepts obs-fold (a header line continued on the next line after a space or a
// tab) even without lenient flags, and hands the pieces to on_header_value as one value.
// RFC 9112 5.2 lets a server reject it with 400; a proxy must not pass it on. A line feed
// followed by a space or a tab anywhere in the header section is exactly that (or whitespace
// before the first field, also invalid), so scan the header bytes for it before llhttp sees
// them. The scan stops at the empty line that ends the header section: bodies are not scanned.
bool RequestParser::scanForObsFold(const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    const char c = data[i];
    if (c == '\n') {
      if (fold_scan_started_ && fold_line_empty_) {
        fold_scan_done_ = true;  // the empty line: end of the header section
        return false;
      }
      fold_prev_lf_ = true;
      fold_line_empty_ = true;
    } else if (c != '\r') {
      if (fold_prev_lf_ && fold_scan_started_ && (c == ' ' || c == '\t')) return true;
      fold_prev_lf_ = false;
      fold_line_empty_ = false;
      fold_scan_started_ = true;
    }
  }
  return false;
}

RequestParser::Result RequestParser::feed(const char* data, size_t len) {
  if (!fold_scan_done_ && !headers_done_ && scanForObsFold(data, len)) {
    error_status_ = 400;
    error_reason_ = "malformed request: obsolete line folding in a header field";
    return {Event::Error, len};
  }
  if (paused_for_continue_) {
    paused_for_continue_ = false;
    llhttp_resume(&parser_);
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) return {Event::NeedMore, len};
  if (err == HPE_PAUSED) {
    size_t consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    return {paused_for_continue_ ? Event::HeadersComplete : Event::MessageComplete, consumed};
  }
  if (err == HPE_PAUSED_UPGRADE) {
    // Upgrade/CONNECT: the request is complete; what follows is not HTTP/1. The connection
    // answers this request and closes.
    request_.keep_alive = false;
    size_t consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
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

void RequestParser::nextMessage() {
  request_.clear();
  field_.clear();
  value_.clear();
  started_ = false;
  headers_done_ = false;
  header_bytes_ = 0;
  chunk_ext_bytes_ = 0;
  body_limit_ = limits_.max_body_bytes;
  body_cb_ = nullptr;
  body_bytes_ = 0;
  content_length_ = -1;
  chunked_ = false;
  fold_scan_done_ = false;
  fold_scan_started_ = false;
  fold_prev_lf_ = false;
  fold_line_empty_ = true;
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
}

}  // namespace aigw::http
