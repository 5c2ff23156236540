// Splits raw bytes read from a server into HTTP/1.1 responses (status, headers, de-chunked
// body) so tests can count responses and check each one. Independent of the code under test.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace aigw::testing {

struct ParsedResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  bool chunked = false;
  bool complete = false;

  size_t count(const std::string& name) const {
    size_t n = 0;
    for (const auto& h : headers) n += h.first == name ? 1 : 0;
    return n;
  }
  bool has(const std::string& name) const { return count(name) > 0; }
  std::string header(const std::string& name) const {
    for (const auto& h : headers) {
      if (h.first == name) return h.second;
    }
    return {};
  }
};

// Parses every response in `raw`. `no_body[i]` marks the i-th final response as an answer to
// HEAD. A response without Content-Length or chunked framing runs to the end of `raw`.
// `leftover` (optional) receives the bytes after the last complete response.
inline std::vector<ParsedResponse> parseResponses(const std::string& raw, const std::vector<bool>& no_body = {},
                                                  std::string* leftover = nullptr) {
  std::vector<ParsedResponse> out;
  size_t pos = 0;
  size_t final_index = 0;
  while (pos < raw.size()) {
    const size_t head_end = raw.find("\r\n\r\n", pos);
    if (head_end == std::string::npos) break;
    ParsedResponse r;
    const std::string head = raw.substr(pos, head_end - pos);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) break;
    r.status = std::atoi(status_line.c_str() + 9);
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers.emplace_back(name, line.substr(v));
    }
    size_t body_start = head_end + 4;
    const bool interim = r.status >= 100 && r.status < 200;
    const bool head_request = !interim && final_index < no_body.size() && no_body[final_index];
    if (interim || head_request || r.status == 204 || r.status == 304) {
      r.complete = true;
      pos = body_start;
    } else if (r.has("content-length")) {
      const size_t len = std::strtoull(r.header("content-length").c_str(), nullptr, 10);
      if (raw.size() - body_start < len) {
        r.body = raw.substr(body_start);
        out.push_back(std::move(r));
        pos = raw.size();
        break;
      }
      r.body = raw.substr(body_start, len);
      r.complete = true;
      pos = body_start + len;
    } else if (r.header("transfer-encoding") == "chunked") {
      r.chunked = true;
      size_t p = body_start;
      while (true) {
        const size_t eol = raw.find("\r\n", p);
        if (eol == std::string::npos) break;
        const size_t size = std::strtoull(raw.substr(p, eol - p).c_str(), nullptr, 16);
        if (size == 0) {
          if (raw.compare(eol, 4, "\r\n\r\n") == 0) {
            r.complete = true;
            p = eol + 4;
          }
          break;
        }
        if (raw.size() < eol + 2 + size + 2) break;
        r.body.append(raw, eol + 2, size);
        p = eol + 2 + size + 2;
      }
      pos = r.complete ? p : raw.size();
    } else {
      r.body = raw.substr(body_start);
      pos = raw.size();
    }
    if (!interim) ++final_index;
    const bool done = r.complete;
    out.push_back(std::move(r));
    if (!done) break;
  }
  if (leftover != nullptr) *leftover = pos < raw.size() ? raw.substr(pos) : std::string();
  return out;
}

}  // namespace aigw::testing
