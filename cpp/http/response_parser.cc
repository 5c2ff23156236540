#include "http/response_parser.h"

namespace aigw::http {
namespace {
ResponseParser* self(llhttp_t* p) { return static_cast<ResponseParser*>(p->data); }
}  // namespace

ResponseParser::ResponseParser(size_t max_header_bytes) : fields_(max_header_bytes) {
  llhttp_init(&parser_, HTTP_RESPONSE, settings());
  parser_.data = this;
}

void ResponseParser::reset(Listener* listener, bool head_request) {
  listener_ = listener;
  head_request_ = head_request;
  llhttp_init(&parser_, HTTP_RESPONSE, settings());
  parser_.data = this;
  fields_.startSection();
  headers_.clear();
  informational_ = false;
  started_ = false;
  complete_ = false;
  keep_alive_ = false;
  error_.clear();
}

int ResponseParser::onMessageBegin(llhttp_t* p) {
  auto* s = self(p);
  s->started_ = true;
  s->headers_.clear();
  s->fields_.startSection();
  return 0;
}

int ResponseParser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->fields_.addNamePiece(at, len)) return 0;
  s->error_ = "response headers too large";
  return HPE_USER;
}

int ResponseParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->fields_.addValuePiece(at, len)) return 0;
  s->error_ = "response headers too large";
  return HPE_USER;
}

int ResponseParser::onHeaderValueComplete(llhttp_t* p) {
  self(p)->fields_.finishField(self(p)->headers_);
  return 0;
}

int ResponseParser::onHeadersComplete(llhttp_t* p) {
  auto* s = self(p);
  const int status = p->status_code;
  s->informational_ = status >= 100 && status < 200;
  // 1: llhttp expects no body. llhttp 8 reads one after any head that announces a length, even
  // where the status forbids a body (RFC 9112 section 6.3): a 304 may repeat the resource's
  // Content-Length, and reading that many bytes would wait for the next response's.
  if (s->informational_) return 1;
  const int64_t length = (p->flags & F_CONTENT_LENGTH) ? static_cast<int64_t>(p->content_length) : -1;
  if (s->listener_ != nullptr) s->listener_->onHead(status, s->headers_, length);
  return s->head_request_ || status == 204 || status == 304 ? 1 : 0;
}

int ResponseParser::onBody(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->listener_ != nullptr) s->listener_->onBody(std::string_view(at, len));
  return 0;
}

int ResponseParser::onMessageComplete(llhttp_t* p) {
  auto* s = self(p);
  if (s->informational_) {
    s->informational_ = false;
    s->started_ = false;
    return 0;
  }
  s->complete_ = true;
  s->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  // The listener hears about it once llhttp has returned (see deliverComplete).
  return HPE_PAUSED;  // one response per request: anything after it is not ours
}

void ResponseParser::deliverComplete() {
  if (listener_ != nullptr) listener_->onComplete(keep_alive_);
}

bool ResponseParser::feed(const char* data, size_t len) {
  if (complete_) {
    // Bytes after a complete response that nobody asked for: the connection is unusable.
    error_ = "unexpected bytes after the response";
    return false;
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) return true;
  if (err == HPE_PAUSED && complete_) {
    const size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    bool ok = true;
    if (used < len) {
      // The response itself is whole; the connection is not (it said more than it was asked).
      error_ = "unexpected bytes after the response";
      keep_alive_ = false;
      ok = false;
    }
    deliverComplete();  // last: the listener may reset() us
    return ok;
  }
  if (error_.empty()) {
    const char* reason = llhttp_get_error_reason(&parser_);
    error_ = std::string("malformed response: ") + (reason != nullptr ? reason : llhttp_errno_name(err));
  }
  return false;
}

bool ResponseParser::finish() {
  if (complete_) return true;
  if (!started_) {
    error_ = "connection closed before a response";
    return false;
  }
  llhttp_errno_t err = llhttp_finish(&parser_);
  if ((err == HPE_OK || err == HPE_PAUSED) && complete_) {
    deliverComplete();
    return true;
  }
  error_ = "connection closed in the middle of the response";
  return false;
}

const llhttp_settings_t* ResponseParser::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = &ResponseParser::onMessageBegin;
    st.on_header_field = &ResponseParser::onHeaderField;
    st.on_header_value = &ResponseParser::onHeaderValue;
    st.on_header_value_complete = &ResponseParser::onHeaderValueComplete;
    st.on_headers_complete = &ResponseParser::onHeadersComplete;
    st.on_body = &ResponseParser::onBody;
    st.on_message_complete = &ResponseParser::onMessageComplete;
    return st;
  }();
  return &s;
}

}  // namespace aigw::http
