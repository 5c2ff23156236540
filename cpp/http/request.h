// A parsed HTTP/1.x request as the pipeline sees it: method, target, headers, whole body.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.h"

namespace aigw::http {

struct Request {
  std::string method;   // as sent, e.g. "POST"
  std::string target;   // request-target as sent, e.g. "/v1/chat/completions?x=1"
  HeaderList headers;
  std::string body;     // de-chunked
  uint8_t http_major = 1;
  uint8_t http_minor = 1;
  bool keep_alive = true;
  bool expect_continue = false;
  bool upgrade = false;
  bool body_streamed = false;  // the body follows the head (RequestHandler::onRequestBody)

  std::string_view path() const {
    std::string_view t = target;
    size_t q = t.find('?');
    return q == std::string_view::npos ? t : t.substr(0, q);
  }
  std::string_view query() const {
    std::string_view t = target;
    size_t q = t.find('?');
    return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
  }
  void clear() {
    method.clear();
    target.clear();
    headers.clear();
    body.clear();
    http_major = http_minor = 1;
    keep_alive = true;
    expect_continue = false;
    upgrade = false;
    body_streamed = false;
  }
};

}  // namespace aigw::http
