#include "http/response_framing.h"

#include <cstdio>

#include "http/response.h"

namespace aigw::http {

void ResponseFraming::begin(bool head_request, bool http10, bool keep_alive) {
  head_sent_ = chunked_ = close_delimited_ = no_body_ = ended_ = false;
  head_request_ = head_request;
  http10_ = http10;
  keep_alive_ = keep_alive;
}

void ResponseFraming::appendHead(std::string& out, int status, const HeaderList& headers, int64_t content_length,
                                 bool draining) {
  appendStatusLine(out, status);
  for (const auto& h : headers) appendHeader(out, h.name, h.value);
  appendHeader(out, "date", httpDate());
  if (content_length >= 0) {
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", static_cast<long long>(content_length));
    appendHeader(out, "content-length", std::string_view(num, static_cast<size_t>(n)));
  } else if (chunked_) {
    appendHeader(out, "transfer-encoding", "chunked");
  }
  if (draining) keep_alive_ = false;
  if (!keep_alive_) {
    appendHeader(out, "connection", "close");
  } else if (http10_) {
    appendHeader(out, "connection", "keep-alive");
  }
  out.append("\r\n");
}

bool ResponseFraming::whole(std::string& out, int status, const HeaderList& headers, std::string_view body,
                            bool draining) {
  if (ended_ || head_sent_) return false;
  out.reserve(192 + headers.size() * 48 + body.size());
  appendHead(out, status, headers, static_cast<int64_t>(body.size()), draining);
  if (!head_request_) out.append(body);
  head_sent_ = true;
  return true;
}

bool ResponseFraming::head(std::string& out, int status, const HeaderList& headers, int64_t content_length,
                           bool draining) {
  if (ended_ || head_sent_) return false;
  // No chunked framing on a bodiless answer (its last-chunk would be read as the start of the
  // next response), and no Content-Length on 1xx/204 (RFC 9110 section 8.6). A 304 may repeat
  // the length of the selected resource.
  no_body_ = status < 200 || status == 204 || status == 304;
  if (no_body_ && status != 304) content_length = -1;
  if (content_length < 0 && !no_body_) {
    if (http10_) {
      close_delimited_ = true;
      keep_alive_ = false;
    } else {
      chunked_ = true;
    }
  }
  out.reserve(192 + headers.size() * 48);
  appendHead(out, status, headers, content_length, draining);
  head_sent_ = true;
  return true;
}

bool ResponseFraming::body(std::string_view data, std::string& out) const {
  if (ended_ || !head_sent_ || head_request_ || no_body_ || data.empty()) return false;
  if (chunked_) {
    out.reserve(data.size() + 16);
    appendChunk(out, data);
  } else {
    out.assign(data);
  }
  return true;
}

bool ResponseFraming::end(std::string& out) {
  if (ended_) return false;
  ended_ = true;
  if (chunked_ && !head_request_) out.assign(kLastChunk);
  if (close_delimited_) keep_alive_ = false;
  return true;
}

void ResponseFraming::error(std::string& out, int status, const HeaderList& headers, std::string_view body,
                            bool draining) {
  keep_alive_ = false;
  head_request_ = false;
  chunked_ = false;
  appendHead(out, status, headers, static_cast<int64_t>(body.size()), draining);
  out.append(body);
}

}  // namespace aigw::http
