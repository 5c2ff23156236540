// Reads what a server wrote to one client connection as a sequence of HTTP/1.1 responses
// (llhttp, strict), so a fuzz target can check the framing of everything it was sent. The
// caller says which responses answer HEAD (their bodies are absent whatever the head says).
#pragma once

#include <llhttp.h>

#include <cctype>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aigw::fuzz {

struct WireResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  bool complete = false;

  const std::string* header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return &v;
    }
    return nullptr;
  }
};

struct WireParse {
  std::vector<WireResponse> responses;
  bool ok = true;  // every byte belonged to a well-framed response
  std::string error;
};

// `is_head(i)`: the i-th final (non-1xx) response answers a HEAD request.
inline WireParse parseResponseStream(std::string_view wire, const std::function<bool(size_t)>& is_head) {
  struct State {
    WireParse out;
    const std::function<bool(size_t)>* is_head;
    size_t finals = 0;
    std::string field;
    bool in_value = false;
  } st;
  st.is_head = &is_head;
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = [](llhttp_t* p) {
    static_cast<State*>(p->data)->out.responses.emplace_back();
    return 0;
  };
  s.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
    auto* st = static_cast<State*>(p->data);
    if (st->in_value) st->field.clear();
    st->in_value = false;
    for (size_t i = 0; i < len; ++i) st->field.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(at[i]))));
    return 0;
  };
  s.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
    auto* st = static_cast<State*>(p->data);
    auto& headers = st->out.responses.back().headers;
    if (!st->in_value) headers.emplace_back(st->field, "");
    st->in_value = true;
    headers.back().second.append(at, len);
    return 0;
  };
  s.on_headers_complete = [](llhttp_t* p) {
    auto* st = static_cast<State*>(p->data);
    st->field.clear();
    st->in_value = false;
    WireResponse& r = st->out.responses.back();
    r.status = p->status_code;
    // 1: no body. llhttp 8 leaves the statuses that forbid one to the caller.
    if (r.status < 200 || r.status == 204 || r.status == 304) return 1;
    return (*st->is_head)(st->finals) ? 1 : 0;
  };
  s.on_body = [](llhttp_t* p, const char* at, size_t len) {
    static_cast<State*>(p->data)->out.responses.back().body.append(at, len);
    return 0;
  };
  s.on_message_complete = [](llhttp_t* p) {
    auto* st = static_cast<State*>(p->data);
    st->out.responses.back().complete = true;
    if (st->out.responses.back().status >= 200) ++st->finals;
    return 0;
  };
  llhttp_t parser;
  llhttp_init(&parser, HTTP_RESPONSE, &s);
  parser.data = &st;
  llhttp_errno_t err = llhttp_execute(&parser, wire.data(), wire.size());
  if (err == HPE_OK) err = llhttp_finish(&parser);
  if (err != HPE_OK) {
    st.out.ok = false;
    const char* reason = llhttp_get_error_reason(&parser);
    st.out.error = std::string(llhttp_errno_name(err)) + ": " + (reason != nullptr ? reason : "");
  }
  return std::move(st.out);
}

}  // namespace aigw::fuzz
